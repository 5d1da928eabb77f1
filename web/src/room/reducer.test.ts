import { describe, expect, it } from "vitest";
import { ownRemoval } from "./audienceView";
import { AT, after, audienceView, ev, participant, space, ticket } from "./fixtures";
import {
  MAX_REACTIONS,
  REACTION_MS,
  audienceReactions,
  findParticipant,
  initialRoomState,
  isSpeaking,
  reactionsOver,
  roomReducer,
  selectAudience,
  selectHandsRaised,
  selectInviter,
  selectMe,
  selectRequests,
  selectStage,
  type RoomState,
} from "./reducer";
import type { AudienceView, SpaceEvent } from "../api/types";

const ME = 3;

function apply(state: RoomState, ...events: SpaceEvent[]): RoomState {
  return events.reduce((s, event) => roomReducer(s, { type: "event", event, now: 1000 }), state);
}

function room(): RoomState {
  return apply(
    initialRoomState(ME),
    ev({
      type: "snapshot",
      space: space({ audience_count: 3 }),
      participants: [participant(1, "host", { muted: false }), participant(2, "speaker"), participant(ME)],
    }),
  );
}

describe("snapshot", () => {
  it("fills the room", () => {
    const s = room();
    expect(s.space?.title).toBe("Morning show");
    expect(s.audienceCount).toBe(3);
    expect(selectStage(s).map((p) => p.user.id)).toEqual([1, 2]);
    expect(selectAudience(s).map((p) => p.user.id)).toEqual([ME]);
    expect(selectMe(s)?.role).toBe("listener");
  });

  it("replaces everything the events built, on a reconnect", () => {
    let s = apply(
      room(),
      ev({ type: "participant_joined", participant: participant(9) }),
      ev({ type: "speaking", user_ids: [1] }),
      ev({ type: "host_disconnected", grace_seconds: 300 }),
      ev({ type: "audience_count", count: 4 }),
    );
    s = apply(
      s,
      ev({
        type: "snapshot",
        space: space({ title: "Renamed", audience_count: 2 }),
        participants: [participant(1, "host"), participant(ME)],
      }),
    );
    expect(s.space?.title).toBe("Renamed");
    expect(s.participants.map((p) => p.user.id)).toEqual([1, ME]);
    expect(s.speaking).toEqual([]);
    expect(s.hostAway).toBeNull();
    expect(s.audienceCount).toBe(2);
  });

  it("knows a snapshot of an ended or cancelled space is over", () => {
    const ended = apply(initialRoomState(null), ev({ type: "snapshot", space: space({ state: "ended" }), participants: [] }));
    expect(ended.endReason).toBe("host_ended");
    const cancelled = apply(initialRoomState(null), ev({ type: "snapshot", space: space({ state: "cancelled" }), participants: [] }));
    expect(cancelled.endReason).toBe("cancelled");
  });
});

describe("space lifecycle", () => {
  it("space_started brings the present stage in", () => {
    const scheduled = apply(
      initialRoomState(ME),
      ev({ type: "snapshot", space: space({ state: "scheduled", audience_count: 0 }), participants: [] }),
    );
    const host = participant(1, "host", { muted: false });
    const s = apply(scheduled, ev({ type: "space_started", space: space({ stage: [host], audience_count: 1 }) }));
    expect(s.space?.state).toBe("live");
    expect(selectStage(s).map((p) => p.user.id)).toEqual([1]);
    expect(s.audienceCount).toBe(1);
  });

  it("space_ended empties the room and says why", () => {
    const s = apply(room(), ev({ type: "speaking", user_ids: [1] }), ev({ type: "space_ended", reason: "host_left" }));
    expect(s.space?.state).toBe("ended");
    expect(s.space?.ended_at).toBe("2026-05-01T18:00:00Z");
    expect(s.endReason).toBe("host_left");
    expect(s.participants).toEqual([]);
    expect(s.speaking).toEqual([]);
  });

  it("space_cancelled marks the space cancelled", () => {
    const s = apply(room(), ev({ type: "space_cancelled" }));
    expect(s.space?.state).toBe("cancelled");
    expect(s.endReason).toBe("cancelled");
  });

  it("host_disconnected and host_reconnected track the grace period", () => {
    let s = apply(room(), ev({ type: "host_disconnected", grace_seconds: 300 }));
    expect(s.hostAway).toEqual({ graceSeconds: 300, since: "2026-05-01T18:00:00Z" });
    s = apply(s, ev({ type: "host_reconnected" }));
    expect(s.hostAway).toBeNull();
  });
});

