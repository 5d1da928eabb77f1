import { describe, expect, it } from "vitest";
import type { SpaceEvent } from "../api/types";
import {
  GAP_WAIT_MS,
  RESYNC_INTERVAL_MS,
  closed,
  initialOrder,
  receive,
  resynced,
  tick,
  type OrderState,
  type OrderStep,
} from "./eventOrder";
import { ev, participant, space } from "./fixtures";

const snapshot = (seq: number) => ev({ type: "snapshot", seq, space: space(), participants: [] });
const hand = (seq: number) => ev({ type: "hand_raised", seq, user_id: seq });
const speaking = () => ev({ type: "speaking", user_ids: [1] });

/** Feed events at the given times; collect what was applied and the last step. */
function feed(
  state: OrderState<SpaceEvent>,
  ...arrivals: [SpaceEvent, number][]
): { applied: SpaceEvent[]; last: OrderStep<SpaceEvent> } {
  const applied: SpaceEvent[] = [];
  let last: OrderStep<SpaceEvent> = { state, ready: [], resync: false, wakeAt: null };
  for (const [event, now] of arrivals) {
    last = receive(last.state, event, now);
    applied.push(...last.ready);
  }
  return { applied, last };
}

const seqs = (events: SpaceEvent[]) => events.map((e) => e.seq);

/** Ordering from a snapshot at seq 10, received at time 0. */
function after10(): OrderState<SpaceEvent> {
  return receive(initialOrder<SpaceEvent>(), snapshot(10), 0).state;
}

