// The bell's live loop, apart from React: the newest page, then long-polls one after another.
// Errors back off 1 s → 10 s (longer if the server says Retry-After); a 401 ends it (nobody
// signed in any more); aborting the signal ends it at once.
import type { NotificationPage } from "../api/types";
import { ApiError } from "../api/problem";
import { retryDelayMs } from "./state";

/** A long-poll answered this soon with nothing in it does not pace the loop by itself. */
export const MIN_EMPTY_WAIT_MS = 1000;

export interface LoopDeps {
  list: (signal: AbortSignal) => Promise<NotificationPage>;
  wait: (after: number, signal: AbortSignal) => Promise<NotificationPage>;
  /** The newest page arrived (at the start, or again after failing to load it). */
  onLoaded: (page: NotificationPage) => void;
  /** A long-poll answered (maybe with nothing). */
  onArrived: (page: NotificationPage) => void;
  /** Something failed (null: working again); `final` when the loop gives up. */
  onError: (error: unknown, final: boolean) => void;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

function newestId(after: number, page: NotificationPage): number {
  return Math.max(after, page.latest_id ?? 0, ...page.items.map((item) => item.id));
}

/** Runs until `signal` aborts or the server answers 401. */
export async function runBellLoop(deps: LoopDeps, signal: AbortSignal): Promise<void> {
  const pause = deps.sleep ?? sleep;
  const now = deps.now ?? Date.now;
  let failures = 0;
  let after: number | null = null;
  while (!signal.aborted) {
    try {
      if (after === null) {
        const page = await deps.list(signal);
        if (signal.aborted) return;
        deps.onLoaded(page);
        after = newestId(0, page);
      } else {
        const asked = now();
        const page = await deps.wait(after, signal);
        if (signal.aborted) return;
        deps.onArrived(page);
        after = newestId(after, page);
        if (page.items.length === 0 && now() - asked < MIN_EMPTY_WAIT_MS) {
          await pause(MIN_EMPTY_WAIT_MS, signal);
        }
      }
      if (failures > 0) deps.onError(null, false);
      failures = 0;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) {
        deps.onError(error, true);
        return;
      }
      failures += 1;
      deps.onError(error, false);
      await pause(retryDelayMs(failures, error instanceof ApiError ? error.retryAfter : null), signal);
    }
  }
}
