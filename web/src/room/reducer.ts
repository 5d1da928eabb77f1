// All of a room's state, changed only by the server's events (by their server names) and by
// a few local actions. Pure: the time comes in with each action, so tests need no clock.
import type {
  Emoji,
  ParticipantView,
  Role,
  SpaceEvent,
  SpaceEventType,
  SpaceView,
} from "../api/types";
import { isStageRole } from "../api/types";

/** How long a reaction floats before it is dropped (matches the CSS animation). */
export const REACTION_MS = 2000;
/** At most this many reactions float at once; a large audience's are aggregated by dropping. */
export const MAX_REACTIONS = 30;

export interface FloatingReaction {
  key: number;
  user_id: number;
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
  nextReactionKey: number;
  hostAway: { graceSeconds: number; since: string } | null;
  endReason: EndReason | null;
  removed: boolean;
  /** Who invited the viewer to speak, while that invitation is open. */
  invitedBy: number | null;
}

export type RoomAction =
  | { type: "event"; event: SpaceEvent; now: number }
  | { type: "space_loaded"; space: SpaceView }
  /** GET /api/spaces/{id} again, when no event stream is open (a viewer without a ticket). */
  | { type: "space_refreshed"; space: SpaceView }
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
    nextReactionKey: 1,
    hostAway: null,
    endReason: null,
    removed: false,
    invitedBy: null,
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
  return { ...p, role, muted, hand_raised: false, invited: false };
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
      speaking: [],
      hostAway: null,
      endReason: endReasonOf(e.space),
      invitedBy: me?.invited ? state.invitedBy : null,
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
    invitedBy: null,
  }),
  space_cancelled: (state) => ({
    ...state,
    space: state.space ? { ...state.space, state: "cancelled" } : null,
    participants: [],
    speaking: [],
    hostAway: null,
    endReason: "cancelled",
    invitedBy: null,
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
      invitedBy: mine ? null : state.invitedBy,
    };
  },
  role_changed: (state, e) => {
    const next = patch(state, e.user_id, (p) => afterRoleChange(p, e.role, e.previous));
    return {
      ...next,
      speaking: isStageRole(e.role) ? next.speaking : next.speaking.filter((id) => id !== e.user_id),
      invitedBy: e.user_id === state.meId ? null : next.invitedBy,
    };
  },
  speaking: (state, e) => ({ ...state, speaking: e.user_ids }),
  hand_raised: (state, e) => patch(state, e.user_id, (p) => ({ ...p, hand_raised: true })),
  hand_lowered: (state, e) => patch(state, e.user_id, (p) => ({ ...p, hand_raised: false })),
  invited: (state, e) => {
    const next = patch(state, e.user_id, (p) => ({ ...p, invited: true }));
    return e.user_id === state.meId ? { ...next, invitedBy: e.by } : next;
  },
  invitation_answered: (state, e) => {
    const next = patch(state, e.user_id, (p) => ({ ...p, invited: false }));
    return e.user_id === state.meId ? { ...next, invitedBy: null } : next;
  },
  muted: (state, e) => patch(state, e.user_id, (p) => ({ ...p, muted: true })),
  unmuted: (state, e) => patch(state, e.user_id, (p) => ({ ...p, muted: false })),
  reaction: (state, e, now) => {
    const fresh = state.reactions.filter((r) => now - r.bornAt < REACTION_MS);
    const reactions = [
      ...fresh,
      { key: state.nextReactionKey, user_id: e.user_id, emoji: e.emoji, bornAt: now },
    ].slice(-MAX_REACTIONS);
    return { ...state, reactions, nextReactionKey: state.nextReactionKey + 1 };
  },
  audience_count: (state, e) => ({ ...state, audienceCount: e.count }),
  tickets_left: (state, e) =>
    state.space?.ticket
      ? {
          ...state,
          space: { ...state.space, ticket: { ...state.space.ticket, tickets_left: e.tickets_left } },
        }
      : state,
};

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
    case "expire_reactions": {
      const reactions = state.reactions.filter((r) => action.now - r.bornAt < REACTION_MS);
      return reactions.length === state.reactions.length ? state : { ...state, reactions };
    }
    case "removed":
      return { ...state, removed: true, participants: [], speaking: [] };
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
  return state.reactions.filter((r) => !onStage.has(r.user_id));
}

export function findParticipant(state: RoomState, userId: number): ParticipantView | null {
  return state.participants.find((p) => p.user.id === userId) ?? null;
}
