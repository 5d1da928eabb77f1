// Following a space's audience view (GET .../hls/audience.json): the same document for every
// follower, so an edge or CDN answers them all with one origin request per version. Pure
// parts: where to ask, what to ask next, what an answer means, which reactions are new.
import type { AudienceView, ParticipantLeft, ParticipantView, SpaceView, ViewReaction } from "../api/types";
import { isStageRole } from "../api/types";
import { backoffDelay } from "./connection";

/** The server publishes at least every 5 s; this is how long to wait before asking again
 * whether a scheduled space has started (409). */
export const NOT_STARTED_RETRY_MS = 5000;
/** An answer that is not newer than the last one (a stale cache, a restarted origin) is
 * followed after this pause, so a misbehaving cache cannot spin the page. */
export const REPEAT_PAUSE_MS = 500;
/** After a refused credential (403), ask again this soon: the renewal is under way. */
export const REFUSED_RETRY_MS = 500;

/**
 * The audience view's URL: a free space's, or a ticketed one's under the audio credential
 * (the same path segment as its audio). `version` asks for a blocking answer.
 */
export function audienceViewUrl(spaceId: string, credential: string | null, version: number | null): string {
  const base = `/api/spaces/${encodeURIComponent(spaceId)}/hls`;
  const path = credential === null ? `${base}/audience.json` : `${base}/${credential}/audience.json`;
  return version === null ? path : `${path}?v=${version}`;
}

/**
 * What to ask for after an answer of version `received`, the last one before being `previous`:
 * always the next one after what came (a version that went backwards or jumped ahead is simply
 * taken), at once unless the answer was no newer than the last.
 */
export function nextRequest(previous: number | null, received: number): { version: number; delayMs: number } {
  const newer = previous === null || received > previous;
  return { version: received + 1, delayMs: newer ? 0 : REPEAT_PAUSE_MS };
}

/** What a failed answer means to a follower. */
export type ViewFailure =
  /** 409: the space has not started; ask again in a while. */
  | "not_started"
  /** 403: the credential was refused (ticketed: renew it), or the space is closed to us. */
  | "refused"
  /** 404: no such space. */
  | "not_found"
  /** Network, 5xx, 429, anything else: back off and try again. */
  | "retry";

export function viewFailure(status: number | null): ViewFailure {
  if (status === 409) return "not_started";
  if (status === 403 || status === 401) return "refused";
  if (status === 404) return "not_found";
  return "retry";
}

/** The backoff after `attempt` failures in a row (the event stream's: 1 s, 2 s, 4 s … 10 s). */
export function retryDelay(attempt: number): number {
  return backoffDelay(attempt);
}

/** An answer's body is an audience view (a cache or proxy may answer with anything). */
export function isAudienceView(value: unknown): value is AudienceView {
  if (typeof value !== "object" || value === null) return false;
  const view = value as Partial<AudienceView>;
  return (
    view.type === "audience_view" &&
    typeof view.version === "number" &&
    typeof view.space === "object" &&
    view.space !== null &&
    Array.isArray(view.reactions) &&
    Array.isArray(view.speaking) &&
    Array.isArray(view.invited) &&
    Array.isArray(view.removed)
  );
}

/** The last reaction entry a follower took: its `seq`, and its `at` (for a restarted origin). */
export interface ReactionCursor {
  seq: number;
  at: string;
}

/**
 * The reactions in a view that this follower has not taken yet, and the cursor after them.
 *
 * Entries with `seq` above the cursor are new. The first view a follower sees only sets the
 * cursor: its entries are up to 5 s old, and may be ones the event stream already showed
 * (a switch from the stream to the view). A view whose newest `seq` is below the cursor comes
 * from a restarted origin, whose count started over: its entries newer than the cursor's
 * `at` are taken instead.
 */
export function newReactions(
  cursor: ReactionCursor | null,
  reactions: readonly ViewReaction[],
  first: boolean,
): { fresh: ViewReaction[]; cursor: ReactionCursor | null } {
  if (reactions.length === 0) return { fresh: [], cursor };
  const newest = reactions.reduce((a, b) => (b.seq > a.seq ? b : a));
  const next = { seq: newest.seq, at: newest.at };
  if (first) return { fresh: [], cursor: next };
  // Nothing taken yet (the first view had none): everything here came after it.
  if (cursor === null) return { fresh: [...reactions], cursor: next };
  if (newest.seq < cursor.seq) {
    const since = Date.parse(cursor.at);
    return { fresh: reactions.filter((r) => Date.parse(r.at) > since), cursor: next };
  }
  const fresh = reactions.filter((r) => r.seq > cursor.seq);
  return { fresh, cursor: fresh.length > 0 ? next : cursor };
}

/**
 * Whether this viewer follows the audience view rather than the event stream: everyone
 * signed out, and signed-in listeners who have not acted. The host, the stage, a raised hand
 * and an open invitation need the stream (requests, invitations, stage controls). A ticketed
 * space's view needs an audio credential, which /listen gives only while it is live, so a
 * ticket holder waits for the start on the stream.
 */
export function followsAudienceView(
  space: SpaceView | null,
  meId: number | null,
  me: ParticipantView | null,
): boolean {
  if (meId === null) return true;
  if (space === null || space.host.id === meId) return false;
  if (me !== null && (isStageRole(me.role) || me.hand_raised || me.invited)) return false;
  return space.ticket === null || space.state === "live";
}

/**
 * Whether a view names this signed-in follower among the people removed or banned lately.
 * It does not say which, and is no proof (a ban may have been lifted since): the follower
 * asks once for their own standing (`removalFromJoin`).
 */
export function namedAsRemoved(view: AudienceView, meId: number | null): boolean {
  return meId !== null && view.removed.includes(meId);
}

/**
 * What joining again answered a follower, as the event stream would have said it: 403, they
 * were removed from this space; 401, their session is gone (a ban ends every session); anything
 * else, nothing known (still here, or ask again later).
 */
export function removalFromJoin(status: number | null): "removed" | "banned" | null {
  if (status === 403) return "removed";
  if (status === 401) return "banned";
  return null;
}

/** The event a participant on the stream gets when put out of the space, for a follower of
 * the view, so the room shows them exactly the same (reducer.ts `participant_left`). */
export function ownRemoval(
  spaceId: string,
  meId: number,
  reason: "removed" | "banned",
  at: string,
): ParticipantLeft {
  return { type: "participant_left", space_id: spaceId, at, seq: null, user_id: meId, reason };
}
