import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import { formErrorMessage } from "../api/problem";
import { FormError } from "../components/FormError";
import { useTitle } from "../lib/useTitle";
import { Link, navigate } from "../router";
import { useSession } from "../session";
import { CharCount } from "../components/CharCount";

const PLAINER: Record<string, string> = {
  handle: "A handle is 1 to 15 letters, digits or underscores.",
  display_name: "A display name is 1 to 50 characters.",
  password: "A password is 8 to 256 characters.",
};

/** Where to go after signing in: back to the page that sent us here, else home. */
function nextPath(): string {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function SignIn() {
  useTitle("Sign in");
  const { setMe } = useSession();
  const [handle, setHandle] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setMe(await api.signIn({ handle: handle.trim().replace(/^@/, ""), password }));
      navigate(nextPath(), { replace: true });
    } catch (e) {
      setError(formErrorMessage(e, PLAINER));
      setBusy(false);
    }
  }

  return (
    <main className="page narrow" id="main">
      <h1>Sign in</h1>
      <form className="form" noValidate onSubmit={submit} aria-describedby={error ? "signin-error" : undefined}>
        <label htmlFor="signin-handle">Handle</label>
        <input
          id="signin-handle"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={handle}
          onChange={(e) => setHandle(e.target.value)}
        />
        <label htmlFor="signin-password">Password</label>
        <input
          id="signin-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <FormError message={error} id="signin-error" />
        <button type="submit" className="button button-primary" disabled={busy}>
          Sign in
        </button>
      </form>
      <p className="muted">
        New here? <Link href="/signup">Create an account</Link>.
      </p>
    </main>
  );
}

export function SignUp() {
  useTitle("Sign up");
  const { setMe } = useSession();
  const [handle, setHandle] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // What is sent, as it is counted: nothing is cut; what is too long, the server refuses.
  const sentHandle = handle.trim().replace(/^@/, "");

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setMe(
        await api.register({
          handle: sentHandle,
          display_name: displayName.trim(),
          password,
        }),
      );
      navigate(nextPath(), { replace: true });
    } catch (e) {
      setError(formErrorMessage(e, PLAINER));
      setBusy(false);
    }
  }

  return (
    <main className="page narrow" id="main">
      <h1>Create your account</h1>
      <form className="form" noValidate onSubmit={submit} aria-describedby={error ? "signup-error" : undefined}>
        <label htmlFor="signup-handle">Handle</label>
        <input
          id="signup-handle"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          aria-describedby="signup-handle-hint"
          value={handle}
          onChange={(e) => setHandle(e.target.value)}
        />
        <p className="hint" id="signup-handle-hint">
          1–15 letters, digits or underscores. <CharCount value={sentHandle} max={15} />
        </p>
        <label htmlFor="signup-name">Display name</label>
        <input
          id="signup-name"
          autoComplete="name"
          required
          aria-describedby="signup-name-hint"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
        />
        <p className="hint" id="signup-name-hint">
          Up to 50 characters. <CharCount value={displayName} max={50} />
        </p>
        <label htmlFor="signup-password">Password</label>
        <input
          id="signup-password"
          type="password"
          autoComplete="new-password"
          required
          aria-describedby="signup-password-hint"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <p className="hint" id="signup-password-hint">
          At least 8 characters.
        </p>
        <FormError message={error} id="signup-error" />
        <button type="submit" className="button button-primary" disabled={busy}>
          Sign up
        </button>
      </form>
      <p className="muted">
        Already have an account? <Link href="/signin">Sign in</Link>.
      </p>
    </main>
  );
}
