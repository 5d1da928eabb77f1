import { describe, expect, it } from "vitest";
import { ev, participant, space } from "./fixtures";
import { mustReoffer } from "./stageReoffer";

const ME = 3;
const snapshot = (
  role: "host" | "speaker" | "listener",
  extra: { present?: boolean; state?: "live" | "ended" } = {},
) =>
  ev({
    type: "snapshot",
    seq: 5,
    space: space({ state: extra.state ?? "live" }),
    participants: [participant(1, "cohost"), participant(ME, role, { present: extra.present ?? true })],
  });

describe("mustReoffer", () => {
  it("offers again when the space's media moved", () => {
    expect(mustReoffer(ev({ type: "media_moved", seq: 9 }), false, ME)).toBe(true);
  });

  it("offers again when the event stream is back after losing its connection", () => {
    expect(mustReoffer(snapshot("speaker"), true, ME)).toBe(true);
    expect(mustReoffer(snapshot("host"), true, ME)).toBe(true);
  });

  it("does not on the stream's first snapshot", () => {
    expect(mustReoffer(snapshot("speaker"), false, ME)).toBe(false);
  });

  it("does not for someone no longer on a live stage", () => {
    expect(mustReoffer(snapshot("listener"), true, ME)).toBe(false);
    expect(mustReoffer(snapshot("speaker", { present: false }), true, ME)).toBe(false);
    expect(mustReoffer(snapshot("speaker", { state: "ended" }), true, ME)).toBe(false);
    expect(mustReoffer(snapshot("speaker"), true, null)).toBe(false);
  });

  it("does not on other events", () => {
    expect(mustReoffer(ev({ type: "unmuted", seq: 6, user_id: ME }), true, ME)).toBe(false);
    expect(mustReoffer(ev({ type: "speaking", user_ids: [ME] }), true, ME)).toBe(false);
  });
});