describe("presence", () => {
  it("participant_joined adds someone once, even when sent twice", () => {
    const joined = ev({ type: "participant_joined", participant: participant(7) });
    const s = apply(room(), joined, joined);
    expect(s.participants.filter((p) => p.user.id === 7)).toHaveLength(1);
  });

  it("participant_left removes them and their speaking ring", () => {
    const s = apply(room(), ev({ type: "speaking", user_ids: [1, 2] }), ev({ type: "participant_left", user_id: 2, reason: "left" }));
    expect(findParticipant(s, 2)).toBeNull();
    expect(s.speaking).toEqual([1]);
    expect(s.removed).toBe(false);
  });

  it("participant_left with reason removed for me marks me removed", () => {
    const other = apply(room(), ev({ type: "participant_left", user_id: 2, reason: "removed" }));
    expect(other.removed).toBe(false);
    const me = apply(room(), ev({ type: "participant_left", user_id: ME, reason: "removed" }));
    expect(me.removed).toBe(true);
    expect(selectMe(me)).toBeNull();
  });

  it("audience_count sets the count", () => {
    expect(apply(room(), ev({ type: "audience_count", count: 42 })).audienceCount).toBe(42);
  });
});

describe("stage", () => {
  it("a listener approved onto the stage arrives muted, hand down", () => {
    let s = apply(room(), ev({ type: "hand_raised", user_id: ME }));
    expect(selectRequests(s).map((p) => p.user.id)).toEqual([ME]);
    s = apply(
      s,
      ev({ type: "hand_lowered", user_id: ME, reason: "approved" }),
      ev({ type: "role_changed", user_id: ME, role: "speaker", previous: "listener" }),
    );
    const me = selectMe(s);
    expect(me?.role).toBe("speaker");
    expect(me?.muted).toBe(true);
    expect(me?.hand_raised).toBe(false);
    expect(selectRequests(s)).toEqual([]);
    expect(selectStage(s).map((p) => p.user.id)).toEqual([1, 2, ME]);
  });

  it("a speaker made co-host keeps their mute state and sorts before speakers", () => {
    let s = apply(room(), ev({ type: "unmuted", user_id: 2 }));
    s = apply(s, ev({ type: "role_changed", user_id: 2, role: "cohost", previous: "speaker" }));
    expect(findParticipant(s, 2)?.muted).toBe(false);
    s = apply(
      s,
      ev({ type: "participant_joined", participant: participant(4, "speaker") }),
      ev({ type: "role_changed", user_id: 2, role: "cohost", previous: "speaker" }),
    );
    expect(selectStage(s).map((p) => [p.user.id, p.role])).toEqual([
      [1, "host"],
      [2, "cohost"],
      [4, "speaker"],
    ]);
  });

  it("moving to the audience unmutes, lowers the hand and stops the ring", () => {
    const s = apply(
      room(),
      ev({ type: "speaking", user_ids: [2] }),
      ev({ type: "role_changed", user_id: 2, role: "listener", previous: "speaker" }),
    );
    expect(findParticipant(s, 2)).toMatchObject({ role: "listener", muted: false });
    expect(isSpeaking(s, 2)).toBe(false);
    expect(selectAudience(s).map((p) => p.user.id)).toContain(2);
  });

  it("hand_raised and hand_lowered toggle a request", () => {
    let s = apply(room(), ev({ type: "hand_raised", user_id: ME }));
    expect(selectMe(s)?.hand_raised).toBe(true);
    s = apply(s, ev({ type: "hand_lowered", user_id: ME, reason: "withdrawn" }));
    expect(selectMe(s)?.hand_raised).toBe(false);
  });

  it("invited and invitation_answered track my invitation and who sent it", () => {
    let s = apply(room(), ev({ type: "invited", user_id: ME, by: 1 }));
    expect(selectMe(s)?.invited).toBe(true);
    expect(selectInviter(s)?.display_name).toBe("User 1");
    s = apply(s, ev({ type: "invitation_answered", user_id: ME, accepted: false }));
    expect(selectMe(s)?.invited).toBe(false);
    expect(selectInviter(s)).toBeNull();
  });

  it("a snapshot names who invited me, though I never saw the invited event", () => {
    // Invited while following the audience view, or before a reload: the stream's snapshot
    // is the first this page hears of who it was, even one who has left since.
    const cohost = participant(7, "cohost").user;
    const s = apply(
      initialRoomState(ME),
      ev({
        type: "snapshot",
        space: space(),
        participants: [participant(1, "host"), participant(ME, "listener", { invited: true, invited_by: cohost })],
      }),
    );
    expect(selectInviter(s)).toEqual(cohost);
  });

  it("an invitation keeps naming its sender once they have left", () => {
    const s = apply(
      room(),
      ev({ type: "invited", user_id: ME, by: 2 }),
      ev({ type: "participant_left", user_id: 2, reason: "left" }),
    );
    expect(selectInviter(s)?.display_name).toBe("User 2");
  });

  it("accepting an invitation puts me on the stage", () => {
    const s = apply(
      room(),
      ev({ type: "invited", user_id: ME, by: 1 }),
      ev({ type: "invitation_answered", user_id: ME, accepted: true }),
      ev({ type: "role_changed", user_id: ME, role: "speaker", previous: "listener" }),
    );
    expect(selectMe(s)).toMatchObject({ role: "speaker", invited: false, muted: true });
  });

  it("someone else's invitation does not touch mine", () => {
    const s = apply(room(), ev({ type: "invited", user_id: 2, by: 1 }));
    expect(selectInviter(s)).toBeNull();
  });

  it("muted and unmuted set the mute flag", () => {
    let s = apply(room(), ev({ type: "unmuted", user_id: 2 }));
    expect(findParticipant(s, 2)?.muted).toBe(false);
    s = apply(s, ev({ type: "muted", user_id: 2, by: 1 }));
    expect(findParticipant(s, 2)?.muted).toBe(true);
  });

  it("events about someone not in the room change nothing", () => {
    const before = room();
    const after = apply(before, ev({ type: "muted", user_id: 99, by: 1 }));
    expect(after).toBe(before);
  });
});

