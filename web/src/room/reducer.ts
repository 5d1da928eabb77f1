// All of a room's state, changed only by what the server says (its events by their server
// names, or its audience view) and by a few local actions. Pure: the time comes in with each
// action, so tests need no clock.
import type {
  AudienceView,
  Emoji,
  ParticipantView,
  Role,
  SpaceEvent,
  SpaceEventType,
  SpaceView,
  UserSummary,
} from "../api/types";
import { isStageRole } from "../api/types";
import { newReactions, type ReactionCursor } from "./audienceView";
import { burstFloats } from "./reactionBurst";

/** How long a reaction floats before it is dropped (matches the CSS animation). */
export const REACTION_MS = 2000;
/** At most this many reactions float at once; a reaction_burst floats at most this many. */
export const MAX_REACTIONS = 30;

export interface FloatingReaction {
  key: number;
  /** Who sent it; null for a large audience's (a reaction_burst names no one). */
  user_id: number | null;
  emoji: Emoji;
  bornAt: number;
}

export type EndReason = "host_ended" | "host_left" | "cancelled";

export interface RoomState {
  /** The signed-in viewer's user id, null when signed out. */
  meId: number | null;
  space: SpaceView | null;
  /** Everyone present, in no particular order (selectors sort). */
  participants: ParticipantView[];
  audienceCount: number;
  /** The latest `speaking` event's user ids. */
  speaking: number[];
  reactions: FloatingReaction[];
  /** A reaction_burst's floats still to go up (bornAt ahead), spread over its window. */
  pendingReactions: FloatingReaction[];
  nextReactionKey: number;
  /** The last audience view reaction taken (its seq de-duplicates the next views'). */
  viewCursor: ReactionCursor | null;
  hostAway: { graceSeconds: number; since: string } | null;
  endReason: EndReason | null;
  removed: boolean;
  /** The viewer's account was banned: signed out everywhere, nothing more to follow. */
  signedOut: boolean;
  /**
   * How many hands are raised, as the audience view counts them (it names no listener); null
   * on the event stream, whose participants say it themselves (selectHandsRaised).
   */
  viewHands: number | null;
  /** Who muted the viewer, when someone else did (a host or co-host), while it lasts. */
  mutedBy: number | null;
}

export type RoomAction =
  | { type: "event"; event: SpaceEvent; now: number }
  /** An audience view; `first` when it is the first since following (re)started. */
  | { type: "audience_view"; view: AudienceView; now: number; first: boolean }
  /** The viewer's own standing, as a POST (join, hand) answered it, before any event says so. */
  | { type: "participant_updated"; participant: ParticipantView }
  | { type: "space_loaded"; space: SpaceView }
  /** GET /api/spaces/{id} again, when no event stream is open (a viewer without a ticket). */
  | { type: "space_refreshed"; space: SpaceView }
  /** The reactions' clock: drop finished floats, send up a burst's pending ones. */
  | { type: "expire_reactions"; now: number }
  | { type: "removed" };

export function initialRoomState(meId: number | null): RoomState {
  return {
    meId,
    space: null,
    participants: [],
    audienceCount: 0,
    speaking: [],
    reactions: [],
    pendingReactions: [],
    nextReactionKey: 1,
    viewCursor: null,
    hostAway: null,
    endReason: null,
    removed: false,
    signedOut: false,
    viewHands: null,
    mutedBy: null,
  };
}

function patch(
  state: RoomState,
  userId: number,
  change: (p: ParticipantView) => ParticipantView,
): RoomState {
  let found = false;
  const participants = state.participants.map((p) => {
    if (p.user.id !== userId) return p;
    found = true;
    return change(p);
  });
  return found ? { ...state, participants } : state;
}

function upsert(participants: ParticipantView[], participant: ParticipantView): ParticipantView[] {
  const others = participants.filter((p) => p.user.id !== participant.user.id);
  return [...others, participant];
}

/** Mirrors the server's rule (services/stage.py): new stage members come on muted. */
function afterRoleChange(p: ParticipantView, role: Role, previous: Role): ParticipantView {
  let muted = p.muted;
  if (role === "listener") muted = false;
  else if (previous === "listener") muted = true;
  return { ...p, role, muted, hand_raised: false, invited: false, invited_by: null };
}

type Handlers = {
  [K in SpaceEventType]: (
    state: RoomState,
    event: Extract<SpaceEvent, { type: K }>,
    now: number,
  ) => RoomState;
};

