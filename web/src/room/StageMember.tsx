import type { ParticipantView, Role } from "../api/types";
import { Avatar } from "../components/Avatar";
import { ArrowDownIcon, CloseIcon, MicOffIcon, StarIcon } from "../components/icons";
import { VerifiedBadge } from "../components/VerifiedBadge";
import { Link } from "../router";
import { FloatingReactions } from "./FloatingReactions";
import { mayActOn } from "./permissions";
import type { FloatingReaction } from "./reducer";

const ROLE_LABEL: Record<Role, string> = {
  host: "Host",
  cohost: "Co-host",
  speaker: "Speaker",
  listener: "Listener",
};

export interface MemberCommands {
  mute: (p: ParticipantView) => void;
  moveToAudience: (p: ParticipantView) => void;
  remove: (p: ParticipantView) => void;
  setCohost: (p: ParticipantView, on: boolean) => void;
}

interface Props {
  participant: ParticipantView;
  speaking: boolean;
  isMe: boolean;
  viewerRole: Role | null;
  reactions: FloatingReaction[];
  commands: MemberCommands;
  busy: boolean;
}

export function StageMember({ participant: p, speaking, isMe, viewerRole, reactions, commands, busy }: Props) {
  const name = p.user.display_name;
  const can = (action: Parameters<typeof mayActOn>[1]) => !isMe && mayActOn(viewerRole, action, p.role);
  const actions = [
    can("mute") && (
      <button
        key="mute"
        type="button"
        className="icon-button"
        aria-label={`Mute ${name}`}
        title={p.muted ? `${name} is muted` : `Mute ${name}`}
        disabled={busy || p.muted}
        onClick={() => commands.mute(p)}
      >
        <MicOffIcon />
      </button>
    ),
    can("move_to_audience") && (
      <button
        key="move"
        type="button"
        className="icon-button"
        aria-label={`Move ${name} to audience`}
        title={`Move ${name} to audience`}
        disabled={busy}
        onClick={() => commands.moveToAudience(p)}
      >
        <ArrowDownIcon />
      </button>
    ),
    can("appoint_cohost") && (
      <button
        key="cohost"
        type="button"
        className="icon-button"
        aria-label={`Make ${name} co-host`}
        title={`Make ${name} co-host`}
        disabled={busy}
        onClick={() => commands.setCohost(p, true)}
      >
        <StarIcon />
      </button>
    ),
    can("dismiss_cohost") && (
      <button
        key="dismiss"
        type="button"
        className="icon-button"
        aria-label={`Dismiss ${name} as co-host`}
        title={`Dismiss ${name} as co-host`}
        disabled={busy}
        onClick={() => commands.setCohost(p, false)}
      >
        <StarIcon filled />
      </button>
    ),
    can("remove") && (
      <button
        key="remove"
        type="button"
        className="icon-button icon-button-danger"
        aria-label={`Remove ${name}`}
        title={`Remove ${name} from the space`}
        disabled={busy}
        onClick={() => commands.remove(p)}
      >
        <CloseIcon />
      </button>
    ),
  ].filter(Boolean);

  return (
    <li
      className="stage-member"
      data-testid="stage-member"
      data-user-id={p.user.id}
      data-speaking={speaking ? "true" : "false"}
      data-muted={p.muted ? "true" : "false"}
    >
      <span className={`avatar-wrap ${speaking ? "is-speaking" : ""}`}>
        <Avatar user={p.user} size="lg" />
        {p.muted && (
          <span className="mic-off" role="img" aria-label="Muted">
            <MicOffIcon />
          </span>
        )}
        <FloatingReactions reactions={reactions} nameOf={() => p.user.display_name} />
      </span>
      <span className="member-name">
        <Link href={`/users/${encodeURIComponent(p.user.handle)}`}>{name}</Link>
        <VerifiedBadge verified={p.user.verified} />
      </span>
      <span className="member-role">
        {ROLE_LABEL[p.role]}
        {isMe ? " · you" : ""}
        {speaking && <span className="visually-hidden">, speaking</span>}
      </span>
      {actions.length > 0 && <span className="member-actions">{actions}</span>}
    </li>
  );
}
