import { useEffect, useRef, useState, type FormEvent } from "react";
import { api } from "../api/client";
import { errorMessage, formErrorMessage } from "../api/problem";
import type { ApiTokenView, NewApiToken } from "../api/types";
import { FormError } from "../components/FormError";
import { textLength, tooLong } from "../lib/text";
import { formatWhen } from "../lib/time";
import { useTitle } from "../lib/useTitle";
import { Link } from "../router";
import { useSession } from "../session";

/** The server's limit on a token's name (src/salon/api/schemas.py ApiTokenIn). */
const NAME_MAX = 50;

/** Personal API tokens: make one (its secret shown once), see them, revoke one. */
export function Tokens() {
  useTitle("API tokens");
  const { me, loading } = useSession();
  const [tokens, setTokens] = useState<ApiTokenView[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [created, setCreated] = useState<NewApiToken | null>(null);

  async function reload() {
    try {
      setTokens(await api.tokens());
      setLoadError(null);
    } catch (e) {
      setLoadError(errorMessage(e));
    }
  }

  useEffect(() => {
    if (me) void reload();
  }, [me?.id]);

  if (loading) return <main className="page narrow" id="main" />;
  if (!me) {
    return (
      <main className="page narrow" id="main">
        <h1>API tokens</h1>
        <p>
          <Link href="/signin?next=/settings/tokens">Sign in</Link> to manage your API tokens.
        </p>
      </main>
    );
  }

  return (
    <main className="page narrow tokens-page" id="main">
      <p className="small">
        <Link href="/settings">← Settings</Link>
      </p>
      <h1>API tokens</h1>
      <p className="muted">
        A personal token lets a script or bot act as you: send it as{" "}
        <code>Authorization: Bearer …</code>. Anyone holding it can do what you can, so keep it
        secret and revoke it when it is no longer needed.
      </p>
      <CreateToken
        onCreated={(token) => {
          setCreated(token);
          void reload();
        }}
      />
      {created && <NewTokenSecret token={created} onDone={() => setCreated(null)} />}
      <section aria-labelledby="tokens-heading">
        <h2 id="tokens-heading">Your tokens</h2>
        <FormError message={loadError} />
        {tokens === null ? (
          !loadError && <p className="muted">Loading…</p>
        ) : tokens.length === 0 ? (
          <p className="muted">You have no API tokens.</p>
        ) : (
          <ul className="token-list">
            {tokens.map((token) => (
              <TokenItem
                key={token.id}
                token={token}
                onRevoked={() => {
                  if (created?.id === token.id) setCreated(null);
                  void reload();
                }}
              />
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}

function CreateToken({ onCreated }: { onCreated: (token: NewApiToken) => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem =
      textLength(name) === 0 ? "Give the token a label." : tooLong(name, NAME_MAX, "A label");
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onCreated(await api.createToken(name.trim()));
      setName("");
    } catch (e) {
      setError(formErrorMessage(e, { name: `A label is 1 to ${NAME_MAX} characters.` }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" noValidate onSubmit={submit} aria-labelledby="new-token-heading">
      <h2 id="new-token-heading">New token</h2>
      <label htmlFor="token-name">Token label</label>
      <input
        id="token-name"
        value={name}
        placeholder="e.g. my recording bot"
        aria-describedby="token-name-hint"
        onChange={(e) => setName(e.target.value)}
      />
      <p className="hint" id="token-name-hint">
        What it is for, so you know which one to revoke. {textLength(name)}/{NAME_MAX}
      </p>
      <FormError message={error} />
      <div className="form-row">
        <button type="submit" className="button button-primary" disabled={busy}>
          Create token
        </button>
      </div>
    </form>
  );
}

/** The one time the secret is on screen. */
function NewTokenSecret({ token, onDone }: { token: NewApiToken; onDone: () => void }) {
  const secret = useRef<HTMLElement>(null);
  const [copy, setCopy] = useState<"idle" | "copied" | "failed">("idle");

  async function copySecret() {
    try {
      await navigator.clipboard.writeText(token.token);
      setCopy("copied");
    } catch {
      // No clipboard (an insecure origin, a refused permission): select it for the person.
      const range = document.createRange();
      if (secret.current) range.selectNodeContents(secret.current);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      setCopy("failed");
    }
  }

  return (
    <section className="new-token" aria-labelledby="new-token-secret-heading">
      <h2 id="new-token-secret-heading">Token “{token.name}” created</h2>
      <p className="new-token-warning">
        <strong>Copy it now: you won’t see it again.</strong> Salon keeps only a fingerprint of
        it; if you lose it, revoke it and make another.
      </p>
      <div className="new-token-secret">
        <code ref={secret} data-testid="new-token" aria-label="Your new token">
          {token.token}
        </code>
        <button type="button" className="button button-small" onClick={copySecret}>
          Copy
        </button>
      </div>
      <p className="small" role="status">
        {copy === "copied"
          ? "Copied to the clipboard."
          : copy === "failed"
            ? "Could not reach the clipboard: the token is selected, copy it yourself."
            : ""}
      </p>
      <button type="button" className="button button-ghost button-small" onClick={onDone}>
        I have copied it
      </button>
    </section>
  );
}

function TokenItem({ token, onRevoked }: { token: ApiTokenView; onRevoked: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      await api.revokeToken(token.id);
      onRevoked();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <li className="token-item" aria-label={`Token ${token.name}`}>
      <div className="token-item-head">
        <span className="token-name">{token.name}</span>
        {!confirming && (
          <button
            type="button"
            className="button button-ghost button-small"
            onClick={() => setConfirming(true)}
          >
            Revoke
          </button>
        )}
      </div>
      <span className="muted small">
        Created {formatWhen(token.created_at)} ·{" "}
        {token.last_used_at ? `last used ${formatWhen(token.last_used_at)}` : "never used"}
      </span>
      {confirming && (
        <div className="confirm" role="group" aria-label={`Revoke ${token.name}?`}>
          <p>Revoke “{token.name}”? Anything using it is refused from now on.</p>
          <div className="form-row">
            <button type="button" className="button button-danger button-small" disabled={busy} onClick={revoke}>
              Revoke token
            </button>
            <button
              type="button"
              className="button button-ghost button-small"
              disabled={busy}
              onClick={() => setConfirming(false)}
            >
              Cancel
            </button>
          </div>
        </div>
      )}
      <FormError message={error} />
    </li>
  );
}
