// Who may do what to whom on the stage: the client's copy of src/salon/domain/stage.py, used
// only to decide which buttons to show. The server still decides.
import type { Role } from "../api/types";

export type StageAction =
  | "approve"
  | "deny"
  | "invite"
  | "mute"
  | "move_to_audience"
  | "remove"
  | "appoint_cohost"
  | "dismiss_cohost";

const MODERATORS: readonly Role[] = ["host", "cohost"];

const ALLOWED: Record<StageAction, readonly Role[]> = {
  approve: MODERATORS,
  deny: MODERATORS,
  invite: MODERATORS,
  mute: MODERATORS,
  move_to_audience: MODERATORS,
  remove: MODERATORS,
  appoint_cohost: ["host"],
  dismiss_cohost: ["host"],
};

const TARGETS: Record<StageAction, readonly Role[]> = {
  approve: ["listener"],
  deny: ["listener"],
  invite: ["listener"],
  mute: ["cohost", "speaker"],
  move_to_audience: ["cohost", "speaker"],
  remove: ["cohost", "speaker", "listener"],
  appoint_cohost: ["speaker", "listener"],
  dismiss_cohost: ["cohost"],
};

const RANK: Record<Role, number> = { host: 3, cohost: 2, speaker: 1, listener: 0 };

/** Whether someone holding `actor` may do `action` to someone holding `target`. */
export function mayActOn(actor: Role | null, action: StageAction, target: Role): boolean {
  if (actor === null) return false;
  return ALLOWED[action].includes(actor) && RANK[target] < RANK[actor] && TARGETS[action].includes(target);
}
