import { useState } from "react";
import { errorMessage } from "../api/problem";
import { Link, navigate, usePathname } from "../router";
import { useSession } from "../session";

export function Header() {
  const { me, loading, signOut } = useSession();
  const pathname = usePathname();
  const [error, setError] = useState<string | null>(null);

  async function onSignOut() {
    setError(null);
    try {
      await signOut();
      navigate("/");
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  return (
    <header className="site-header">
      <nav className="site-nav" aria-label="Main">
        <Link href="/" className="brand">
          <span aria-hidden="true">◉</span> Salon
        </Link>
        <div className="nav-right">
          {/* Home has its own "Start a space" link; one per page keeps the name unambiguous. */}
          {pathname !== "/" && (
            <Link href="/spaces/new" className="button button-primary button-small">
              Start a space
            </Link>
          )}
          {loading ? null : me ? (
            <>
              <Link href={`/users/${encodeURIComponent(me.handle)}`} className="nav-me">
                {me.display_name}
              </Link>
              <button type="button" className="button button-ghost button-small" onClick={onSignOut}>
                Sign out
              </button>
            </>
          ) : (
            <>
              <Link href="/signin" className="nav-link">
                Sign in
              </Link>
              <Link href="/signup" className="nav-link">
                Sign up
              </Link>
            </>
          )}
        </div>
      </nav>
      {error && (
        <p className="form-error header-error" role="alert">
          {error}
        </p>
      )}
    </header>
  );
}
