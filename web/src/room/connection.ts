// The event stream's connection state, as one small pure state machine.
import { CLOSE } from "../api/types";
import { formatWhen } from "../lib/time";

export type ConnectionPhase = "connecting" | "live" | "reconnecting" | "ended";
export type EndCause = "space_over" | "removed" | "not_found" | "unauthorized" | "refused";

export interface ConnectionState {
  phase: ConnectionPhase;
  /** Failed attempts since the last good snapshot: drives the backoff. */
  attempt: number;
  cause: EndCause | null;
  /** When reconnecting: how long to wait before the next attempt. */
  retryInMs: number | null;
}

export type ConnectionInput =
  | { type: "snapshot" }
  | { type: "closed"; code: number }
  /** A gap in the events did not fill (eventOrder.ts): we close and reconnect at once. */
  | { type: "resync" }
  | { type: "space_over" }
  | { type: "removed" }
  | { type: "not_found" }
  /** The server will not let us follow (an audience view whose credential /listen refuses). */
  | { type: "refused" };

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 10_000;

/** 1 s, 2 s, 4 s, 8 s, then 10 s for every further attempt. */
export function backoffDelay(attempt: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempt), BACKOFF_MAX_MS);
}

export const initialConnection: ConnectionState = {
  phase: "connecting",
  attempt: 0,
  cause: null,
  retryInMs: null,
};

function ended(cause: EndCause): ConnectionState {
  return { phase: "ended", attempt: 0, cause, retryInMs: null };
}

const TERMINAL_CLOSES: Partial<Record<number, EndCause>> = {
  [CLOSE.NORMAL]: "space_over",
  [CLOSE.REMOVED]: "removed",
  [CLOSE.NOT_FOUND]: "not_found",
  [CLOSE.UNAUTHORIZED]: "unauthorized",
  // A refused Origin will be refused again: retrying would only spin.
  [CLOSE.POLICY]: "refused",
};

export function nextConnection(state: ConnectionState, input: ConnectionInput): ConnectionState {
  if (state.phase === "ended") return state; // nothing brings an ended stream back
  switch (input.type) {
    case "snapshot":
      return { phase: "live", attempt: 0, cause: null, retryInMs: null };
    case "space_over":
      return ended("space_over");
    case "removed":
      return ended("removed");
    case "not_found":
      return ended("not_found");
    case "refused":
      return ended("refused");
    case "resync":
      // Not a failure (eventOrder.ts limits how often): no backoff, and no attempt counted.
      return { phase: "reconnecting", attempt: state.attempt, cause: null, retryInMs: 0 };
    case "closed": {
      const cause = TERMINAL_CLOSES[input.code];
      if (cause) return ended(cause);
      // Any other close backs off, 1013 too (we fell behind, or the server lost its event bus):
      // a new snapshot rebuilds the room; retrying at once would spin against a server that
      // keeps closing on us.
      return {
        phase: "reconnecting",
        attempt: state.attempt + 1,
        cause: null,
        retryInMs: backoffDelay(state.attempt),
      };
    }
  }
}

const WORD: Record<ConnectionPhase, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  ended: "Ended",
};

// Short on purpose: the room says the full sentence once, elsewhere on the page.
const CAUSE_TEXT: Record<EndCause, string> = {
  space_over: "",
  removed: "removed",
  not_found: "not found",
  unauthorized: "sign in again",
  refused: "connection refused",
};

/**
 * The one status line: always contains exactly one of Connecting, Live, Reconnecting, Ended,
 * or Scheduled (followed, but not live yet: "Live" there read as the space being on air).
 */
export function connectionText(
  state: ConnectionState,
  spaceState: string | null = null,
  startsAt: string | null = null,
): string {
  const word = WORD[state.phase];
  if (state.phase === "ended") {
    if (state.cause && CAUSE_TEXT[state.cause]) return `${word} · ${CAUSE_TEXT[state.cause]}`;
    if (spaceState === "cancelled") return `${word} · cancelled`;
    return word;
  }
  if (state.phase === "live" && spaceState === "scheduled") {
    return startsAt ? `Scheduled · starts ${formatWhen(startsAt)}` : "Scheduled";
  }
  return word;
}

/** The status line's look: a followed scheduled space is not shown as live. */
export function connectionClass(state: ConnectionState, spaceState: string | null = null): string {
  return state.phase === "live" && spaceState === "scheduled" ? "scheduled" : state.phase;
}

/**
 * The status line of a viewer without a ticket to a ticketed space: the server would refuse
 * them the event stream, so none is opened (no Connecting, Live, Reconnecting or Ended).
 */
export const TICKET_ONLY_TEXT = "Ticket holders only";
