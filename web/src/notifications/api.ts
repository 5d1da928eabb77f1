// The bell's endpoints (GET /api/me/notifications, its long-poll and "read"), in the style
// of api/client.ts: one function per endpoint; errors are ApiErrors from problem bodies.
import { request } from "../api/client";
import type { NotificationPage } from "../api/types";

/** How many the bell shows at a time (and asks for per "Load more"). */
export const PAGE_SIZE = 20;
/** Seconds the server holds a long-poll open when nothing arrives (it allows 0–30). */
export const WAIT_SECONDS = 25;

export const notificationsApi = {
  /** The newest `limit`, or those older than `before`; newest first. */
  list: (opts: { limit?: number; before?: number | null } = {}, signal?: AbortSignal) => {
    const query = new URLSearchParams({ limit: String(opts.limit ?? PAGE_SIZE) });
    if (opts.before != null) query.set("before", String(opts.before));
    return request<NotificationPage>("GET", `/api/me/notifications?${query}`, undefined, signal);
  },
  /**
   * The newest `PAGE_SIZE` of those newer than `after`: at once if there are any, else as
   * soon as one arrives, or none after `timeout` seconds.
   */
  wait: (after: number, timeout: number = WAIT_SECONDS, signal?: AbortSignal) =>
    request<NotificationPage>(
      "GET",
      `/api/me/notifications/wait?after=${after}&timeout=${timeout}&limit=${PAGE_SIZE}`,
      undefined,
      signal,
    ),
  /** Mark everything up to `upTo` (an id) read; answers how many are still unread. */
  markRead: (upTo: number) =>
    request<{ unread: number }>("POST", "/api/me/notifications/read", { up_to: upTo }),
};
