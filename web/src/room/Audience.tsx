import type { ParticipantView, Role } from "../api/types";
import { Avatar } from "../components/Avatar";
import { CloseIcon } from "../components/icons";
import { UserName } from "../components/UserName";
import { handsRaised, listening } from "../lib/audience";
import { FloatingReactions } from "./FloatingReactions";
import { mayActOn } from "./permissions";
import type { FloatingReaction } from "./reducer";

interface Props {
  /** The listeners this viewer knows by name: everyone for the event stream, only oneself
   * for the audience view (which counts the audience but names no one). */
  listeners: ParticipantView[];
  /** Listeners not on the stage (the server's audience_count). */
  count: number;
  /** How many of them raised a hand (the view's count, or the stream's listeners counted). */
  hands: number;
  meId: number | null;
  viewerRole: Role | null;
  reactions: FloatingReaction[];
  /** A sender's name, when this viewer knows it (the audience view names no listener). */
  nameOf: (userId: number) => string | null;
  onInvite: (p: ParticipantView) => void;
  onRemove: (p: ParticipantView) => void;
  busy: boolean;
  error: string | null;
}

export function Audience({
  listeners,
  count,
  hands,
  meId,
  viewerRole,
  reactions,
  nameOf,
  onInvite,
  onRemove,
  busy,
  error,
}: Props) {
  return (
    <section className="audience" aria-labelledby="audience-heading">
      <FloatingReactions reactions={reactions} nameOf={nameOf} />
      <h2 id="audience-heading">
        Audience <span className="count" data-testid="audience-count">{count}</span>
      </h2>
      {hands > 0 && (
        <p className="muted small" data-testid="hands-raised">
          <span aria-hidden="true">✋ </span>
          {handsRaised(hands)}
        </p>
      )}
      {listeners.length === 0 ? (
        <p className="muted">{count === 0 ? "No listeners yet." : `${listening(count)}.`}</p>
      ) : (
        <ul className="audience-list">
          {listeners.map((p) => {
            const name = p.user.display_name;
            const isMe = p.user.id === meId;
            return (
              <li key={p.user.id} className="audience-member">
                <Avatar user={p.user} size="sm" />
                <UserName user={p.user} />
                {isMe && <span className="tag">you</span>}
                {p.hand_raised && (
                  <span className="tag tag-hand" role="img" aria-label="Asked to speak">
                    ✋
                  </span>
                )}
                {p.invited && <span className="tag">Invited</span>}
                <span className="audience-actions">
                  {!isMe && mayActOn(viewerRole, "invite", p.role) && !p.invited && (
                    <button
                      type="button"
                      className="button button-small"
                      aria-label={`Invite ${name} to speak`}
                      disabled={busy}
                      onClick={() => onInvite(p)}
                    >
                      Invite
                    </button>
                  )}
                  {!isMe && mayActOn(viewerRole, "remove", p.role) && (
                    <button
                      type="button"
                      className="icon-button icon-button-danger"
                      aria-label={`Remove ${name}`}
                      title={`Remove ${name} from the space`}
                      disabled={busy}
                      onClick={() => onRemove(p)}
                    >
                      <CloseIcon />
                    </button>
                  )}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