const handlers: Handlers = {
  snapshot: (state, e) => {
    // A (re)connection's snapshot is the truth: it replaces everything the events built.
    const me = e.participants.find((p) => p.user.id === state.meId);
    return {
      ...state,
      space: e.space,
      participants: e.participants,
      audienceCount: e.space.audience_count,
      speaking: e.speaking ?? [],
      hostAway: null,
      endReason: endReasonOf(e.space),
      viewHands: null,
      // A snapshot says who is muted, not by whom: what we knew holds while it still is.
      mutedBy: me?.muted && isStageRole(me.role) ? state.mutedBy : null,
    };
  },
  space_started: (state, e) => {
    let participants = state.participants;
    for (const member of e.space.stage) {
      if (member.present) participants = upsert(participants, member);
    }
    return {
      ...state,
      space: keepViewerFields(state.space, e.space),
      participants,
      audienceCount: e.space.audience_count,
      endReason: null,
    };
  },
  space_ended: (state, e) => ({
    ...state,
    space: state.space ? { ...state.space, state: "ended", ended_at: e.at } : null,
    participants: [],
    speaking: [],
    hostAway: null,
    endReason: e.reason,
  }),
  space_cancelled: (state) => ({
    ...state,
    space: state.space ? { ...state.space, state: "cancelled" } : null,
    participants: [],
    speaking: [],
    hostAway: null,
    endReason: "cancelled",
  }),
  host_disconnected: (state, e) => ({
    ...state,
    hostAway: { graceSeconds: e.grace_seconds, since: e.at },
  }),
  host_reconnected: (state) => ({ ...state, hostAway: null }),
  participant_joined: (state, e) => ({
    ...state,
    participants: upsert(state.participants, e.participant),
  }),
  participant_left: (state, e) => {
    const mine = e.user_id === state.meId;
    return {
      ...state,
      participants: state.participants.filter((p) => p.user.id !== e.user_id),
      speaking: state.speaking.filter((id) => id !== e.user_id),
      removed: state.removed || (mine && e.reason === "removed"),
      signedOut: state.signedOut || (mine && e.reason === "banned"),
    };
  },
  role_changed: (state, e) => {
    const next = patch(state, e.user_id, (p) => afterRoleChange(p, e.role, e.previous));
    return {
      ...next,
      speaking: isStageRole(e.role) ? next.speaking : next.speaking.filter((id) => id !== e.user_id),
      mutedBy: e.user_id === state.meId ? null : next.mutedBy,
    };
  },
  speaking: (state, e) => ({ ...state, speaking: e.user_ids }),
  hand_raised: (state, e) => patch(state, e.user_id, (p) => ({ ...p, hand_raised: true })),
  hand_lowered: (state, e) => patch(state, e.user_id, (p) => ({ ...p, hand_raised: false })),
  // The inviter is a host or co-host, present as they invite (the snapshot names them later).
  invited: (state, e) =>
    patch(state, e.user_id, (p) => ({ ...p, invited: true, invited_by: knownUser(state, e.by) })),
  invitation_answered: (state, e) =>
    patch(state, e.user_id, (p) => ({ ...p, invited: false, invited_by: null })),
  muted: (state, e) => {
    const next = patch(state, e.user_id, (p) => ({ ...p, muted: true }));
    if (e.user_id !== state.meId) return next;
    return { ...next, mutedBy: e.by !== e.user_id ? e.by : null };
  },
  unmuted: (state, e) => {
    const next = patch(state, e.user_id, (p) => ({ ...p, muted: false }));
    return e.user_id === state.meId ? { ...next, mutedBy: null } : next;
  },
  reaction: (state, e, now) => floatReaction(state, e.user_id, e.emoji, now),
  reaction_burst: (state, e, now) => floatBurst(state, e.counts, e.window_seconds, now),
  audience_count: (state, e) => ({ ...state, audienceCount: e.count }),
  tickets_left: (state, e) =>
    state.space?.ticket
      ? {
          ...state,
          space: { ...state.space, ticket: { ...state.space.ticket, tickets_left: e.tickets_left } },
        }
      : state,
  // Nothing to show: the stage's members offer their audio again (useSpeaker), nothing else.
  media_moved: (state) => state,
  // Nothing to show here: the replaced connection says so itself (useSpeaker).
  speaker_replaced: (state) => state,
  // The audio stops by itself (the credential is refused from now on); nothing to redraw.
  ticket_voided: (state) => state,
};

