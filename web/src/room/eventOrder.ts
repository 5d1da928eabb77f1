// The event stream's order, as one small pure state machine. Events committed with a change
// carry the space's sequence number (`seq`, one more per event); across the server's nodes
// one may arrive twice, a little out of order, or not at all. From the snapshot's `seq` on,
// a repeat is dropped, the next one applied, and one past a gap held until the gap fills;
// a gap still open after GAP_WAIT_MS asks for a resync (a new connection, a new snapshot).
// Events without a seq (speaking, reactions, counts) pass straight through. Pure: the time
// comes in with each call, so tests need no clock.

/** How long an event past a gap waits for the events missing before it. */
export const GAP_WAIT_MS = 1000;
/** At most one resync this often, so a broken server cannot make us reconnect in a loop. */
export const RESYNC_INTERVAL_MS = 2000;

/** What ordering needs of an event (the snapshot's seq may be missing on an older server). */
export interface Sequenced {
  type: string;
  seq?: number | null;
}

interface Held<E> {
  event: E;
  seq: number;
  /** When it arrived: what it waits for has been missing since then. */
  since: number;
}

export interface OrderState<E> {
  /** The last seq applied (the snapshot's to begin with); null: not ordering (no snapshot yet). */
  lastSeq: number | null;
  /** Events past a gap, by seq. */
  held: Held<E>[];
  /** When the last resync was asked for (survives snapshots, for RESYNC_INTERVAL_MS). */
  resyncAt: number | null;
}

export interface OrderStep<E> {
  state: OrderState<E>;
  /** Events to apply now, in order. */
  ready: E[];
  /** A gap did not fill in time: reconnect now for a new snapshot (then call `resynced`). */
  resync: boolean;
  /** When to call `tick` next (a held event's deadline), or null with nothing held. */
  wakeAt: number | null;
}

export function initialOrder<E>(): OrderState<E> {
  return { lastSeq: null, held: [], resyncAt: null };
}

function seqOf(event: Sequenced): number | null {
  const seq = event.seq;
  return typeof seq === "number" && Number.isSafeInteger(seq) ? seq : null;
}

/** Apply what the held events now continue, in order; drop those already applied. */
function drain<E>(state: OrderState<E>, ready: E[]): OrderState<E> {
  let { lastSeq } = state;
  if (lastSeq === null) return state;
  const held = [...state.held];
  while (held.length > 0 && held[0]!.seq <= lastSeq + 1) {
    const next = held.shift()!;
    if (next.seq === lastSeq + 1) {
      ready.push(next.event);
      lastSeq = next.seq;
    }
  }
  return { ...state, lastSeq, held };
}

/** When the gap must be given up on (the rate limit may push it later). */
function deadline<E>(state: OrderState<E>): number | null {
  if (state.held.length === 0) return null;
  // Something has been missing since the first of the held events came.
  const gapOver = Math.min(...state.held.map((h) => h.since)) + GAP_WAIT_MS;
  return state.resyncAt === null ? gapOver : Math.max(gapOver, state.resyncAt + RESYNC_INTERVAL_MS);
}

function step<E>(state: OrderState<E>, ready: E[], now: number): OrderStep<E> {
  const wakeAt = deadline(state);
  if (wakeAt !== null && now >= wakeAt) return { state, ready, resync: true, wakeAt: null };
  return { state, ready, resync: false, wakeAt };
}

/** One event off the socket. */
export function receive<E extends Sequenced>(
  state: OrderState<E>,
  event: E,
  now: number,
): OrderStep<E> {
  const seq = seqOf(event);
  if (event.type === "snapshot") {
    // The truth as of `seq`: held events it already includes go; later ones may follow it.
    const ready: E[] = [event];
    return step(drain({ ...state, lastSeq: seq, held: seq === null ? [] : state.held }, ready), ready, now);
  }
  if (seq === null || state.lastSeq === null) return step(state, [event], now);
  if (seq <= state.lastSeq || state.held.some((h) => h.seq === seq)) {
    return step(state, [], now); // a repeat
  }
  if (seq === state.lastSeq + 1) {
    const ready: E[] = [event];
    return step(drain({ ...state, lastSeq: seq }, ready), ready, now);
  }
  const held = [...state.held, { event, seq, since: now }].sort((a, b) => a.seq - b.seq);
  return step({ ...state, held }, [], now);
}

/** Time passed with nothing received: has a gap waited too long? */
export function tick<E>(state: OrderState<E>, now: number): OrderStep<E> {
  return step(state, [], now);
}

/** The stream reconnects to resync: nothing is held, ordering restarts at the next snapshot. */
export function resynced<E>(_state: OrderState<E>, now: number): OrderState<E> {
  return { lastSeq: null, held: [], resyncAt: now };
}

/**
 * The connection closed. On a close for good (the space is over, we were removed) no
 * snapshot will come to fill a gap: what was held is still true, so apply it, in order.
 * On a close we reconnect from, the next snapshot covers it: drop it.
 */
export function closed<E>(state: OrderState<E>, forGood: boolean): OrderStep<E> {
  const ready = forGood ? state.held.map((h) => h.event) : [];
  return {
    state: { lastSeq: null, held: [], resyncAt: state.resyncAt },
    ready,
    resync: false,
    wakeAt: null,
  };
}
