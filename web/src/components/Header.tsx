import { useEffect, useState } from "react";
import { api } from "../api/client";
import { errorMessage } from "../api/problem";
import type { Me } from "../api/types";
import { NotificationBell } from "../notifications/NotificationBell";
import { Link, navigate, usePathname } from "../router";
import { useSession } from "../session";

export function Header() {
  const { me, loading, signOut } = useSession();
  const pathname = usePathname();
  const [error, setError] = useState<string | null>(null);
  const sells = useSellsTickets(me);

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
              {me.is_admin && (
                <Link href="/admin" className="nav-link">
                  Admin
                </Link>
              )}
              {sells && (
                <Link href="/tickets" className="nav-link">
                  Ticket sales
                </Link>
              )}
              <NotificationBell userId={me.id} />
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

/** Whether to offer "Ticket sales": the person may sell tickets (granted or eligible), or has. */
function useSellsTickets(me: Me | null): boolean {
  const [sells, setSells] = useState(false);
  useEffect(() => {
    setSells(me?.can_sell_tickets ?? false);
    if (!me || me.can_sell_tickets) return;
    let cancelled = false;
    (async () => {
      const eligibility = await api.ticketEligibility();
      if (eligibility.eligible) return true;
      const statement = await api.ticketStatement();
      return statement.spaces.length > 0;
    })().then(
      (yes) => !cancelled && setSells(yes),
      () => undefined, // the header does without it
    );
    return () => {
      cancelled = true;
    };
  }, [me]);
  return sells;
}
