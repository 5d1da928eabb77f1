// Newest wins: when the same person speaks from another tab, device or bot, the server gives
// the seat to the newest WHIP offer and tells the older one, on its own event stream, which
// session it ended (`speaker_replaced`). The connection holding that session stops and says
// so instead of offering again and taking the seat back.
import type { SpaceEvent } from "../api/types";

/** What the replaced device shows (the bot prints "replaced by your other device"). */
export const REPLACED_TEXT = "Replaced by your other device.";

/** The WHIP session a `speaker_replaced` event for the viewer `meId` ended, else null. */
export function replacedSession(event: SpaceEvent, meId: number | null): string | null {
  if (event.type !== "speaker_replaced" || meId === null || event.user_id !== meId) return null;
  return event.session_id;
}

/** A WHIP session's id: the last part of its Location (`/api/spaces/{id}/whip/{session}`). */
export function sessionOf(location: string | null): string | null {
  if (!location) return null;
  return location.split("?")[0]!.split("/").filter(Boolean).pop() ?? null;
}
