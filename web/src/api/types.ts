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
  /** "X is live" notifications for this host are on; null when you don't follow them. */
  live_notifications: boolean | null;
}

export interface Me extends Profile {
  is_admin: boolean;
  can_sell_tickets: boolean;
  /** Attested being 18 or older (needed to sell tickets). */
  adult_attested: boolean;
  /** Tell me when people I follow go live (all hosts; each can be turned off on its own). */
  notify_live: boolean;
}

export interface ParticipantView {
  user: UserSummary;
  role: Role;
  present: boolean;
  muted: boolean;
  hand_raised: boolean;
  invited: boolean;
  /** Who sent the open invitation to speak (null without one, or if that account is gone). */
  invited_by: UserSummary | null;
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
  /** Listeners not on the stage (joined people, or players counted from the audio). */
  audience_count: number;
  /** Host, co-hosts and speakers, host first. */
  stage: ParticipantView[];
  reminder_set: boolean;
  me: ParticipantView | null;
  /** Price, cap and tickets left of a ticketed space; null for a free one. */
  ticket: TicketInfo | null;
}

/** A ticketed space's terms, as one viewer sees them. Money in USD cents. */
export interface TicketInfo {
  price_cents: number;
  currency: string;
  cap: number;
  /** Seats not yet sold or held by a purchase in progress. */
  tickets_left: number;
  /** The viewer holds a ticket. */
  have_ticket: boolean;
  /** The viewer may join and listen: a ticket, or the host, a co-host or an invited speaker. */
  admitted: boolean;
}

/** held → paid | declined | expired; paid → refund_pending → refunded. */
export type PurchaseState = "held" | "paid" | "declined" | "expired" | "refund_pending" | "refunded";

/** One purchase of a ticket, as its buyer sees it. */
export interface PurchaseView {
  id: string;
  space_id: string;
  state: PurchaseState;
  amount_cents: number;
  currency: string;
  /** Where to send the buyer's browser to pay (null once the purchase is settled). */
  checkout_url: string | null;
  hold_expires_at: string;
  created_at: string;
  /** This purchase issued the buyer's ticket. */
  ticket: boolean;
}

export interface MyTicket {
  purchase_id: string;
  space_id: string;
  title: string;
  space_state: SpaceState;
  scheduled_for: string | null;
  amount_cents: number;
  currency: string;
  issued_at: string;
}

/** Whether the viewer may sell tickets, and what is missing if not. */
export interface Eligibility {
  eligible: boolean;
  /** An admin granted ticket selling. */
  granted: boolean;
  /** Each unmet condition, in words ("attest that you are 18 or older"). */
  reasons: string[];
  followers: number;
  followers_needed: number;
  adult_attested: boolean;
  hosted_recently: number;
  hosted_needed: number;
  window_days: number;
}

/** Tickets sold and what they earned; money in USD cents. */
export interface StatementLine {
  tickets_sold: number;
  gross_cents: number;
  refunds: number;
  refunded_cents: number;
  /** The platform's fees, net of fees returned with refunds. */
  fees_cents: number;
  /** gross − refunded − fees. */
  net_cents: number;
}

export interface SpaceStatement extends StatementLine {
  space_id: string;
  title: string;
  state: SpaceState;
  price_cents: number;
}

export interface TicketStatement {
  currency: string;
  /** Lifetime ticket earnings counted for the fee (gross sales not refunded). */
  earnings_cents: number;
  /** The fee rate the next sale starts at. */
  fee_rate_percent: number;
  total: StatementLine;
  spaces: SpaceStatement[];
}

/**
 * GET /api/spaces/{id}/listen (src/salon/services/listening.py AudioAccess).
 *
 * A free space's audio is public: no credential, nothing to renew. A ticketed space's audio
 * URLs carry the audio credential as one path segment right after `/hls/` or `/recording/`
 * (`/api/spaces/{space}/hls/{credential}/live.m3u8`); it lives `expires_in` seconds, and
 * calling /listen again renews it (403 once the person may no longer listen).
 */
