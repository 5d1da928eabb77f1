// The bell's state, kept by a pure reducer: the list (newest first, each id once), the unread
// count (always the server's latest word), and where the long-poll continues from.
import type { NotificationPage, NotificationView } from "../api/types";

export interface BellState {
  /** Newest first, each id once. */
  items: NotificationView[];
  /** As the server last counted them. */
  unread: number;
  /** The newest id known: the long-poll asks for what came after it. */
  latestId: number | null;
  /** The first page has arrived. */
  loaded: boolean;
  /** Older notifications may exist beyond the last one shown ("Load more"). */
  hasMore: boolean;
}

export type BellAction =
  /** The newest page (on start, or again after an error). */
  | { type: "loaded"; page: NotificationPage; limit: number }
  /** A page older than the oldest shown ("Load more"). */
  | { type: "older"; page: NotificationPage; limit: number }
  /**
   * The long-poll's answer: what arrived after `latestId` (maybe nothing), the newest `limit`
   * of them; a full page may leave out older ones, so it replaces the list ("Load more" then
   * continues below it, with no hole).
   */
  | { type: "arrived"; page: NotificationPage; limit: number }
  /** Everything up to `upTo` marked read; `unread` is what the server still counts. */
  | { type: "read"; upTo: number; unread: number }
  /** Signed out (or another person signed in). */
  | { type: "reset" };

export const initialBell: BellState = {
  items: [],
  unread: 0,
  latestId: null,
  loaded: false,
  hasMore: false,
};

/** `incoming` and `current` as one list: newest first, each id once (the incoming copy wins). */
export function mergeNotifications(
  current: readonly NotificationView[],
  incoming: readonly NotificationView[],
): NotificationView[] {
  const byId = new Map<number, NotificationView>();
  for (const item of current) byId.set(item.id, item);
  for (const item of incoming) byId.set(item.id, item);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

function newest(...ids: (number | null | undefined)[]): number | null {
  let best: number | null = null;
  for (const id of ids) if (id != null && (best === null || id > best)) best = id;
  return best;
}

function withPage(state: BellState, page: NotificationPage): BellState {
  const items = mergeNotifications(state.items, page.items);
  return {
    ...state,
    items,
    unread: Math.max(0, page.unread),
    latestId: newest(state.latestId, page.latest_id, items[0]?.id),
  };
}

export function bellReducer(state: BellState, action: BellAction): BellState {
  switch (action.type) {
    case "loaded":
      return {
        ...withPage(state, action.page),
        loaded: true,
        // Once older pages were loaded, a fresh first page says nothing about them.
        hasMore: state.loaded ? state.hasMore : action.page.items.length >= action.limit,
      };
    case "older":
      return { ...withPage(state, action.page), hasMore: action.page.items.length >= action.limit };
    case "arrived":
      if (action.page.items.length >= action.limit) {
        return { ...withPage({ ...state, items: [] }, action.page), hasMore: true };
      }
      return withPage(state, action.page);
    case "read":
      return {
        ...state,
        unread: Math.max(0, action.unread),
        items: state.items.map((item) =>
          item.id <= action.upTo && !item.read ? { ...item, read: true } : item,
        ),
      };
    case "reset":
      return initialBell;
  }
}

/** The id the long-poll continues after (0 before there is any notification). */
export function waitAfter(state: BellState): number {
  return state.latestId ?? 0;
}

/** The id "Load more" asks before: the oldest shown. */
export function oldestId(state: BellState): number | null {
  return state.items.at(-1)?.id ?? null;
}

/**
 * How long to wait before the next try after `failures` failures in a row: 1 s, 2 s, 4 s,
 * 8 s, then 10 s; longer if the server asked so (Retry-After), up to a minute.
 */
export function retryDelayMs(failures: number, retryAfterSeconds: number | null = null): number {
  const backoff = Math.min(10_000, 1000 * 2 ** Math.max(0, failures - 1));
  if (retryAfterSeconds === null) return backoff;
  return Math.max(backoff, Math.min(60_000, retryAfterSeconds * 1000));
}