/** One person's reaction floats now (over them, or over the audience when not on stage). */
function floatReaction(state: RoomState, userId: number, emoji: Emoji, now: number): RoomState {
  const fresh = state.reactions.filter((r) => now - r.bornAt < REACTION_MS);
  const reactions = [
    ...fresh,
    { key: state.nextReactionKey, user_id: userId, emoji, bornAt: now },
  ].slice(-MAX_REACTIONS);
  return { ...state, reactions, nextReactionKey: state.nextReactionKey + 1 };
}

/**
 * A large audience's counted reactions float in proportion, capped, with no name, spread
 * over the window they were counted in: the first now, the rest pending until their moment
 * (the reactions tick releases them).
 */
function floatBurst(
  state: RoomState,
  counts: Partial<Record<Emoji, number>>,
  windowSeconds: number,
  now: number,
): RoomState {
  const windowMs = Math.max(0, windowSeconds) * 1000;
  let key = state.nextReactionKey;
  const floats = burstFloats(counts, MAX_REACTIONS).map((f) => ({
    key: key++,
    user_id: null,
    emoji: f.emoji,
    bornAt: now + f.offset * windowMs,
  }));
  if (floats.length === 0) return state;
  const pending = [...state.pendingReactions, ...floats].slice(-2 * MAX_REACTIONS);
  return releaseReactions({ ...state, pendingReactions: pending, nextReactionKey: key }, now);
}

/** Pending floats whose moment came go up; floats that are done are dropped. */
function releaseReactions(state: RoomState, now: number): RoomState {
  const due = state.pendingReactions.filter((r) => r.bornAt <= now);
  const fresh = state.reactions.filter((r) => now - r.bornAt < REACTION_MS);
  if (due.length === 0 && fresh.length === state.reactions.length) return state;
  return {
    ...state,
    reactions: [...fresh, ...due].slice(-MAX_REACTIONS),
    pendingReactions: due.length ? state.pendingReactions.filter((r) => r.bornAt > now) : state.pendingReactions,
  };
}

/**
 * An audience view is the truth about the stage, who speaks, the audience count, the raised
 * hands' count and the space's state; its new reactions float. It names no listener but the
 * viewer, who keeps their own standing (as /join or /hand answered it), with `invited` from
 * the view (the inviter's name comes with the event stream's snapshot, which an invitation
 * switches to).
 */
function applyAudienceView(state: RoomState, view: AudienceView, now: number, first: boolean): RoomState {
  const space = keepViewerFields(state.space, { ...view.space, audience_count: view.audience_count });
  const over = space.state === "ended" || space.state === "cancelled";
  const stage = over ? [] : view.space.stage.filter((p) => p.present && isStageRole(p.role));
  const me = selectMe(state);
  const invited = me !== null && view.invited.includes(me.user.id);
  const mine =
    me !== null && !over && me.role === "listener" && !stage.some((p) => p.user.id === me.user.id)
      ? { ...me, invited, invited_by: invited ? me.invited_by : null }
      : null;
  let next: RoomState = {
    ...state,
    space,
    participants: mine ? [...stage, mine] : stage,
    audienceCount: view.audience_count,
    speaking: over ? [] : view.speaking,
    hostAway: over ? null : state.hostAway,
    endReason: over ? (state.endReason ?? endReasonOf(space)) : null,
    viewHands: over ? 0 : view.hands,
  };
  const { fresh, cursor } = newReactions(state.viewCursor, view.reactions, first);
  next = { ...next, viewCursor: cursor };
  for (const r of fresh) {
    next =
      "user_id" in r
        ? floatReaction(next, r.user_id, r.emoji, now)
        : floatBurst(next, r.counts, r.window_seconds, now);
  }
  return next;
}

/**
 * An event's space is the same for everyone (the server builds it for no viewer in particular):
 * what it says about the viewer (reminder, own standing, ticket) stays what we knew.
 */
function keepViewerFields(previous: SpaceView | null, next: SpaceView): SpaceView {
  if (previous === null || previous.id !== next.id) return next;
  return {
    ...next,
    reminder_set: previous.reminder_set,
    me: next.me ?? previous.me,
    ticket:
      next.ticket && previous.ticket
        ? {
            ...next.ticket,
            have_ticket: previous.ticket.have_ticket,
            admitted: previous.ticket.admitted,
          }
        : next.ticket,
  };
}

