// When a stage member speaking over WebRTC offers again at once (a new connection, a new WHIP
// POST) rather than wait for ICE to notice a dead node: the space's media moved to another
// node, or the event stream was lost and is back (the node that died may have held both).
import type { SpaceEvent } from "../api/types";
import { isStageRole } from "../api/types";

/**
 * Whether `event` calls for a new offer from the viewer `meId`. `reconnected`: the event is
 * the snapshot of a connection made again after one was lost or resynced (eventStream.ts).
 * A resync counts too: the events it missed may have included a media_moved.
 */
export function mustReoffer(event: SpaceEvent, reconnected: boolean, meId: number | null): boolean {
  if (meId === null) return false;
  if (event.type === "media_moved") return true;
  if (event.type !== "snapshot" || !reconnected || event.space.state !== "live") return false;
  // Only someone still on the stage has a connection to offer again.
  return event.participants.some((p) => p.user.id === meId && p.present && isStageRole(p.role));
}
