import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SpaceEvent } from "../api/types";
import type { ConnectionState } from "./connection";
import { EventStream, parseEvent, type EventSocket } from "./eventStream";
import { ev, space } from "./fixtures";

describe("parseEvent", () => {
  it("accepts the server's event types", () => {
    const event = parseEvent(JSON.stringify({ type: "speaking", space_id: "a", at: "x", user_ids: [1] }));
    expect(event).toEqual({ type: "speaking", space_id: "a", at: "x", user_ids: [1] });
  });

  it("accepts tickets_left", () => {
    const event = parseEvent(JSON.stringify({ type: "tickets_left", space_id: "a", at: "x", tickets_left: 2 }));
    expect(event).toEqual({ type: "tickets_left", space_id: "a", at: "x", tickets_left: 2 });
  });

  it("accepts reaction_burst", () => {
    const burst = { type: "reaction_burst", space_id: "a", at: "x", window_seconds: 1, counts: { "👏": 3 } };
    expect(parseEvent(JSON.stringify(burst))).toEqual(burst);
  });

  it("accepts media_moved, and keeps the seq", () => {
    const moved = { type: "media_moved", space_id: "a", at: "x", seq: 7 };
    expect(parseEvent(JSON.stringify(moved))).toEqual(moved);
  });

  it("drops unknown types, malformed JSON and binary frames", () => {
    expect(parseEvent(JSON.stringify({ type: "ticket_sold" }))).toBeNull();
    expect(parseEvent("{oops")).toBeNull();
    expect(parseEvent(JSON.stringify(null))).toBeNull();
    expect(parseEvent(new ArrayBuffer(2))).toBeNull();
  });
});

class FakeSocket implements EventSocket {
  onmessage: EventSocket["onmessage"] = null;
  onclose: EventSocket["onclose"] = null;
  closedWith: number | null = null;

  close(code = 1005): void {
    this.closedWith = code;
  }

  send(event: SpaceEvent): void {
    this.onmessage?.({ data: JSON.stringify(event) } as MessageEvent);
  }

  drop(code: number): void {
    this.onclose?.({ code } as CloseEvent);
  }
}

describe("EventStream", () => {
  const ME = 3;
  let now = 0;
  let sockets: FakeSocket[];
  let delivered: { type: string; seq: number | null; reconnected: boolean }[];
  let connection: ConnectionState;
  let stream: EventStream;

  beforeEach(async () => {
    vi.useFakeTimers();
    now = 0;
    sockets = [];
    delivered = [];
    stream = new EventStream(
      {
        beforeConnect: () => Promise.resolve("ok"),
        onEvent: (event, reconnected) =>
          delivered.push({ type: event.type, seq: event.seq ?? null, reconnected }),
        onConnection: (state) => (connection = state),
        meId: () => ME,
      },
      () => {
        const socket = new FakeSocket();
        sockets.push(socket);
        return socket;
      },
      () => now,
    );
    stream.start();
    await advance(0);
  });

  afterEach(() => {
    stream.stop();
    vi.useRealTimers();
  });

  /** Advance the fake timers and the stream's clock together. */
  async function advance(ms: number): Promise<void> {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  }

  const socket = () => sockets[sockets.length - 1]!;
  const snapshot = (seq: number) => ev({ type: "snapshot", seq, space: space(), participants: [] });
  const hand = (seq: number) => ev({ type: "hand_raised", seq, user_id: seq });
  const seqs = () => delivered.map((d) => d.seq);

  it("delivers each event once, in order", () => {
    socket().send(snapshot(10));
    for (const seq of [11, 11, 13, 12, 9]) socket().send(hand(seq));
    socket().send(ev({ type: "speaking", user_ids: [1] }));
    expect(seqs()).toEqual([10, 11, 12, 13, null]);
    expect(delivered[0]).toEqual({ type: "snapshot", seq: 10, reconnected: false });
    expect(connection.phase).toBe("live");
  });

  it("resyncs at once when a gap does not fill, and rebuilds from the new snapshot", async () => {
    socket().send(snapshot(10));
    socket().send(hand(12));
    await advance(999);
    expect(sockets).toHaveLength(1);
    await advance(1);
    expect(sockets[0]!.closedWith).toBe(1000);
    expect(sockets).toHaveLength(2); // no backoff
    expect(connection).toMatchObject({ phase: "reconnecting", attempt: 0 });
    // Our own close, and anything still in flight on the old socket, is ignored.
    sockets[0]!.send(hand(11));
    sockets[0]!.drop(1000);
    expect(connection.phase).toBe("reconnecting");
    socket().send(snapshot(12));
    socket().send(hand(13));
    expect(delivered.slice(1)).toEqual([
      { type: "snapshot", seq: 12, reconnected: true },
      { type: "hand_raised", seq: 13, reconnected: false },
    ]);
    expect(connection.phase).toBe("live");
  });

  it("resyncs at most once per 2 s", async () => {
    socket().send(snapshot(10));
    socket().send(hand(12));
    await advance(1000); // resync at 1 s
    socket().send(snapshot(10));
    socket().send(hand(12));
    await advance(1999);
    expect(sockets).toHaveLength(2);
    await advance(1); // 3 s: 2 s after the last
    expect(sockets).toHaveLength(3);
  });

  it("backs off after 1013 and rebuilds from the new snapshot", async () => {
    socket().send(snapshot(10));
    socket().drop(1013);
    expect(connection).toMatchObject({ phase: "reconnecting", retryInMs: 1000 });
    await advance(999);
    expect(sockets).toHaveLength(1);
    await advance(1);
    expect(sockets).toHaveLength(2);
    socket().send(snapshot(15));
    expect(delivered[1]).toEqual({ type: "snapshot", seq: 15, reconnected: true });
  });

  it("applies what it held when the stream closes for good", () => {
    socket().send(snapshot(10));
    socket().send(ev({ type: "space_ended", seq: 12, reason: "host_ended" }));
    expect(seqs()).toEqual([10]);
    socket().drop(1000);
    expect(delivered[1]).toMatchObject({ type: "space_ended", seq: 12 });
    expect(connection).toMatchObject({ phase: "ended", cause: "space_over" });
  });

  it("drops what it held when it reconnects (the snapshot covers it)", async () => {
    socket().send(snapshot(10));
    socket().send(hand(12));
    socket().drop(1006);
    await advance(1000);
    socket().send(snapshot(12));
    expect(seqs()).toEqual([10, 12]);
  });

  it("ends when the viewer is removed, from the event in order", () => {
    socket().send(snapshot(10));
    socket().send(ev({ type: "participant_left", seq: 12, user_id: ME, reason: "removed" }));
    expect(connection.phase).toBe("live");
    socket().send(hand(11));
    expect(connection).toMatchObject({ phase: "ended", cause: "removed" });
  });
});
