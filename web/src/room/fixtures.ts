// Builders for tests: server-shaped views and events with sensible defaults.
import type {
  AudienceView,
  ParticipantView,
  Role,
  SpaceEvent,
  SpaceView,
  TicketInfo,
  UserSummary,
} from "../api/types";

export const AT = "2026-05-01T18:00:00Z";

export function user(id: number, handle = `user${id}`): UserSummary {
  return { id, handle, display_name: `User ${id}`, verified: false };
}

export function participant(
  id: number,
  role: Role = "listener",
  extra: Partial<ParticipantView> = {},
): ParticipantView {
  return {
    user: user(id),
    role,
    present: true,
    muted: role !== "host" && role !== "listener",
    hand_raised: false,
    invited: false,
    invited_by: null,
    ...extra,
  };
}

export function space(extra: Partial<SpaceView> = {}): SpaceView {
  const host = participant(1, "host", { muted: false });
  return {
    id: "abc",
    title: "Morning show",
    topics: ["news"],
    state: "live",
    host: host.user,
    recording: false,
    created_at: AT,
    scheduled_for: null,
    started_at: AT,
    ended_at: null,
    audience_count: 1,
    stage: [host],
    reminder_set: false,
    me: null,
    ticket: null,
    ...extra,
  };
}

type Without<E> = E extends { seq: infer S }
  ? Omit<E, "space_id" | "at" | "seq"> & { seq?: S }
  : never;

/** An event of space "abc"; without a seq, an ephemeral one (a snapshot: seq 0). */
export function ev(event: Without<SpaceEvent>): SpaceEvent {
  const seq = event.type === "snapshot" ? 0 : null;
  return { space_id: "abc", at: AT, seq, ...event } as SpaceEvent;
}

export function ticket(extra: Partial<TicketInfo> = {}): TicketInfo {
  return {
    price_cents: 500,
    currency: "usd",
    cap: 10,
    tickets_left: 10,
    have_ticket: false,
    admitted: false,
    ...extra,
  };
}

export function audienceView(extra: Partial<AudienceView> = {}): AudienceView {
  return {
    type: "audience_view",
    space_id: "abc",
    version: 100,
    at: AT,
    space: space(),
    invited: [],
    removed: [],
    hands: 0,
    speaking: [],
    audience_count: 0,
    reactions: [],
    ...extra,
  };
}

/** An ISO time `seconds` after AT. */
export function after(seconds: number): string {
  return new Date(Date.parse(AT) + seconds * 1000).toISOString();
}
