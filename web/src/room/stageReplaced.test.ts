import { describe, expect, it } from "vitest";
import type { SpaceEvent } from "../api/types";
import { replacedSession, sessionOf } from "./stageReplaced";

const AT = "2026-01-01T00:00:00Z";

function replaced(userId: number, sessionId: string): SpaceEvent {
  return { type: "speaker_replaced", space_id: "abc", at: AT, seq: null, user_id: userId, session_id: sessionId };
}

describe("replacedSession", () => {
  it("names the session a newer offer of mine ended", () => {
    expect(replacedSession(replaced(7, "s1"), 7)).toBe("s1");
  });

  it("ignores someone else's, other events, and a signed-out viewer", () => {
    expect(replacedSession(replaced(8, "s1"), 7)).toBeNull();
    expect(replacedSession(replaced(7, "s1"), null)).toBeNull();
    expect(replacedSession({ type: "media_moved", space_id: "abc", at: AT, seq: null }, 7)).toBeNull();
  });
});

describe("sessionOf", () => {
  it("is the last part of a WHIP Location", () => {
    expect(sessionOf("/api/spaces/abcdefghijkl/whip/Zx_9-q")).toBe("Zx_9-q");
    expect(sessionOf(null)).toBeNull();
  });
});
