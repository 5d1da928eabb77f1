// Mirrors of the server's views (src/salon/views.py) and events (src/salon/events/types.py).
// Names and fields are the server's own; datetimes arrive as ISO 8601 strings.

export type Role = "host" | "cohost" | "speaker" | "listener";
export type SpaceState = "scheduled" | "live" | "ended" | "cancelled";

/** The fixed reaction set, in the server's order (src/salon/domain/reactions.py). */
export const EMOJI = ["😂", "😲", "😢", "💜", "💯", "👏", "✊", "👍", "👎", "👋"] as const;
export type Emoji = (typeof EMOJI)[number];

export interface UserSummary {
  id: number;
  handle: string;
  display_name: string;
  verified: boolean;
}

export interface Profile extends UserSummary {
  bio: string;
  created_at: string;
  followers_count: number;
  following_count: number;
  followed_by_me: boolean;
}

export interface Me extends Profile {
  is_admin: boolean;
  can_sell_tickets: boolean;
}

export interface ParticipantView {
  user: UserSummary;
  role: Role;
  present: boolean;
  muted: boolean;
  hand_raised: boolean;
  invited: boolean;
}

export interface SpaceView {
  id: string;
  title: string;
  topics: string[];
  state: SpaceState;
  host: UserSummary;
  recording: boolean;
  created_at: string;
  scheduled_for: string | null;
  started_at: string | null;
  ended_at: string | null;
  /** Everyone present, stage included. */
  audience_count: number;
  /** Host, co-hosts and speakers, host first. */
  stage: ParticipantView[];
  reminder_set: boolean;
  me: ParticipantView | null;
}

/** GET /api/spaces/{id}/listen (src/salon/services/listening.py ListenTicket). */
export interface ListenTicket {
  space_id: string;
  token: string;
  expires_in: number;
  playlist_url: string;
}

/** RFC 9457 problem body (src/salon/api/problems.py). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { loc: (string | number)[]; msg: string }[];
}

interface EventBase {
  space_id: string;
  at: string;
}

export interface Snapshot extends EventBase {
  type: "snapshot";
  space: SpaceView;
  participants: ParticipantView[];
}
export interface SpaceStarted extends EventBase {
  type: "space_started";
  space: SpaceView;
}
export interface SpaceEnded extends EventBase {
  type: "space_ended";
  reason: "host_ended" | "host_left";
}
export interface SpaceCancelled extends EventBase {
  type: "space_cancelled";
}
export interface HostDisconnected extends EventBase {
  type: "host_disconnected";
  grace_seconds: number;
}
export interface HostReconnected extends EventBase {
  type: "host_reconnected";
}
export interface ParticipantJoined extends EventBase {
  type: "participant_joined";
  participant: ParticipantView;
}
export interface ParticipantLeft extends EventBase {
  type: "participant_left";
  user_id: number;
  reason: "left" | "disconnected" | "removed";
}
export interface RoleChanged extends EventBase {
  type: "role_changed";
  user_id: number;
  role: Role;
  previous: Role;
}
export interface HandRaised extends EventBase {
  type: "hand_raised";
  user_id: number;
}
export interface HandLowered extends EventBase {
  type: "hand_lowered";
  user_id: number;
  reason: "withdrawn" | "approved" | "denied" | "left";
}
export interface Invited extends EventBase {
  type: "invited";
  user_id: number;
  by: number;
}
export interface InvitationAnswered extends EventBase {
  type: "invitation_answered";
  user_id: number;
  accepted: boolean;
}
export interface Muted extends EventBase {
  type: "muted";
  user_id: number;
  by: number;
}
export interface Unmuted extends EventBase {
  type: "unmuted";
  user_id: number;
}
export interface ReactionSent extends EventBase {
  type: "reaction";
  user_id: number;
  emoji: Emoji;
}
export interface Speaking extends EventBase {
  type: "speaking";
  user_ids: number[];
}
export interface AudienceCount extends EventBase {
  type: "audience_count";
  count: number;
}

export type SpaceEvent =
  | Snapshot
  | SpaceStarted
  | SpaceEnded
  | SpaceCancelled
  | HostDisconnected
  | HostReconnected
  | ParticipantJoined
  | ParticipantLeft
  | RoleChanged
  | HandRaised
  | HandLowered
  | Invited
  | InvitationAnswered
  | Muted
  | Unmuted
  | ReactionSent
  | Speaking
  | AudienceCount;

export type SpaceEventType = SpaceEvent["type"];

/** Close codes of the event WebSocket (src/salon/api/events.py). */
export const CLOSE = {
  NORMAL: 1000,
  POLICY: 1008,
  TRY_AGAIN: 1013,
  UNAUTHORIZED: 4401,
  REMOVED: 4403,
  NOT_FOUND: 4404,
} as const;

export const STAGE_ROLES: readonly Role[] = ["host", "cohost", "speaker"];
export const MODERATORS: readonly Role[] = ["host", "cohost"];

export function isStageRole(role: Role): boolean {
  return STAGE_ROLES.includes(role);
}

export function isModerator(role: Role): boolean {
  return MODERATORS.includes(role);
}
