import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import { ApiError, formErrorMessage } from "../api/problem";
import { FormError } from "../components/FormError";
import { localInputToIso, parseTopics, toLocalInput } from "../lib/time";
import { useTitle } from "../lib/useTitle";
import { Link, navigate } from "../router";
import { useSession } from "../session";

const HOUR_MS = 3600_000;

export function NewSpace() {
  useTitle("Start a space");
  const { me, loading } = useSession();
  const [title, setTitle] = useState("");
  const [topics, setTopics] = useState("");
  const [when, setWhen] = useState<"now" | "later">("now");
  const [startTime, setStartTime] = useState(() => toLocalInput(new Date(Date.now() + HOUR_MS)));
  const [recording, setRecording] = useState(false);
  const [error, setError] = useState<{ message: string; forbidden: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  if (loading) return <main className="page narrow" id="main" />;
  if (!me) {
    return (
      <main className="page narrow" id="main">
        <h1>Start a space</h1>
        <p>
          <Link href="/signin?next=/spaces/new">Sign in</Link> or{" "}
          <Link href="/signup?next=/spaces/new">create an account</Link> to host a space.
        </p>
      </main>
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    let scheduledFor: string | undefined;
    if (when === "later") {
      const iso = localInputToIso(startTime);
      if (!iso) {
        setError({ message: "Pick a start time.", forbidden: false });
        return;
      }
      scheduledFor = iso;
    }
    setBusy(true);
    try {
      const space = await api.createSpace({
        title: title.trim(),
        topics: parseTopics(topics),
        recording,
        ...(scheduledFor ? { scheduled_for: scheduledFor } : {}),
      });
      navigate(`/spaces/${encodeURIComponent(space.id)}`);
    } catch (e) {
      setError({
        message: formErrorMessage(e, {
          title: "A title is 1 to 70 characters.",
          topics: "Up to 3 topics of 1 to 30 characters each.",
        }),
        forbidden: e instanceof ApiError && e.status === 403,
      });
      setBusy(false);
    }
  }

  return (
    <main className="page narrow" id="main">
      <h1>Start a space</h1>
      <form className="form" noValidate onSubmit={submit}>
        <label htmlFor="space-title">Title</label>
        <input
          id="space-title"
          required
          maxLength={70}
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          placeholder="What do you want to talk about?"
        />
        <label htmlFor="space-topics">Topics</label>
        <input
          id="space-topics"
          aria-describedby="space-topics-hint"
          value={topics}
          onChange={(e) => setTopics(e.target.value)}
          placeholder="music, tech, news"
        />
        <p className="hint" id="space-topics-hint">
          Up to 3, separated by commas.
        </p>
        <fieldset className="choice">
          <legend>When</legend>
          <label className="inline">
            <input
              type="radio"
              name="when"
              value="now"
              checked={when === "now"}
              onChange={() => setWhen("now")}
            />
            Start now
          </label>
          <label className="inline">
            <input
              type="radio"
              name="when"
              value="later"
              checked={when === "later"}
              onChange={() => setWhen("later")}
            />
            Schedule
          </label>
        </fieldset>
        {when === "later" && (
          <>
            <label htmlFor="space-start">Start time</label>
            <input
              id="space-start"
              type="datetime-local"
              required
              value={startTime}
              min={toLocalInput(new Date())}
              max={toLocalInput(new Date(Date.now() + 14 * 24 * HOUR_MS))}
              onChange={(e) => setStartTime(e.target.value)}
              aria-describedby="space-start-hint"
            />
            <p className="hint" id="space-start-hint">
              Your local time; up to 14 days ahead.
            </p>
          </>
        )}
        <label className="inline checkbox">
          <input
            type="checkbox"
            checked={recording}
            onChange={(e) => setRecording(e.target.checked)}
          />
          Record this space
        </label>
        {error &&
          (error.forbidden ? (
            <div className="notice notice-warn" role="alert">
              <strong>You can’t host yet.</strong> {error.message}
            </div>
          ) : (
            <FormError message={error.message} />
          ))}
        <button type="submit" className="button button-primary" disabled={busy}>
          {when === "now" ? "Start space" : "Schedule space"}
        </button>
      </form>
    </main>
  );
}