describe("speaking ring", () => {
  it("follows the latest speaking event only", () => {
    let s = apply(room(), ev({ type: "speaking", user_ids: [1, 2] }));
    expect(isSpeaking(s, 1)).toBe(true);
    expect(isSpeaking(s, 2)).toBe(true);
    s = apply(s, ev({ type: "speaking", user_ids: [2] }));
    expect(isSpeaking(s, 1)).toBe(false);
    s = apply(s, ev({ type: "speaking", user_ids: [] }));
    expect(s.speaking).toEqual([]);
  });
});

describe("reactions", () => {
  const react = (userId: number, now: number) =>
    ({ type: "event", now, event: ev({ type: "reaction", user_id: userId, emoji: "👏" }) }) as const;

  it("float over a stage member or over the audience", () => {
    let s = roomReducer(room(), react(2, 0));
    s = roomReducer(s, react(ME, 10));
    expect(reactionsOver(s, 2).map((r) => r.emoji)).toEqual(["👏"]);
    expect(audienceReactions(s).map((r) => r.user_id)).toEqual([ME]);
    expect(new Set(s.reactions.map((r) => r.key)).size).toBe(2);
  });

  it("expire after REACTION_MS", () => {
    let s = roomReducer(room(), react(2, 0));
    s = roomReducer(s, react(2, 1500));
    s = roomReducer(s, { type: "expire_reactions", now: REACTION_MS + 1 });
    expect(s.reactions.map((r) => r.bornAt)).toEqual([1500]);
    s = roomReducer(s, { type: "expire_reactions", now: 1500 + REACTION_MS });
    expect(s.reactions).toEqual([]);
  });

  it("expiring nothing keeps the same state object (no re-render)", () => {
    const s = roomReducer(room(), react(2, 0));
    expect(roomReducer(s, { type: "expire_reactions", now: 100 })).toBe(s);
  });

  it("are capped so a large audience cannot flood the screen", () => {
    let s = room();
    for (let i = 0; i < MAX_REACTIONS + 10; i++) s = roomReducer(s, react(ME, i));
    expect(s.reactions).toHaveLength(MAX_REACTIONS);
    expect(s.reactions[0]?.bornAt).toBe(10);
  });

  it("survive a reconnect's snapshot", () => {
    let s = roomReducer(room(), react(2, 0));
    s = apply(s, ev({ type: "snapshot", space: space(), participants: [participant(1, "host")] }));
    expect(s.reactions).toHaveLength(1);
  });
});

