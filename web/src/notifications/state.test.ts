import { describe, expect, it } from "vitest";
import type { NotificationPage, NotificationView } from "../api/types";
import {
  bellReducer,
  initialBell,
  mergeNotifications,
  oldestId,
  retryDelayMs,
  waitAfter,
  type BellState,
} from "./state";

function n(id: number, extra: Partial<NotificationView> = {}): NotificationView {
  return {
    id,
    kind: "host_live",
    created_at: "2026-05-01T18:00:00Z",
    read: false,
    space: { id: `s${id}`, title: `Space ${id}`, state: "live", scheduled_for: null },
    actor: { id: 7, handle: "ana", display_name: "Ana", verified: false },
    count: null,
    ...extra,
  };
}

function page(ids: number[], unread: number, latest_id?: number | null): NotificationPage {
  return {
    items: ids.map((id) => n(id)),
    unread,
    latest_id: latest_id === undefined ? (ids.length ? Math.max(...ids) : null) : latest_id,
  };
}

const ids = (state: BellState) => state.items.map((item) => item.id);

describe("mergeNotifications", () => {
  it("keeps newest first and each id once", () => {
    const merged = mergeNotifications([n(5), n(3), n(1)], [n(6), n(3), n(2)]);
    expect(merged.map((item) => item.id)).toEqual([6, 5, 3, 2, 1]);
  });

  it("takes the incoming copy of an id already shown", () => {
    const merged = mergeNotifications([n(3, { read: false })], [n(3, { read: true })]);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.read).toBe(true);
  });

  it("sorts whatever order the pieces come in", () => {
    expect(mergeNotifications([], [n(1), n(9), n(4)]).map((item) => item.id)).toEqual([9, 4, 1]);
  });
});

describe("bellReducer", () => {
  it("loads the first page, counting what the server counts", () => {
    const state = bellReducer(initialBell, { type: "loaded", page: page([4, 3], 1), limit: 20 });
    expect(ids(state)).toEqual([4, 3]);
    expect(state.unread).toBe(1);
    expect(state.latestId).toBe(4);
    expect(state.loaded).toBe(true);
    expect(state.hasMore).toBe(false);
    expect(waitAfter(state)).toBe(4);
  });

  it("offers more when a page came back full", () => {
    const state = bellReducer(initialBell, { type: "loaded", page: page([3, 2], 0), limit: 2 });
    expect(state.hasMore).toBe(true);
    expect(oldestId(state)).toBe(2);
    const more = bellReducer(state, { type: "older", page: page([1], 0, 3), limit: 2 });
    expect(ids(more)).toEqual([3, 2, 1]);
    expect(more.hasMore).toBe(false);
  });

  it("waits after 0 before there is any notification", () => {
    const state = bellReducer(initialBell, { type: "loaded", page: page([], 0), limit: 20 });
    expect(state.latestId).toBeNull();
    expect(waitAfter(state)).toBe(0);
    expect(oldestId(state)).toBeNull();
  });

  it("puts what the long-poll brings on top, without duplicates", () => {
    let state = bellReducer(initialBell, { type: "loaded", page: page([2, 1], 2), limit: 20 });
    state = bellReducer(state, { type: "arrived", page: page([4, 3], 4), limit: 20 });
    state = bellReducer(state, { type: "arrived", page: page([4], 4), limit: 20 }); // answered twice
    expect(ids(state)).toEqual([4, 3, 2, 1]);
    expect(state.unread).toBe(4);
    expect(state.latestId).toBe(4);
  });

  it("takes the unread count from the server, even when it is not the list's", () => {
    let state = bellReducer(initialBell, { type: "loaded", page: page([2, 1], 17), limit: 2 });
    expect(state.unread).toBe(17);
    state = bellReducer(state, { type: "arrived", page: page([], 3, 2), limit: 20 });
    expect(state.unread).toBe(3);
    expect(ids(state)).toEqual([2, 1]);
  });

  it("never moves where the long-poll continues backwards", () => {
    let state = bellReducer(initialBell, { type: "loaded", page: page([9], 1), limit: 20 });
    state = bellReducer(state, { type: "arrived", page: page([], 1, 5), limit: 20 });
    expect(waitAfter(state)).toBe(9);
    state = bellReducer(state, { type: "arrived", page: page([], 1, 12), limit: 20 });
    expect(waitAfter(state)).toBe(12);
  });

  it("starts over from a full page of arrivals, so older ones load below it with no hole", () => {
    let state = bellReducer(initialBell, { type: "loaded", page: page([2, 1], 0), limit: 3 });
    // 9, 8 and 7 arrived (3, a full page); 6 to 3 may exist but were not sent.
    state = bellReducer(state, { type: "arrived", page: page([9, 8, 7], 7), limit: 3 });
    expect(ids(state)).toEqual([9, 8, 7]);
    expect(state.hasMore).toBe(true);
    expect(oldestId(state)).toBe(7);
    state = bellReducer(state, { type: "older", page: page([6, 5, 4], 7, 9), limit: 3 });
    expect(ids(state)).toEqual([9, 8, 7, 6, 5, 4]);
  });

  it("marks read up to an id, and keeps the server's count", () => {
    let state = bellReducer(initialBell, { type: "loaded", page: page([3, 2, 1], 3), limit: 20 });
    state = bellReducer(state, { type: "read", upTo: 2, unread: 1 });
    expect(state.items.map((item) => item.read)).toEqual([false, true, true]);
    expect(state.unread).toBe(1);
  });

  it("forgets everything on reset", () => {
    const state = bellReducer(initialBell, { type: "loaded", page: page([1], 1), limit: 20 });
    expect(bellReducer(state, { type: "reset" })).toEqual(initialBell);
  });
});

describe("retryDelayMs", () => {
  it("backs off from 1 s to 10 s", () => {
    expect([1, 2, 3, 4, 5, 9].map((f) => retryDelayMs(f))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it("waits at least as long as the server asked, up to a minute", () => {
    expect(retryDelayMs(1, 5)).toBe(5000);
    expect(retryDelayMs(5, 2)).toBe(10_000);
    expect(retryDelayMs(1, 3600)).toBe(60_000);
  });
});
