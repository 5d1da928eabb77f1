import { useEffect, useState, type FormEvent } from "react";
import { api } from "../api/client";
import { formErrorMessage } from "../api/problem";
import { FormError } from "../components/FormError";
import { useTitle } from "../lib/useTitle";
import { Link } from "../router";
import { useSession } from "../session";
import { DeliverySettings } from "../notifications/DeliverySettings";
import { textLength, tooLong } from "../lib/text";

export function Settings() {
  useTitle("Edit profile");
  const { me, loading, setMe } = useSession();
  const [displayName, setDisplayName] = useState("");
  const [bio, setBio] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (me) {
      setDisplayName(me.display_name);
      setBio(me.bio);
    }
  }, [me?.id]); // only when the account changes, not on every save

  if (loading) return <main className="page narrow" id="main" />;
  if (!me) {
    return (
      <main className="page narrow" id="main">
        <h1>Edit profile</h1>
        <p>
          <Link href="/signin?next=/settings">Sign in</Link> to edit your profile.
        </p>
      </main>
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const long = tooLong(displayName, 50, "A display name") ?? tooLong(bio, 160, "A bio");
    if (long) {
      setError(long);
      return;
    }
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      setMe(await api.updateMe({ display_name: displayName.trim(), bio: bio.trim() }));
      setSaved(true);
    } catch (e) {
      setError(
        formErrorMessage(e, {
          display_name: "A display name is 1 to 50 characters.",
          bio: "A bio is at most 160 characters.",
        }),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="page narrow" id="main">
      <h1>Edit profile</h1>
      <form className="form" noValidate onSubmit={submit}>
        <label htmlFor="settings-name">Display name</label>
        <input
          id="settings-name"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
        />
        <label htmlFor="settings-bio">Bio</label>
        <textarea
          id="settings-bio"
          rows={3}
          aria-describedby="settings-bio-count"
          value={bio}
          onChange={(e) => setBio(e.target.value)}
        />
        <p className="hint" id="settings-bio-count">
          {textLength(bio)}/160
        </p>
        <FormError message={error} />
        <p className="form-ok" role="status">
          {saved ? "Saved." : ""}
        </p>
        <div className="form-row">
          <button type="submit" className="button button-primary" disabled={busy}>
            Save
          </button>
          <Link href={`/users/${encodeURIComponent(me.handle)}`}>View profile</Link>
        </div>
      </form>
      <DeliverySettings />
      <ul className="settings-links">
        <li>
          <Link href="/tickets">My tickets</Link>
        </li>
        <li>
          <Link href="/settings/tokens">API tokens</Link>{" "}
          <span className="muted small">for scripts and bots</span>
        </li>
      </ul>
    </main>
  );
}
