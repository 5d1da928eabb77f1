import { useState } from "react";
import { api } from "../api/client";
import { errorMessage } from "../api/problem";
import type { SpaceView } from "../api/types";
import { listening } from "../lib/audience";
import { ticketBadgeText } from "../lib/tickets";
import { formatWhen } from "../lib/time";
import { Link } from "../router";
import { useSession } from "../session";
import { Avatar } from "./Avatar";
import { UserName } from "./UserName";
import { VerifiedBadge } from "./VerifiedBadge";

const STAGE_PREVIEW = 5;

export function SpaceCard({ space }: { space: SpaceView }) {
  const href = `/spaces/${encodeURIComponent(space.id)}`;
  const live = space.state === "live";
  const onStage = space.stage.filter((p) => p.present);
  const titleId = `space-${space.id}-title`;
  return (
    <article className={`space-card ${live ? "space-card-live" : ""}`} aria-labelledby={titleId}>
      <div className="space-card-top">
        {live ? (
          <span className="pill pill-live">LIVE</span>
        ) : (
          space.state === "scheduled" && (
            <span className="pill pill-scheduled" data-testid="space-card-when">
              Scheduled{space.scheduled_for ? ` · ${formatWhen(space.scheduled_for)}` : ""}
            </span>
          )
        )}
        {space.recording && <span className="pill pill-muted">Recorded</span>}
        {space.ticket && <span className="pill pill-ticket">{ticketBadgeText(space.ticket)}</span>}
        {space.ticket?.have_ticket && <span className="pill pill-ok">Your ticket</span>}
      </div>
      <h3 id={titleId} className="space-card-title">
        <Link href={href}>{space.title}</Link>
      </h3>
      {space.topics.length > 0 && (
        <ul className="topics" aria-label="Topics">
          {space.topics.map((t) => (
            <li key={t} className="topic">
              {t}
            </li>
          ))}
        </ul>
      )}
      <p className="space-card-host">
        Hosted by <UserName user={space.host} />
      </p>
      {live && (
        <>
          {onStage.length > 0 && (
            <ul className="stage-preview" aria-label="On stage">
              {onStage.slice(0, STAGE_PREVIEW).map((p) => (
                <li key={p.user.id} className="stage-preview-member">
                  <Avatar user={p.user} size="sm" />
                  <span>{p.user.display_name}</span>
                  <VerifiedBadge verified={p.user.verified} />
                </li>
              ))}
              {onStage.length > STAGE_PREVIEW && (
                <li className="stage-preview-more">+{onStage.length - STAGE_PREVIEW} more</li>
              )}
            </ul>
          )}
          <p className="space-card-count">
            <span aria-hidden="true">🎧 </span>
            {listening(space.audience_count)}
          </p>
        </>
      )}
      {space.state === "scheduled" && <ReminderToggle space={space} />}
    </article>
  );
}

export function ReminderToggle({ space }: { space: SpaceView }) {
  const { me } = useSession();
  const [on, setOn] = useState(space.reminder_set);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!me) {
    return (
      <p className="muted small">
        <Link href="/signin">Sign in</Link> to set a reminder.
      </p>
    );
  }
  async function toggle() {
    setBusy(true);
    setError(null);
    try {
      const updated = await api.setReminder(space.id, !on);
      setOn(updated.reminder_set);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="reminder">
      <button
        type="button"
        className={`button button-small ${on ? "button-on" : ""}`}
        disabled={busy}
        onClick={toggle}
      >
        {on ? "Reminder set" : "Remind me"}
      </button>
      {error && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
