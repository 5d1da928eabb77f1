import { describe, expect, it } from "vitest";
import { ApiError } from "../api/problem";
import type { NotificationPage } from "../api/types";
import { runBellLoop, type LoopDeps } from "./loop";

function page(ids: number[], unread = ids.length): NotificationPage {
  return {
    items: ids.map((id) => ({
      id,
      kind: "host_live",
      created_at: "2026-05-01T18:00:00Z",
      read: false,
      space: null,
      actor: null,
      count: null,
    })),
    unread,
    latest_id: ids.length ? Math.max(...ids) : null,
  };
}

type Answer = NotificationPage | Error;

/** A scripted server: each call takes the next answer; past the script, the loop is stopped. */
function script(lists: Answer[], waits: Answer[]) {
  const controller = new AbortController();
  const calls: string[] = [];
  const slept: number[] = [];
  const loaded: NotificationPage[] = [];
  const arrived: NotificationPage[] = [];
  const errors: [unknown, boolean][] = [];
  let clock = 0;
  const next = (answers: Answer[]) => {
    const answer = answers.shift();
    if (!answer) {
      controller.abort();
      return Promise.reject(new DOMException("aborted", "AbortError"));
    }
    clock += 5000; // each answer takes 5 s
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  const deps: LoopDeps = {
    list: () => {
      calls.push("list");
      return next(lists);
    },
    wait: (after) => {
      calls.push(`wait ${after}`);
      return next(waits);
    },
    onLoaded: (p) => loaded.push(p),
    onArrived: (p) => arrived.push(p),
    onError: (e, final) => errors.push([e, final]),
    sleep: async (ms) => {
      slept.push(ms);
    },
    now: () => clock,
  };
  return { deps, controller, calls, slept, loaded, arrived, errors };
}

const unavailable = () => new ApiError({ status: 503, title: "Unavailable", detail: "Try again." });

describe("runBellLoop", () => {
  it("loads the newest page, then waits after the newest id it has seen", async () => {
    const s = script([page([3, 2])], [page([5, 4]), page([]), page([6])]);
    await runBellLoop(s.deps, s.controller.signal);
    expect(s.calls).toEqual(["list", "wait 3", "wait 5", "wait 5", "wait 6"]);
    expect(s.loaded).toHaveLength(1);
    expect(s.arrived.map((p) => p.items.length)).toEqual([2, 0, 1]);
    expect(s.slept).toEqual([]);
  });

  it("waits after 0 when there is nothing yet", async () => {
    const s = script([page([])], [page([1])]);
    await runBellLoop(s.deps, s.controller.signal);
    expect(s.calls).toEqual(["list", "wait 0", "wait 1"]);
  });

  it("backs off 1 s → 10 s on errors, and starts over after a success", async () => {
    const s = script(
      [unavailable(), new TypeError("network"), page([1])],
      [...Array.from({ length: 5 }, unavailable), page([2]), unavailable()],
    );
    await runBellLoop(s.deps, s.controller.signal);
    expect(s.slept).toEqual([1000, 2000, 1000, 2000, 4000, 8000, 10_000, 1000]);
    expect(s.calls.filter((c) => c === "list")).toHaveLength(3);
    expect(s.errors.at(-1)).toEqual([expect.any(ApiError), false]);
    expect(s.errors.some(([e]) => e === null)).toBe(true); // told it works again
  });

  it("waits as long as the server asks", async () => {
    const busy = new ApiError({ status: 429, title: "Slow down", detail: "", retryAfter: 7 });
    const s = script([page([])], [busy, page([])]);
    await runBellLoop(s.deps, s.controller.signal);
    expect(s.slept).toEqual([7000]);
  });

  it("stops for good on 401", async () => {
    const gone = new ApiError({ status: 401, title: "Unauthorized", detail: "Sign in." });
    const s = script([page([1])], [gone, page([2])]);
    await runBellLoop(s.deps, s.controller.signal);
    expect(s.calls).toEqual(["list", "wait 1"]);
    expect(s.errors).toEqual([[gone, true]]);
    expect(s.controller.signal.aborted).toBe(false);
  });

  it("does not spin on a long-poll that answers empty at once", async () => {
    const s = script([page([])], [page([]), page([])]);
    s.deps.now = () => 0; // answered instantly
    await runBellLoop(s.deps, s.controller.signal);
    expect(s.slept).toEqual([1000, 1000]);
  });

  it("does nothing once aborted", async () => {
    const s = script([page([1])], [page([2])]);
    s.controller.abort();
    await runBellLoop(s.deps, s.controller.signal);
    expect(s.calls).toEqual([]);
  });

  it("drops an answer that lands after the abort", async () => {
    const s = script([], []);
    s.deps.list = () => {
      s.controller.abort();
      return Promise.resolve(page([1]));
    };
    await runBellLoop(s.deps, s.controller.signal);
    expect(s.loaded).toEqual([]);
  });
});
