import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  connectionClass,
  connectionText,
  initialConnection,
  nextConnection,
  type ConnectionInput,
  type ConnectionState,
} from "./connection";

function run(...inputs: ConnectionInput[]): ConnectionState {
  return inputs.reduce(nextConnection, initialConnection);
}

const closed = (code: number): ConnectionInput => ({ type: "closed", code });

describe("backoff", () => {
  it("doubles from 1 s and stops at 10 s", () => {
    expect([0, 1, 2, 3, 4, 5, 20].map(backoffDelay)).toEqual([
      1000, 2000, 4000, 8000, 10000, 10000, 10000,
    ]);
  });
});

describe("connection state", () => {
  it("starts Connecting and is Live at the first snapshot", () => {
    expect(initialConnection.phase).toBe("connecting");
    expect(run({ type: "snapshot" }).phase).toBe("live");
  });

  it("reconnects with growing delays until a snapshot resets them", () => {
    const delays: (number | null)[] = [];
    let s = run({ type: "snapshot" });
    for (let i = 0; i < 6; i++) {
      s = nextConnection(s, closed(1006));
      expect(s.phase).toBe("reconnecting");
      delays.push(s.retryInMs);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
    s = nextConnection(s, { type: "snapshot" });
    expect(s).toMatchObject({ phase: "live", attempt: 0 });
    expect(nextConnection(s, closed(1006)).retryInMs).toBe(1000);
  });

  it("backs off after 1013 (too slow, or the server lost its event bus)", () => {
    expect(run({ type: "snapshot" }, closed(1013))).toMatchObject({
      phase: "reconnecting",
      retryInMs: 1000,
    });
    // A server that keeps saying "try again" is not hammered.
    expect(run({ type: "snapshot" }, closed(1013), closed(1013), closed(1013)).retryInMs).toBe(4000);
  });

  it("reconnects at once to resync, without counting an attempt", () => {
    expect(run({ type: "snapshot" }, { type: "resync" })).toMatchObject({
      phase: "reconnecting",
      attempt: 0,
      retryInMs: 0,
    });
    const failing = run(closed(1006), closed(1006));
    expect(nextConnection(failing, { type: "resync" })).toMatchObject({ attempt: 2, retryInMs: 0 });
    expect(run({ type: "space_over" }, { type: "resync" }).phase).toBe("ended");
  });

  it.each([
    [1000, "space_over"],
    [4403, "removed"],
    [4404, "not_found"],
    [4401, "unauthorized"],
    [1008, "refused"],
  ])("close code %i ends the stream (%s)", (code, cause) => {
    expect(run({ type: "snapshot" }, closed(code))).toMatchObject({ phase: "ended", cause });
  });

  it("stays ended whatever follows", () => {
    const s = run({ type: "space_over" }, { type: "snapshot" }, closed(1006));
    expect(s).toMatchObject({ phase: "ended", cause: "space_over" });
  });

  it("ends on space_over, removed and not_found inputs", () => {
    expect(run({ type: "removed" }).cause).toBe("removed");
    expect(run({ type: "not_found" }).cause).toBe("not_found");
  });
});

describe("status text", () => {
  const words = ["Connecting", "Live", "Reconnecting", "Ended", "Scheduled"];
  const count = (text: string) => words.filter((w) => new RegExp(`\\b${w}\\b`).test(text)).length;

  it("always names exactly one state", () => {
    const states = [
      initialConnection,
      run({ type: "snapshot" }),
      run(closed(1006)),
      run(closed(1000)),
      run(closed(4403)),
      run(closed(4404)),
      run(closed(4401)),
    ];
    for (const state of states) {
      for (const space of [null, "live", "scheduled", "ended", "cancelled"]) {
        expect(count(connectionText(state, space))).toBe(1);
      }
    }
  });

  it("says a followed scheduled space is scheduled, and when, never Live", () => {
    const followed = run({ type: "snapshot" });
    const at = "2030-05-01T18:30:00Z";
    const text = connectionText(followed, "scheduled", at);
    expect(text).toMatch(/^Scheduled · starts .+/);
    expect(text).not.toMatch(/Live/);
    expect(text).toContain(new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    expect(connectionClass(followed, "scheduled")).toBe("scheduled");
    expect(connectionClass(followed, "live")).toBe("live");
    expect(connectionText(initialConnection, "scheduled", at)).toBe("Connecting…");
  });

  it("says why it ended", () => {
    expect(connectionText(run(closed(4403)))).toBe("Ended · removed");
    expect(connectionText(run(closed(1000)), "cancelled")).toBe("Ended · cancelled");
    expect(connectionText(run(closed(1000)), "ended")).toBe("Ended");
    expect(connectionText(run(closed(1006)))).toBe("Reconnecting…");
  });
});