describe("event order", () => {
  it("applies events in order and moves on", () => {
    const { applied, last } = feed(after10(), [hand(11), 1], [hand(12), 2], [hand(13), 3]);
    expect(seqs(applied)).toEqual([11, 12, 13]);
    expect(last.state.lastSeq).toBe(13);
    expect(last.wakeAt).toBeNull();
  });

  it("drops repeats: already in the snapshot, already applied, or already held", () => {
    const { applied, last } = feed(
      after10(),
      [hand(9), 1],
      [hand(10), 1],
      [hand(11), 2],
      [hand(11), 3],
      [hand(13), 4],
      [hand(13), 5],
      [hand(12), 6],
    );
    expect(seqs(applied)).toEqual([11, 12, 13]);
    expect(last.state.held).toEqual([]);
  });

  it("holds events past a gap and applies them in order once it fills", () => {
    const first = feed(after10(), [hand(13), 100], [hand(12), 200]);
    expect(first.applied).toEqual([]);
    expect(first.last.wakeAt).toBe(100 + GAP_WAIT_MS);
    const filled = feed(first.last.state, [hand(11), 100 + GAP_WAIT_MS - 1]);
    expect(seqs(filled.applied)).toEqual([11, 12, 13]);
    expect(filled.last).toMatchObject({ resync: false, wakeAt: null });
    expect(filled.last.state.lastSeq).toBe(13);
  });

  it("keeps waiting for a second gap from when its first event came", () => {
    const { applied, last } = feed(after10(), [hand(12), 0], [hand(14), 500], [hand(11), 600]);
    expect(seqs(applied)).toEqual([11, 12]);
    expect(last.state.lastSeq).toBe(12);
    expect(last.wakeAt).toBe(500 + GAP_WAIT_MS);
  });

  it("asks for a resync when a gap does not fill in time", () => {
    const { last } = feed(after10(), [hand(12), 100]);
    expect(tick(last.state, 100 + GAP_WAIT_MS - 1).resync).toBe(false);
    expect(tick(last.state, 100 + GAP_WAIT_MS)).toMatchObject({ resync: true, ready: [] });
    // Also when the next event itself comes too late (a throttled timer).
    expect(receive(last.state, hand(13), 100 + GAP_WAIT_MS + 5).resync).toBe(true);
  });

  it("lets events without a seq through at once, even past a gap", () => {
    const { applied, last } = feed(after10(), [hand(12), 0], [speaking(), 1]);
    expect(applied.map((e) => e.type)).toEqual(["speaking"]);
    expect(last.state.held).toHaveLength(1);
    // Never de-duplicated either.
    expect(feed(after10(), [speaking(), 1], [speaking(), 2]).applied).toHaveLength(2);
  });

  it("lets everything through before a snapshot, and after one without a seq", () => {
    expect(seqs(feed(initialOrder(), [hand(5), 0], [hand(5), 1]).applied)).toEqual([5, 5]);
    const old = { ...snapshot(0), seq: undefined } as unknown as SpaceEvent;
    const { applied } = feed(initialOrder(), [old, 0], [hand(7), 1], [hand(3), 2]);
    expect(applied.map((e) => e.seq ?? null)).toEqual([null, 7, 3]);
  });

  it("starts afresh at a snapshot: its seq is the last applied", () => {
    const { applied, last } = feed(
      after10(),
      [hand(11), 1],
      [hand(13), 2],
      [hand(16), 3],
      [snapshot(14), 4],
      [hand(14), 5],
      [hand(15), 6],
    );
    expect(applied.map((e) => e.type)).toEqual(["hand_raised", "snapshot", "hand_raised", "hand_raised"]);
    expect(seqs(applied)).toEqual([11, 14, 15, 16]);
    expect(last.state).toMatchObject({ lastSeq: 16, held: [] });
  });

  it("starts at 0 for a new space", () => {
    const state = receive(initialOrder<SpaceEvent>(), snapshot(0), 0).state;
    expect(seqs(feed(state, [hand(1), 1]).applied)).toEqual([1]);
  });

  it("resyncs at most once per RESYNC_INTERVAL_MS", () => {
    const gap = (state: OrderState<SpaceEvent>, at: number) =>
      feed(receive(state, snapshot(10), at).state, [hand(12), at]).last.state;
    const first = gap(initialOrder(), 0);
    expect(tick(first, GAP_WAIT_MS).resync).toBe(true);
    const again = gap(resynced(first, GAP_WAIT_MS), GAP_WAIT_MS + 50);
    // The new gap is over at 2050, but the last resync was at 1000: wait until 3000.
    expect(receive(again, speaking(), 2 * GAP_WAIT_MS + 50)).toMatchObject({
      resync: false,
      wakeAt: GAP_WAIT_MS + RESYNC_INTERVAL_MS,
    });
    expect(tick(again, GAP_WAIT_MS + RESYNC_INTERVAL_MS - 1).resync).toBe(false);
    expect(tick(again, GAP_WAIT_MS + RESYNC_INTERVAL_MS).resync).toBe(true);
  });

  it("forgets what it held on a resync", () => {
    const { last } = feed(after10(), [hand(12), 0]);
    expect(resynced(last.state, 5)).toEqual({ lastSeq: null, held: [], resyncAt: 5 });
  });

  it("applies what it held when the stream closes for good, drops it otherwise", () => {
    const over = ev({ type: "space_ended", seq: 14, reason: "host_ended" });
    const left = ev({ type: "participant_left", seq: 12, user_id: 2, reason: "left" });
    const { last } = feed(after10(), [over, 0], [left, 1]);
    expect(seqs(closed(last.state, true).ready)).toEqual([12, 14]);
    expect(closed(last.state, false).ready).toEqual([]);
    expect(closed(last.state, true).state).toEqual({ lastSeq: null, held: [], resyncAt: null });
  });

  it("carries media_moved in order like any committed event", () => {
    const moved = ev({ type: "media_moved", seq: 12 });
    const joined = ev({ type: "participant_joined", seq: 11, participant: participant(4) });
    const { applied } = feed(after10(), [moved, 0], [joined, 10]);
    expect(applied.map((e) => e.type)).toEqual(["participant_joined", "media_moved"]);
  });
});
