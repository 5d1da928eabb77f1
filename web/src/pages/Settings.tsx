import { useEffect, useState, type FormEvent } from "react";
import { api } from "../api/client";
import { errorMessage, formErrorMessage } from "../api/problem";
import type { Me } from "../api/types";
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
      <LiveNotifications me={me} setMe={setMe} />
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

/** "Tell me when people I follow go live": one switch for every host, saved as it changes. */
function LiveNotifications({ me, setMe }: { me: Me; setMe: (me: Me) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  // Shown at once as it is clicked; back to the account's value if saving fails.
  const [on, setOn] = useState(me.notify_live);
  useEffect(() => setOn(me.notify_live), [me.notify_live]);

  async function change(next: boolean) {
    setOn(next);
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      setMe(await api.updateMe({ notify_live: next }));
      setSaved(true);
    } catch (e) {
      setOn(me.notify_live);
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="form settings-notifications" aria-labelledby="settings-notifications">
      <h2 id="settings-notifications">Notifications</h2>
      <label className="inline" htmlFor="settings-notify-live">
        <input
          id="settings-notify-live"
          type="checkbox"
          aria-describedby="settings-notify-live-hint"
          checked={on}
          disabled={busy}
          onChange={(e) => void change(e.target.checked)}
        />
        Tell me when people I follow go live
      </label>
      <p className="hint" id="settings-notify-live-hint">
        For everyone you follow. To hear less from one host, use the bell on their profile.
      </p>
      <FormError message={error} />
      <p className="form-ok" role="status">
        {saved ? "Saved." : ""}
      </p>
    </section>
  );
}