function endReasonOf(space: SpaceView): EndReason | null {
  if (space.state === "cancelled") return "cancelled";
  if (space.state === "ended") return "host_ended";
  return null;
}

/** Apply one server event; unknown event types (a newer server) leave the state alone. */
export function applyEvent(state: RoomState, event: SpaceEvent, now: number): RoomState {
  const handler = handlers[event.type] as
    | ((s: RoomState, e: SpaceEvent, n: number) => RoomState)
    | undefined;
  return handler ? handler(state, event, now) : state;
}

export function roomReducer(state: RoomState, action: RoomAction): RoomState {
  switch (action.type) {
    case "event":
      return applyEvent(state, action.event, action.now);
    case "audience_view":
      return applyAudienceView(state, action.view, action.now, action.first);
    case "participant_updated":
      return { ...state, participants: upsert(state.participants, action.participant) };
    case "space_loaded": {
      // Before the snapshot arrives, show what GET /api/spaces/{id} said.
      if (state.space !== null) return state;
      const present = action.space.stage.filter((p) => p.present);
      const me = action.space.me;
      return {
        ...state,
        space: action.space,
        participants: me?.present ? upsert(present, me) : present,
        audienceCount: action.space.audience_count,
        endReason: endReasonOf(action.space),
      };
    }
    case "space_refreshed": {
      if (state.space === null) return roomReducer(state, { ...action, type: "space_loaded" });
      return {
        ...state,
        space: action.space,
        audienceCount: action.space.audience_count,
        endReason: endReasonOf(action.space),
      };
    }
    case "expire_reactions":
      return releaseReactions(state, action.now);
    case "removed":
      return { ...state, removed: true, participants: [], speaking: [], pendingReactions: [] };
  }
}

// Selectors: what the room shows, derived from the state.

const ROLE_ORDER: Record<Role, number> = { host: 0, cohost: 1, speaker: 2, listener: 3 };

function byHandle(a: ParticipantView, b: ParticipantView): number {
  return a.user.handle.toLowerCase().localeCompare(b.user.handle.toLowerCase());
}

/** Host, co-hosts, then speakers (each by handle), as the server orders them. */
export function selectStage(state: RoomState): ParticipantView[] {
  return state.participants
    .filter((p) => isStageRole(p.role))
    .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || byHandle(a, b));
}

/** Listeners: raised hands first, then by handle. */
export function selectAudience(state: RoomState): ParticipantView[] {
  return state.participants
    .filter((p) => p.role === "listener")
    .sort((a, b) => Number(b.hand_raised) - Number(a.hand_raised) || byHandle(a, b));
}

export function selectRequests(state: RoomState): ParticipantView[] {
  return selectAudience(state).filter((p) => p.hand_raised);
}

/** How many hands are raised: the audience view's count, or the stream's listeners counted. */
export function selectHandsRaised(state: RoomState): number {
  return state.viewHands ?? selectRequests(state).length;
}

/** Who invited the viewer to speak, while that invitation is open (null: not said). */
export function selectInviter(state: RoomState): UserSummary | null {
  const me = selectMe(state);
  return me?.invited ? me.invited_by : null;
}

export function selectMe(state: RoomState): ParticipantView | null {
  return state.participants.find((p) => p.user.id === state.meId) ?? null;
}

export function isSpeaking(state: RoomState, userId: number): boolean {
  return state.speaking.includes(userId);
}

export function reactionsOver(state: RoomState, userId: number): FloatingReaction[] {
  return state.reactions.filter((r) => r.user_id === userId);
}

/** Reactions from people not on the stage float over the audience. */
export function audienceReactions(state: RoomState): FloatingReaction[] {
  const onStage = new Set(selectStage(state).map((p) => p.user.id));
  return state.reactions.filter((r) => r.user_id === null || !onStage.has(r.user_id));
}

export function findParticipant(state: RoomState, userId: number): ParticipantView | null {
  return state.participants.find((p) => p.user.id === userId) ?? null;
}

/** Someone present, or the host (whom the space names), by id. */
function knownUser(state: RoomState, userId: number): UserSummary | null {
  const present = findParticipant(state, userId);
  if (present) return present.user;
  return state.space?.host.id === userId ? state.space.host : null;
}
