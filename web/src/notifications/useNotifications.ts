// Keeps the bell live while someone is signed in: the newest page, then a long-poll loop
// (GET …/wait) that brings each new notification and the server's unread count. Errors back
// off 1 s → 10 s; a 401 stops the loop; signing out or unmounting aborts it.
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { errorMessage } from "../api/problem";
import { notificationsApi, PAGE_SIZE, WAIT_SECONDS } from "./api";
import { runBellLoop } from "./loop";
import { bellReducer, initialBell, oldestId, waitAfter, type BellState } from "./state";

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

    void runBellLoop(
      {
        list: (signal) => notificationsApi.list({ limit: PAGE_SIZE }, signal),
        wait: (after, signal) => notificationsApi.wait(after, WAIT_SECONDS, signal),
        onLoaded: (page) => dispatch({ type: "loaded", page, limit: PAGE_SIZE }),
        onArrived: (page) => dispatch({ type: "arrived", page, limit: PAGE_SIZE }),
        // The list says why it could not load, or that the session is over; a long-poll
        // failing now and then while the list is shown is not worth a word.
        onError: (e, final) =>
          setError(e === null ? null : final || !stateRef.current.loaded ? errorMessage(e) : null),
      },
      controller.signal,
    );

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