describe("tickets", () => {
  function ticketed(extra: Parameters<typeof ticket>[0] = {}): RoomState {
    return apply(
      initialRoomState(ME),
      ev({
        type: "snapshot",
        space: space({ state: "scheduled", reminder_set: true, ticket: ticket({ have_ticket: true, admitted: true, ...extra }) }),
        participants: [],
      }),
    );
  }

  it("tickets_left updates the count of a ticketed space", () => {
    const s = apply(ticketed({ tickets_left: 10 }), ev({ type: "tickets_left", tickets_left: 7 }));
    expect(s.space?.ticket).toMatchObject({ tickets_left: 7, have_ticket: true, admitted: true, cap: 10 });
    expect(apply(s, ev({ type: "tickets_left", tickets_left: 0 })).space?.ticket?.tickets_left).toBe(0);
  });

  it("tickets_left leaves a free space alone", () => {
    const before = room();
    expect(apply(before, ev({ type: "tickets_left", tickets_left: 3 }))).toBe(before);
  });

  it("space_started keeps what the viewer knew about their own ticket and reminder", () => {
    // The event's space is built for nobody in particular: no ticket, not admitted.
    const started = space({ ticket: ticket({ tickets_left: 4, have_ticket: false, admitted: false }), reminder_set: false });
    const s = apply(ticketed(), ev({ type: "space_started", space: started }));
    expect(s.space?.state).toBe("live");
    expect(s.space?.ticket).toMatchObject({ tickets_left: 4, have_ticket: true, admitted: true });
    expect(s.space?.reminder_set).toBe(true);
  });

  it("space_refreshed replaces the space (a ticket bought) but keeps the participants", () => {
    const locked = space({ state: "live", ticket: ticket({ admitted: false }), stage: [participant(1, "host")] });
    let s = roomReducer(initialRoomState(ME), { type: "space_refreshed", space: locked });
    expect(s.space?.ticket?.admitted).toBe(false);
    expect(s.participants.map((p) => p.user.id)).toEqual([1]);
    const bought = { ...locked, audience_count: 5, ticket: ticket({ have_ticket: true, admitted: true, tickets_left: 9 }) };
    s = roomReducer(s, { type: "space_refreshed", space: bought });
    expect(s.space?.ticket).toMatchObject({ have_ticket: true, admitted: true, tickets_left: 9 });
    expect(s.audienceCount).toBe(5);
    expect(s.participants.map((p) => p.user.id)).toEqual([1]);
    const ended = roomReducer(s, { type: "space_refreshed", space: { ...bought, state: "ended" } });
    expect(ended.endReason).toBe("host_ended");
  });
});

