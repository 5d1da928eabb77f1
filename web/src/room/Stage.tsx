import type { ParticipantView, Role } from "../api/types";
import type { FloatingReaction } from "./reducer";
import { StageMember, type MemberCommands } from "./StageMember";

interface Props {
  members: ParticipantView[];
  speaking: number[];
  meId: number | null;
  viewerRole: Role | null;
  reactions: FloatingReaction[];
  commands: MemberCommands;
  busy: boolean;
  error: string | null;
}

export function Stage({ members, speaking, meId, viewerRole, reactions, commands, busy, error }: Props) {
  return (
    <section className="stage" aria-labelledby="stage-heading">
      <h2 id="stage-heading">
        Stage <span className="count">{members.length}</span>
      </h2>
      {members.length === 0 ? (
        <p className="muted">Nobody is on the stage.</p>
      ) : (
        <ul className="stage-grid">
          {members.map((p) => (
            <StageMember
              key={p.user.id}
              participant={p}
              speaking={speaking.includes(p.user.id)}
              isMe={p.user.id === meId}
              viewerRole={viewerRole}
              reactions={reactions.filter((r) => r.user_id === p.user.id)}
              commands={commands}
              busy={busy}
            />
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