export interface AudioAccess {
  space_id: string;
  /** The LL-HLS playlist (live), or the recording's playlist when `replay`. */
  playlist_url: string;
  /** `{expires}.{listener}.{sig}`, or null for a free space. */
  credential: string | null;
  /** Seconds the credential lives, or null when there is none. */
  expires_in: number | null;
  replay: boolean;
  /** A replay's audio lost while the space's media restarted or moved node (seconds). */
  gap_seconds: number;
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
  /**
   * The space's sequence number of an event committed with a database change: it grows by
   * exactly one per such event of the space. null for an ephemeral event (speaking,
   * reactions, audience_count), which is never de-duplicated. (eventOrder.ts applies it.)
   */
  seq: number | null;
}

export interface Snapshot extends EventBase {
  type: "snapshot";
  /** The last sequence number whose change this snapshot already includes (0: none yet). */
  seq: number;
  space: SpaceView;
  participants: ParticipantView[];
  /** Who speaks now (`speaking` events follow only when that changes). */
  speaking?: number[];
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
  reason: "left" | "disconnected" | "removed" | "banned";
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
/** A large audience's reactions over one window, counted per emoji (no one's identity). */
export interface ReactionBurst extends EventBase {
  type: "reaction_burst";
  window_seconds: number;
  counts: Partial<Record<Emoji, number>>;
}
/** A ticketed space's count of unsold seats changed (a purchase held, paid, freed). */
export interface TicketsLeft extends EventBase {
  type: "tickets_left";
  tickets_left: number;
}

/**
 * The space's media (its WebRTC stage) moved to another node, the old one having died: the
 * stage's members offer again at once (useSpeaker). Listeners' LL-HLS continues on its own.
 */
export interface MediaMoved extends EventBase {
  type: "media_moved";
}

/**
 * Sent only to the person concerned: a newer WHIP offer of theirs (another tab, device or bot)
 * took their seat and ended `session_id`. The device holding it stops (stageReplaced.ts).
 */
export interface SpeakerReplaced extends EventBase {
  type: "speaker_replaced";
  user_id: number;
  session_id: string;
}

/** Sent only to the person concerned: their ticket for this space went back (refunded). */
export interface TicketVoided extends EventBase {
  type: "ticket_voided";
  user_id: number;
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
  | ReactionBurst
  | Speaking
  | AudienceCount
  | TicketsLeft
  | MediaMoved
  | SpeakerReplaced
  | TicketVoided;

export type SpaceEventType = SpaceEvent["type"];

/** One person's reaction in an audience view (a small audience). */
export interface ViewPersonReaction {
  seq: number;
  at: string;
  user_id: number;
  emoji: Emoji;
}

/** A large audience's reactions over one window, in an audience view. */
export interface ViewReactionCounts {
  seq: number;
  at: string;
  window_seconds: number;
  counts: Partial<Record<Emoji, number>>;
}

export type ViewReaction = ViewPersonReaction | ViewReactionCounts;

/**
 * GET /api/spaces/{id}/hls/audience.json (ticketed: under the audio credential segment), the
 * same document for every follower (src/salon/services/audience_view.py AudienceView).
 */
export interface AudienceView {
  type: "audience_view";
  space_id: string;
  /** Ask `?v={version + 1}` for the next one (a blocking reload). */
  version: number;
  at: string;
  /** As a signed-out viewer sees it (`me` null, no ticket held); `audience_count` is newer. */
  space: SpaceView;
  /** People holding an open invitation to speak. */
  invited: number[];
  /** People removed or banned from the space in the last minute (not saying which). */
  removed: number[];
  /** How many hands are raised. */
  hands: number;
  speaking: number[];
  /** Listeners not on the stage. */
  audience_count: number;
  /** The last few seconds of reactions, oldest first; `seq` grows by one per entry. */
  reactions: ViewReaction[];
}

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

/** A personal API token (src/salon/views.py ApiTokenView); the secret is never listed. */
export interface ApiTokenView {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

/** What POST /api/me/tokens answers: the secret, shown this once. */
export interface NewApiToken extends ApiTokenView {
  token: string;
}

/** An account as an admin sees it (PATCH /api/admin/users/{handle}, GET /api/admin/users). */
export interface AdminUserView extends UserSummary {
  is_admin: boolean;
  can_sell_tickets: boolean;
  banned: boolean;
}

/** What an admin may change of an account; absent fields stay as they are. */
export type AdminUserUpdate = Partial<
  Pick<AdminUserView, "verified" | "can_sell_tickets" | "banned" | "is_admin">
>;

/** One page of GET /api/admin/users (page is 1-based; total counts every page). */
export interface AdminUserPage {
  users: AdminUserView[];
  page: number;
  per_page: number;
  total: number;
}

/** One setting of the instance (GET /api/admin/instance); never a secret. */
export interface InstanceSetting {
  /** The setting's name on the server (host_min_followers). */
  key: string;
  /** The environment variable that sets it (SALON_HOST_MIN_FOLLOWERS). */
  env: string;
  value: string | number | boolean | string[];
  about: string;
}

/** What a notification is about (src/salon/domain/notifications.py Kind); more may come. */
export type NotificationKind =
  | "space_started"
  | "space_cancelled"
  | "space_rescheduled"
  | "host_live"
  | "invited_to_speak"
  | "ticket_bought"
  | "ticket_refunded"
  | "ticket_space_cancelled"
  | "tickets_sold";

/** The space a notification is about, as it is now. */
export interface NotificationSpace {
  id: string;
  title: string;
  state: SpaceState;
  scheduled_for: string | null;
}

/** One entry of the bell (GET /api/me/notifications). */
export interface NotificationView {
  id: number;
  /** A NotificationKind, or one this client does not know yet. */
  kind: NotificationKind | (string & {});
  created_at: string;
  read: boolean;
  space: NotificationSpace | null;
  /** Who did it (the host who went live, who invited you), when someone did. */
  actor: UserSummary | null;
  /** How many (tickets sold), when it counts something. */
  count: number | null;
}

/** GET /api/me/notifications and GET /api/me/notifications/wait. */
export interface NotificationPage {
  /** Newest first. */
  items: NotificationView[];
  unread: number;
  /** The newest notification's id, or null when there is none. */
  latest_id: number | null;
}

/** GET /api/push/key: the key a browser subscribes with (base64url, an uncompressed P-256
 * point). */
export interface PushKey {
  public_key: string;
}

/** GET/PUT /api/me/email: where notifications are e-mailed, and which kinds. */
export interface EmailSettings {
  /** Whether this instance sends e-mail at all (SALON_SMTP_HOST). */
  enabled: boolean;
  email: string | null;
  /** The address's confirmation link was opened. */
  confirmed: boolean;
  /** The notification kinds e-mailed (the server's defaults until a person chooses). */
  kinds: string[];
}

/** GET /api/me/hosting: the follower rule for hosting, as it stands for the viewer now. */
export interface HostingEligibility {
  can_host: boolean;
  followers: number;
  /** The instance's rule (SALON_HOST_MIN_FOLLOWERS); admins are exempt. */
  followers_needed: number;
  /** How many more followers hosting needs (0 when one may host). */
  to_go: number;
  exempt: boolean;
}

/** Whether an ended recorded space can be replayed, and until when. */
export interface ReplayStatus {
  available: boolean;
  /** When the replay expires; null once its host deleted it. */
  expires_at: string | null;
  deleted: boolean;
}

/** A space in a list of spaces; an ended recorded one says whether it has a replay. */
export interface ListedSpace extends SpaceView {
  replay: ReplayStatus | null;
}

/** Someone speaking from `start` to `end`, in seconds of recorded audio. */
export interface SpokenInterval {
  user_id: number;
  start: number;
  end: number;
}

/** A reaction sent while the space was live, at its moment in the recorded audio. */
export interface ReplayReaction {
  emoji: string;
  user_id: number;
  at: number;
}

/** An ended recorded space's replay (times are seconds of recorded audio). */
export interface ReplayView {
  space_id: string;
  duration: number;
  gap_seconds: number;
  expires_at: string;
  people: UserSummary[];
  speaking: SpokenInterval[];
  reactions: ReplayReaction[];
}
