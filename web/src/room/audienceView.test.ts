import { describe, expect, it } from "vitest";
import type { ViewReaction } from "../api/types";
import {
  REPEAT_PAUSE_MS,
  audienceViewUrl,
  followsAudienceView,
  isAudienceView,
  namedAsRemoved,
  newReactions,
  nextRequest,
  ownRemoval,
  removalFromJoin,
  viewFailure,
} from "./audienceView";
import { AT, after, audienceView, participant, space, ticket } from "./fixtures";

describe("audienceViewUrl", () => {
  it("is beside a free space's playlist, blocking once a version is asked for", () => {
    expect(audienceViewUrl("abc", null, null)).toBe("/api/spaces/abc/hls/audience.json");
    expect(audienceViewUrl("abc", null, 42)).toBe("/api/spaces/abc/hls/audience.json?v=42");
  });

  it("is under a ticketed space's audio credential", () => {
    const credential = "1700000000.abcdefghijkl.abcdefghijklmnopqrstuv";
    expect(audienceViewUrl("abc", credential, 7)).toBe(
      `/api/spaces/abc/hls/${credential}/audience.json?v=7`,
    );
  });
});

describe("nextRequest", () => {
  it("asks for the version after the one that came, at once", () => {
    expect(nextRequest(null, 100)).toEqual({ version: 101, delayMs: 0 });
    expect(nextRequest(100, 101)).toEqual({ version: 102, delayMs: 0 });
  });

  it("takes a version that jumped ahead", () => {
    expect(nextRequest(101, 5000)).toEqual({ version: 5001, delayMs: 0 });
  });

  it("takes a version that went backwards, after a pause so a stale cache cannot spin it", () => {
    expect(nextRequest(5000, 120)).toEqual({ version: 121, delayMs: REPEAT_PAUSE_MS });
    expect(nextRequest(120, 120)).toEqual({ version: 121, delayMs: REPEAT_PAUSE_MS });
  });
});

describe("viewFailure", () => {
  it("tells a space not started, a refusal and a missing space from what is worth a retry", () => {
    expect(viewFailure(409)).toBe("not_started");
    expect(viewFailure(403)).toBe("refused");
    expect(viewFailure(404)).toBe("not_found");
    expect(viewFailure(503)).toBe("retry");
    expect(viewFailure(429)).toBe("retry");
    expect(viewFailure(null)).toBe("retry");
  });
});

describe("isAudienceView", () => {
  it("accepts the server's document and nothing else", () => {
    expect(isAudienceView(audienceView())).toBe(true);
    expect(isAudienceView({ type: "snapshot" })).toBe(false);
    expect(isAudienceView("<html>")).toBe(false);
    expect(isAudienceView(null)).toBe(false);
    const { removed: _, ...older } = audienceView();
    expect(isAudienceView(older)).toBe(false);
  });
});

describe("a follower's own removal", () => {
  it("is suspected when the view names them among the removed, never when signed out", () => {
    const view = audienceView({ removed: [4, 9] });
    expect(namedAsRemoved(view, 9)).toBe(true);
    expect(namedAsRemoved(view, 3)).toBe(false);
    expect(namedAsRemoved(view, null)).toBe(false);
  });

  it("is told by joining again: 403 removed, 401 signed out by a ban, else not known", () => {
    expect(removalFromJoin(403)).toBe("removed");
    expect(removalFromJoin(401)).toBe("banned");
    for (const status of [null, 409, 429, 500, 503]) expect(removalFromJoin(status)).toBeNull();
  });

  it("becomes the participant_left event the stream would have sent", () => {
    expect(ownRemoval("abc", 9, "removed", AT)).toEqual({
      type: "participant_left",
      space_id: "abc",
      at: AT,
      seq: null,
      user_id: 9,
      reason: "removed",
    });
  });
});

const person = (seq: number, seconds = seq): ViewReaction => ({
  seq,
  at: after(seconds),
  user_id: 2,
  emoji: "👏",
});

describe("newReactions", () => {
  it("takes nothing from the first view (old, maybe already shown), only notes where it is", () => {
    const { fresh, cursor } = newReactions(null, [person(1), person(2)], true);
    expect(fresh).toEqual([]);
    expect(cursor).toEqual({ seq: 2, at: after(2) });
  });

  it("takes only entries above the last seq seen", () => {
    const { fresh, cursor } = newReactions({ seq: 2, at: after(2) }, [person(1), person(2), person(3), person(4)], false);
    expect(fresh.map((r) => r.seq)).toEqual([3, 4]);
    expect(cursor).toEqual({ seq: 4, at: after(4) });
  });

  it("takes each entry once across views", () => {
    let cursor = newReactions(null, [], true).cursor;
    const seen: number[] = [];
    for (const reactions of [[person(1)], [person(1), person(2)], [person(2)], [], [person(3)]]) {
      const next = newReactions(cursor, reactions, false);
      seen.push(...next.fresh.map((r) => r.seq));
      cursor = next.cursor;
    }
    expect(seen).toEqual([1, 2, 3]);
  });

  it("after a restarted origin (seq started over), takes what is newer than the last one seen", () => {
    const { fresh, cursor } = newReactions({ seq: 57, at: after(10) }, [person(1, 9), person(2, 11)], false);
    expect(fresh.map((r) => r.seq)).toEqual([2]);
    expect(cursor).toEqual({ seq: 2, at: after(11) });
  });

  it("keeps its place through views without reactions", () => {
    const cursor = { seq: 5, at: AT };
    expect(newReactions(cursor, [], false)).toEqual({ fresh: [], cursor });
  });
});

describe("followsAudienceView", () => {
  const live = space();
  it("is for everyone signed out", () => {
    expect(followsAudienceView(live, null, null)).toBe(true);
    expect(followsAudienceView(space({ state: "scheduled" }), null, null)).toBe(true);
  });

  it("is for signed-in listeners who have not acted", () => {
    expect(followsAudienceView(live, 3, null)).toBe(true);
    expect(followsAudienceView(live, 3, participant(3))).toBe(true);
  });

  it("is not for the host, the stage, a raised hand or an open invitation", () => {
    expect(followsAudienceView(live, 1, null)).toBe(false);
    expect(followsAudienceView(live, 3, participant(3, "speaker"))).toBe(false);
    expect(followsAudienceView(live, 3, participant(3, "cohost"))).toBe(false);
    expect(followsAudienceView(live, 3, participant(3, "listener", { hand_raised: true }))).toBe(false);
    expect(followsAudienceView(live, 3, participant(3, "listener", { invited: true }))).toBe(false);
  });

  it("waits for a ticketed space to go live (its view needs an audio credential)", () => {
    const held = ticket({ have_ticket: true, admitted: true });
    expect(followsAudienceView(space({ state: "scheduled", ticket: held }), 3, null)).toBe(false);
    expect(followsAudienceView(space({ ticket: held }), 3, null)).toBe(true);
  });
});
