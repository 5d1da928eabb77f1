import type { ParticipantView } from "../api/types";
import { Avatar } from "../components/Avatar";
import { UserName } from "../components/UserName";

interface Props {
  requests: ParticipantView[];
  onAnswer: (p: ParticipantView, approve: boolean) => void;
  busy: boolean;
  error: string | null;
}

/** Requests to speak, for the host and co-hosts. */
export function Requests({ requests, onAnswer, busy, error }: Props) {
  return (
    <section className="requests" aria-labelledby="requests-heading">
      <h2 id="requests-heading">
        Requests to speak <span className="count">{requests.length}</span>
      </h2>
      {requests.length === 0 ? (
        <p className="muted">No requests right now.</p>
      ) : (
        <ul className="request-list">
          {requests.map((p) => (
            <li key={p.user.id} className="request">
              <Avatar user={p.user} size="sm" />
              <UserName user={p.user} />
              <span className="request-actions">
                <button
                  type="button"
                  className="button button-small button-primary"
                  aria-label={`Approve ${p.user.display_name}`}
                  disabled={busy}
                  onClick={() => onAnswer(p, true)}
                >
                  Approve
                </button>
                <button
                  type="button"
                  className="button button-small"
                  aria-label={`Deny ${p.user.display_name}`}
                  disabled={busy}
                  onClick={() => onAnswer(p, false)}
                >
                  Deny
                </button>
              </span>
            </li>
          ))}
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
