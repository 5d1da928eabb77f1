// Keeps the bell live while someone is signed in: the newest page, then a long-poll loop
// (GET …/wait) that brings each new notification and the server's unread count. Errors back
// off 1 s → 10 s; a 401 stops the loop; signing out or unmounting aborts it.
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { ApiError, errorMessage } from "../api/problem";
import { notificationsApi, PAGE_SIZE, WAIT_SECONDS } from "./api";
import { bellReducer, initialBell, oldestId, retryDelayMs, waitAfter, type BellState } from "./state";

/** A long-poll answered this soon with nothing in it is not trusted to pace the loop. */
const MIN_EMPTY_WAIT_MS = 1000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

export interface Bell {
  state: BellState;
  /** Why the list could not be loaded (null when it could). */
  error: string | null;
  loadingMore: boolean;
  loadMore: () => Promise<void>;
  /** Mark everything shown read (the newest id known). */
  markAllRead: () => Promise<void>;
}

/** `userId`: who is signed in (null: nobody, nothing runs). */
export function useNotifications(userId: number | null): Bell {
  const [state, dispatch] = useReducer(bellReducer, initialBell);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const stateRef = useRef(state);
  stateRef.current = state;

  useEffect(() => {
    dispatch({ type: "reset" });
    setError(null);
    if (userId === null) return;
    const controller = new AbortController();
    const { signal } = controller;

    (async () => {
      let failures = 0;
      let loaded = false;
      let after = 0;
      while (!signal.aborted) {
        try {
          if (!loaded) {
            const page = await notificationsApi.list({ limit: PAGE_SIZE }, signal);
            if (signal.aborted) return;
            dispatch({ type: "loaded", page, limit: PAGE_SIZE });
            after = Math.max(after, page.latest_id ?? 0, page.items[0]?.id ?? 0);
            loaded = true;
          } else {
            const asked = Date.now();
            const page = await notificationsApi.wait(after, WAIT_SECONDS, signal);
            if (signal.aborted) return;
            dispatch({ type: "arrived", page });
            after = Math.max(after, page.latest_id ?? 0, ...page.items.map((n) => n.id));
            if (page.items.length === 0 && Date.now() - asked < MIN_EMPTY_WAIT_MS) {
              await sleep(MIN_EMPTY_WAIT_MS, signal);
            }
          }
          failures = 0;
          setError(null);
        } catch (e) {
          if (signal.aborted) return;
          if (e instanceof ApiError && e.status === 401) {
            // Signed out elsewhere, or the session expired: nothing to wait for.
            setError(errorMessage(e));
            return;
          }
          failures += 1;
          if (!loaded) setError(errorMessage(e));
          await sleep(retryDelayMs(failures, e instanceof ApiError ? e.retryAfter : null), signal);
        }
      }
    })();

    return () => controller.abort();
  }, [userId]);

  const loadMore = useCallback(async () => {
    const before = oldestId(stateRef.current);
    if (before === null) return;
    setLoadingMore(true);
    try {
      const page = await notificationsApi.list({ limit: PAGE_SIZE, before });
      dispatch({ type: "older", page, limit: PAGE_SIZE });
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoadingMore(false);
    }
  }, []);

  const markAllRead = useCallback(async () => {
    const upTo = waitAfter(stateRef.current);
    if (upTo === 0) return;
    try {
      const { unread } = await notificationsApi.markRead(upTo);
      dispatch({ type: "read", upTo, unread });
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);

  return { state, error, loadingMore, loadMore, markAllRead };
}