describe("local actions", () => {
  it("space_loaded shows the space before the snapshot, never after", () => {
    const loaded = space({ me: participant(ME), stage: [participant(1, "host")] });
    let s = roomReducer(initialRoomState(ME), { type: "space_loaded", space: loaded });
    expect(s.participants.map((p) => p.user.id)).toEqual([1, ME]);
    s = apply(s, ev({ type: "snapshot", space: space({ title: "Fresh" }), participants: [] }));
    s = roomReducer(s, { type: "space_loaded", space: loaded });
    expect(s.space?.title).toBe("Fresh");
  });

  it("removed clears the room", () => {
    const s = roomReducer(room(), { type: "removed" });
    expect(s.removed).toBe(true);
    expect(s.participants).toEqual([]);
  });

  it("ignores an event type it does not know", () => {
    const before = room();
    const unknown = { type: "ticket_sold", space_id: "abc", at: "" } as unknown as SpaceEvent;
    expect(roomReducer(before, { type: "event", event: unknown, now: 0 })).toBe(before);
  });
});

describe("audience view", () => {
  const host = participant(1, "host", { muted: false });
  const speaker = participant(2, "speaker", { muted: true });
  const view = (extra: Partial<AudienceView> = {}) =>
    audienceView({ space: space({ stage: [host, speaker], audience_count: 7 }), audience_count: 40, ...extra });
  const take = (state: RoomState, v: AudienceView, now = 1000, first = false) =>
    roomReducer(state, { type: "audience_view", view: v, now, first });

  it("shows the stage, who speaks and the audience (which never counts the stage)", () => {
    const s = take(initialRoomState(null), view({ speaking: [2] }), 1000, true);
    expect(selectStage(s).map((p) => [p.user.id, p.muted])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(isSpeaking(s, 2)).toBe(true);
    expect(s.audienceCount).toBe(40);
    expect(s.space?.audience_count).toBe(40);
  });

  it("follows the stage as it changes (a speaker leaves, someone unmutes)", () => {
    let s = take(initialRoomState(null), view(), 1000, true);
    s = take(s, view({ space: space({ stage: [host] }), speaking: [1] }));
    expect(selectStage(s).map((p) => p.user.id)).toEqual([1]);
    expect(s.speaking).toEqual([1]);
  });

  it("keeps what the viewer knows of themself: their ticket, reminder and standing", () => {
    let s = roomReducer(initialRoomState(ME), {
      type: "space_loaded",
      space: space({ ticket: ticket({ have_ticket: true, admitted: true }) }),
    });
    s = roomReducer(s, { type: "participant_updated", participant: participant(ME) });
    s = take(s, view({ space: space({ stage: [host], ticket: ticket() }) }), 1000, true);
    expect(s.space?.ticket?.admitted).toBe(true);
    expect(selectMe(s)?.role).toBe("listener");
    expect(selectMe(s)?.invited).toBe(false);
    s = take(s, view({ space: space({ stage: [host], ticket: ticket() }), invited: [ME] }));
    expect(selectMe(s)?.invited).toBe(true);
  });

  it("counts the raised hands as the view does; on the stream, the listeners say it", () => {
    let s = take(initialRoomState(ME), view({ hands: 3 }), 1000, true);
    expect(selectHandsRaised(s)).toBe(3);
    // Raising my own hand switches me to the stream: its snapshot names the hands.
    s = apply(
      s,
      ev({
        type: "snapshot",
        space: space(),
        participants: [host, participant(ME, "listener", { hand_raised: true }), participant(8, "listener")],
      }),
    );
    expect(selectHandsRaised(s)).toBe(1);
    s = apply(s, ev({ type: "hand_raised", user_id: 8 }));
    expect(selectHandsRaised(s)).toBe(2);
    s = apply(s, ev({ type: "hand_lowered", user_id: ME, reason: "withdrawn" }));
    expect(selectHandsRaised(s)).toBe(1);
    // Back on the view (the request withdrawn): its count again.
    s = take(s, view({ hands: 4 }), 2000, true);
    expect(selectHandsRaised(s)).toBe(4);
  });

  it("says I am invited, and keeps who invited me once known", () => {
    const cohost = participant(7, "cohost").user;
    let s = roomReducer(initialRoomState(ME), { type: "participant_updated", participant: participant(ME) });
    s = take(s, view(), 1000, true);
    s = take(s, view({ invited: [ME] }));
    expect(selectMe(s)?.invited).toBe(true);
    // The view does not say who; the answer to /join (or the stream's snapshot) does.
    s = roomReducer(s, {
      type: "participant_updated",
      participant: participant(ME, "listener", { invited: true, invited_by: cohost }),
    });
    s = take(s, view({ invited: [ME] }));
    expect(selectInviter(s)).toEqual(cohost);
    s = take(s, view({ invited: [] }));
    expect(selectInviter(s)).toBeNull();
  });

  it("ends in the same room as the stream's when the follower was put out", () => {
    // A follower learns it from the view and one refused /join (ownRemoval); a participant
    // on the stream from participant_left: the room is the same either way.
    const following = take(
      roomReducer(initialRoomState(ME), { type: "participant_updated", participant: participant(ME) }),
      view({ hands: 2 }),
      1000,
      true,
    );
    for (const reason of ["removed", "banned"] as const) {
      const fromView = apply(following, ownRemoval("abc", ME, reason, AT));
      const fromStream = apply(room(), ev({ type: "participant_left", user_id: ME, reason }));
      expect(selectMe(fromView)).toBeNull();
      expect([fromView.removed, fromView.signedOut]).toEqual([fromStream.removed, fromStream.signedOut]);
      expect([fromView.removed, fromView.signedOut]).toEqual([reason === "removed", reason === "banned"]);
    }
  });

  it("names no other listener", () => {
    const s = take(apply(room(), ev({ type: "participant_joined", participant: participant(9) })), view());
    expect(selectAudience(s).map((p) => p.user.id)).toEqual([ME]);
  });

  it("ends the room when the space is over", () => {
    const s = take(take(initialRoomState(null), view(), 1000, true), view({ space: space({ state: "ended" }) }));
    expect(s.space?.state).toBe("ended");
    expect(s.participants).toEqual([]);
    expect(s.speaking).toEqual([]);
    expect(s.endReason).toBe("host_ended");
  });

  it("floats each new reaction once, over its sender, and none of the first view's", () => {
    const r = (seq: number) => ({ seq, at: after(seq), user_id: 2, emoji: "👏" as const });
    let s = take(initialRoomState(null), view({ reactions: [r(1)] }), 1000, true);
    expect(s.reactions).toEqual([]);
    s = take(s, view({ reactions: [r(1), r(2)] }), 1100);
    s = take(s, view({ reactions: [r(1), r(2), r(3)] }), 1200);
    expect(reactionsOver(s, 2).map((f) => f.bornAt)).toEqual([1100, 1200]);
  });

  it("floats a large audience's counts in proportion, without names, over the window", () => {
    const counts = { seq: 1, at: after(1), window_seconds: 1, counts: { "👏": 3, "💜": 1 } };
    let s = take(initialRoomState(null), view(), 1000, true);
    s = take(s, view({ reactions: [counts] }), 2000);
    // The first goes up at once, the rest as the window passes.
    expect(s.reactions.map((f) => f.emoji)).toEqual(["👏"]);
    expect(s.pendingReactions).toHaveLength(3);
    s = roomReducer(s, { type: "expire_reactions", now: 2999 });
    expect(s.pendingReactions).toEqual([]);
    expect(s.reactions.map((f) => f.emoji).sort()).toEqual(["👏", "👏", "👏", "💜"].sort());
    expect(s.reactions.every((f) => f.user_id === null)).toBe(true);
    expect(audienceReactions(s)).toHaveLength(4);
  });
});

describe("reaction_burst", () => {
  const burst = (counts: Record<string, number>, window_seconds = 1) =>
    ev({ type: "reaction_burst", window_seconds, counts });

  it("floats that many emoji, spread over the window", () => {
    let s = roomReducer(room(), { type: "event", event: burst({ "😂": 2, "👍": 2 }, 2), now: 0 });
    expect(s.reactions).toHaveLength(1);
    expect(s.pendingReactions.map((f) => f.bornAt)).toEqual([500, 1000, 1500]);
    s = roomReducer(s, { type: "expire_reactions", now: 1000 });
    expect(s.reactions.map((f) => f.bornAt)).toEqual([0, 500, 1000]);
    expect(s.pendingReactions.map((f) => f.bornAt)).toEqual([1500]);
  });

  it("caps a huge burst at MAX_REACTIONS floats, in proportion", () => {
    let s = roomReducer(room(), { type: "event", event: burst({ "👏": 9000, "😂": 1000 }), now: 0 });
    s = roomReducer(s, { type: "expire_reactions", now: 999 });
    expect(s.reactions).toHaveLength(MAX_REACTIONS);
    expect(s.reactions.filter((f) => f.emoji === "😂")).toHaveLength(3);
    expect(new Set(s.reactions.map((f) => f.key)).size).toBe(MAX_REACTIONS);
  });

  it("is dropped when the viewer is removed", () => {
    let s = roomReducer(room(), { type: "event", event: burst({ "👏": 10 }), now: 0 });
    s = roomReducer(s, { type: "removed" });
    expect(s.pendingReactions).toEqual([]);
  });
});

describe("muted by someone else", () => {
  const onStage = () =>
    apply(room(), ev({ type: "role_changed", user_id: ME, role: "speaker", previous: "listener" }));

  it("remembers who muted the viewer, until they unmute", () => {
    let s = apply(onStage(), ev({ type: "unmuted", user_id: ME }), ev({ type: "muted", user_id: ME, by: 1 }));
    expect(s.mutedBy).toBe(1);
    expect(selectMe(s)?.muted).toBe(true);
    // A reconnect's snapshot, still muted: still muted by the host.
    const again = selectMe(s)!;
    s = apply(s, ev({ type: "snapshot", space: space(), participants: [participant(1, "host"), again] }));
    expect(s.mutedBy).toBe(1);
    s = apply(s, ev({ type: "unmuted", user_id: ME }));
    expect(s.mutedBy).toBeNull();
  });

  it("is not set when the viewer mutes themself, nor by someone else's mute", () => {
    const s = apply(onStage(), ev({ type: "unmuted", user_id: ME }), ev({ type: "muted", user_id: ME, by: ME }));
    expect(s.mutedBy).toBeNull();
    expect(apply(onStage(), ev({ type: "muted", user_id: 2, by: 1 })).mutedBy).toBeNull();
  });
});

describe("a late joiner's speaking ring", () => {
  it("comes from the snapshot: who speaks now, before any speaking event", () => {
    const s = apply(
      initialRoomState(ME),
      ev({ type: "snapshot", space: space(), participants: [participant(1, "host", { muted: false })], speaking: [1] }),
    );
    expect(isSpeaking(s, 1)).toBe(true);
  });

  it("comes from the first audience view for a listener following it", () => {
    const s = roomReducer(initialRoomState(null), {
      type: "audience_view",
      view: audienceView({ speaking: [1] }),
      now: 1000,
      first: true,
    });
    expect(isSpeaking(s, 1)).toBe(true);
  });
});
