import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from "vitest";
import { ApiError } from "../api/problem";
import type { AudioAccess } from "../api/types";
import {
  AudioCredential,
  credentialIn,
  renewDelayMs,
  renewRetryDelayMs,
  withCredential,
  type CredentialEvents,
} from "./credential";
import type { HlsConfig, LoaderCallbacks, LoaderContext } from "hls.js/light";
import { keepRequestedUrl } from "./listenSession";

const OLD = "1790000000.AbCdEfGhIjKl.0123456789abcdefghij_-";
const NEW = "1790000010.AbCdEfGhIjKl.ZYXWVUTSRQPONMLKJIHG-_";

function access(credential: string | null, expiresIn: number | null = 10): AudioAccess {
  const segment = credential === null ? "" : `${credential}/`;
  return {
    space_id: "abc",
    playlist_url: `/api/spaces/abc/hls/${segment}live.m3u8`,
    credential,
    expires_in: credential === null ? null : expiresIn,
    replay: false,
    gap_seconds: 0,
  };
}

describe("withCredential", () => {
  it("replaces the path segment after /hls/ and keeps the query", () => {
    expect(withCredential(`/api/spaces/abc/hls/${OLD}/part12.3.m4s`, NEW)).toBe(
      `/api/spaces/abc/hls/${NEW}/part12.3.m4s`,
    );
    expect(
      withCredential(`https://127.0.0.1:8443/api/spaces/a-b_c/hls/${OLD}/live.m3u8?_HLS_msn=4&_HLS_part=1`, NEW),
    ).toBe(`https://127.0.0.1:8443/api/spaces/a-b_c/hls/${NEW}/live.m3u8?_HLS_msn=4&_HLS_part=1`);
  });

  it("replaces it after /recording/ too", () => {
    expect(withCredential(`http://h:1/api/spaces/abc/recording/${OLD}/seg3.m4s`, NEW)).toBe(
      `http://h:1/api/spaces/abc/recording/${NEW}/seg3.m4s`,
    );
  });

  it("leaves URLs without a credential, and free spaces, alone", () => {
    expect(withCredential("/api/spaces/abc/hls/live.m3u8", NEW)).toBe("/api/spaces/abc/hls/live.m3u8");
    expect(withCredential(`/api/spaces/abc/hls/${OLD}/init.mp4`, null)).toBe(
      `/api/spaces/abc/hls/${OLD}/init.mp4`,
    );
    // Something credential-shaped in the query is not the path segment.
    const query = `/api/spaces/abc/hls/live.m3u8?x=/hls/${OLD}/`;
    expect(withCredential(query, NEW)).toBe(query);
  });

  it("finds the credential in a URL", () => {
    expect(credentialIn(`https://e/api/spaces/abc/hls/${OLD}/part1.0.m4s?_HLS_part=0`)).toBe(OLD);
    expect(credentialIn("/api/spaces/abc/hls/part1.0.m4s")).toBeNull();
    // A wrong shape (11-char listener) is no credential.
    expect(credentialIn("/api/spaces/abc/hls/1.AbCdEfGhIjK.0123456789abcdefghij_-/x")).toBeNull();
  });
});

describe("renewal timing", () => {
  it("renews at 70 % of a short lifetime", () => {
    expect(renewDelayMs(10)).toBe(7000);
    expect(renewDelayMs(60)).toBe(42_000);
    expect(renewDelayMs(2)).toBe(1400);
  });

  it("never overflows setTimeout", () => {
    expect(renewDelayMs(10 ** 9)).toBe(2 ** 31 - 1);
  });

  it("retries a failed renewal quickly, within the rest of the lifetime", () => {
    expect([0, 1, 2, 3, 9].map(renewRetryDelayMs)).toEqual([500, 1000, 2000, 2000, 2000]);
  });
});

describe("AudioCredential", () => {
  let now = 0;
  let events: {
    onRenewed: Mock<CredentialEvents["onRenewed"]>;
    onRefused: Mock<CredentialEvents["onRefused"]>;
    onEnded: Mock<CredentialEvents["onEnded"]>;
    onRetry: Mock<NonNullable<CredentialEvents["onRetry"]>>;
  };

  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
    events = { onRenewed: vi.fn(), onRefused: vi.fn(), onEnded: vi.fn(), onRetry: vi.fn() };
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /** Advance the fake timers and the credential's clock together. */
  async function advance(ms: number): Promise<void> {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  }

  function make(fetchAccess: () => Promise<AudioAccess>): AudioCredential {
    return new AudioCredential(events, fetchAccess, () => now);
  }

  it("has nothing to renew in a free space", async () => {
    const fetchAccess = vi.fn(() => Promise.resolve(access(null)));
    const credential = make(fetchAccess);
    credential.accept(access(null));
    expect(credential.current).toBeNull();
    expect(credential.apply("/api/spaces/abc/hls/init.mp4")).toBe("/api/spaces/abc/hls/init.mp4");
    await advance(10 * 60_000);
    expect(fetchAccess).not.toHaveBeenCalled();
    expect(credential.isStale()).toBe(false);
    credential.refused(null);
    expect(fetchAccess).not.toHaveBeenCalled();
  });

  it("renews at 70 % and every request then carries the newest credential", async () => {
    const fetchAccess = vi.fn(() => Promise.resolve(access(NEW)));
    const credential = make(fetchAccess);
    credential.accept(access(OLD), 0);
    expect(credential.apply(`/api/spaces/abc/hls/${OLD}/part1.0.m4s`)).toContain(OLD);
    await advance(6999);
    expect(fetchAccess).not.toHaveBeenCalled();
    await advance(1);
    expect(fetchAccess).toHaveBeenCalledTimes(1);
    expect(credential.current).toBe(NEW);
    expect(events.onRenewed).toHaveBeenCalledWith(access(NEW));
    // A part listed by a playlist fetched with the old credential goes out with the new one.
    expect(credential.apply(`/api/spaces/abc/hls/${OLD}/part9.2.m4s`)).toBe(
      `/api/spaces/abc/hls/${NEW}/part9.2.m4s`,
    );
    // And the next renewal is 7 s after that one was asked for.
    await advance(7000);
    expect(fetchAccess).toHaveBeenCalledTimes(2);
    await advance(7000);
    expect(fetchAccess).toHaveBeenCalledTimes(3);
  });

  it("counts the lifetime from when the access was asked for", async () => {
    const fetchAccess = vi.fn(() => Promise.resolve(access(NEW)));
    const credential = make(fetchAccess);
    now = 2000; // the first /listen took 2 s to answer
    credential.accept(access(OLD), 0);
    await advance(4999);
    expect(fetchAccess).not.toHaveBeenCalled();
    await advance(1);
    expect(fetchAccess).toHaveBeenCalledTimes(1);
  });

  it("retries quickly when the network fails, then carries on", async () => {
    const fetchAccess = vi
      .fn<() => Promise<AudioAccess>>()
      .mockRejectedValueOnce(new TypeError("Failed to fetch"))
      .mockRejectedValueOnce(new ApiError({ status: 503, title: "", detail: "busy" }))
      .mockResolvedValue(access(NEW));
    const credential = make(fetchAccess);
    credential.accept(access(OLD), 0);
    await advance(7000);
    expect(fetchAccess).toHaveBeenCalledTimes(1);
    expect(credential.current).toBe(OLD);
    await advance(500);
    expect(fetchAccess).toHaveBeenCalledTimes(2);
    await advance(1000);
    expect(fetchAccess).toHaveBeenCalledTimes(3);
    expect(credential.current).toBe(NEW);
    expect(events.onRetry).toHaveBeenCalledTimes(2);
    expect(events.onRefused).not.toHaveBeenCalled();
    // Renewed before the old one (10 s) ran out.
    expect(now).toBeLessThan(10_000);
  });

  it("stops for good when the server refuses to renew", async () => {
    const fetchAccess = vi.fn(() =>
      Promise.reject(new ApiError({ status: 403, title: "Forbidden", detail: "you were removed from this space" })),
    );
    const credential = make(fetchAccess);
    credential.accept(access(OLD), 0);
    await advance(7000);
    expect(events.onRefused).toHaveBeenCalledWith("you were removed from this space");
    await advance(60_000);
    expect(fetchAccess).toHaveBeenCalledTimes(1);
    credential.refused(null);
    expect(fetchAccess).toHaveBeenCalledTimes(1);
  });

  it("reports a space that is over", async () => {
    const fetchAccess = vi.fn(() =>
      Promise.reject(new ApiError({ status: 409, title: "Conflict", detail: "this space has ended" })),
    );
    const credential = make(fetchAccess);
    credential.accept(access(OLD), 0);
    await advance(7000);
    expect(events.onEnded).toHaveBeenCalledWith("this space has ended");
    expect(events.onRefused).not.toHaveBeenCalled();
  });

  it("renews at once after a refused request, once for many refusals", async () => {
    let answer: (value: AudioAccess) => void = () => {};
    const fetchAccess = vi.fn(
      () =>
        new Promise<AudioAccess>((resolve) => {
          answer = resolve;
        }),
    );
    const credential = make(fetchAccess);
    credential.accept(access(OLD), 0);
    await advance(1000);
    credential.refused(`https://e/api/spaces/abc/hls/${OLD}/part3.1.m4s`);
    credential.refused(`https://e/api/spaces/abc/hls/${OLD}/live.m3u8?_HLS_msn=3`);
    credential.refused(null);
    expect(fetchAccess).toHaveBeenCalledTimes(1);
    answer(access(NEW));
    await advance(0);
    expect(credential.current).toBe(NEW);
    // A late refusal of a request sent with the old credential: the retry carries the new one.
    credential.refused(`https://e/api/spaces/abc/hls/${OLD}/part3.2.m4s`);
    expect(fetchAccess).toHaveBeenCalledTimes(1);
    // The newest one refused: renew again.
    credential.refused(`https://e/api/spaces/abc/hls/${NEW}/part3.2.m4s`);
    expect(fetchAccess).toHaveBeenCalledTimes(2);
  });

  it("makes a request wait for the renewal once the credential is stale", async () => {
    let answer: (value: AudioAccess) => void = () => {};
    const fetchAccess = vi
      .fn<() => Promise<AudioAccess>>()
      .mockRejectedValueOnce(new TypeError("Failed to fetch"))
      .mockRejectedValueOnce(new TypeError("Failed to fetch"))
      .mockRejectedValueOnce(new TypeError("Failed to fetch"))
      .mockImplementation(
        () =>
          new Promise<AudioAccess>((resolve) => {
            answer = resolve;
          }),
      );
    const credential = make(fetchAccess);
    credential.accept(access(OLD), 0);
    // Fresh: no wait at all.
    await credential.fresh();
    // 7 s: first try fails; 7.5 s: fails; 8.5 s: fails; next at 10.5 s.
    await advance(8500);
    expect(fetchAccess).toHaveBeenCalledTimes(3);
    await advance(500); // 9 s: within a second of expiry, stale
    expect(credential.isStale()).toBe(true);
    let done = false;
    const waiting = credential.fresh().then(() => {
      done = true;
    });
    expect(fetchAccess).toHaveBeenCalledTimes(4);
    await advance(100);
    expect(done).toBe(false);
    answer(access(NEW));
    await waiting;
    expect(credential.current).toBe(NEW);
    expect(credential.isStale()).toBe(false);
  });

  it("does not make a request wait long for a renewal that hangs", async () => {
    const fetchAccess = vi.fn(() => new Promise<AudioAccess>(() => {}));
    const credential = make(fetchAccess);
    credential.accept(access(OLD), 0);
    now = 9500;
    let done = false;
    const waiting = credential.fresh().then(() => {
      done = true;
    });
    await advance(1999);
    expect(done).toBe(false);
    await advance(1);
    await waiting;
    expect(done).toBe(true);
    expect(credential.current).toBe(OLD);
  });

  it("does nothing once stopped", async () => {
    const fetchAccess = vi.fn(() => Promise.resolve(access(NEW)));
    const credential = make(fetchAccess);
    credential.accept(access(OLD), 0);
    credential.stop();
    await advance(60_000);
    expect(fetchAccess).not.toHaveBeenCalled();
  });
});

describe("keepRequestedUrl", () => {
  it("reports the URL hls.js asked for, not the one the credential swap sent", () => {
    vi.stubGlobal("self", { location: { href: "https://edge.example/spaces/abc" } });
    const asked = `https://edge.example/api/spaces/abc/hls/${OLD}/live.m3u8?_HLS_msn=4`;
    class Wire {
      load(context: LoaderContext, _config: unknown, callbacks: LoaderCallbacks<LoaderContext>) {
        const sent = withCredential(context.url, NEW);
        callbacks.onSuccess({ url: sent, data: "#EXTM3U" }, {} as never, context, null);
      }
    }
    const Loader = keepRequestedUrl(Wire as unknown as HlsConfig["loader"]);
    const onSuccess = vi.fn();
    const callbacks = { onSuccess, onError: vi.fn(), onTimeout: vi.fn() };
    new Loader({} as HlsConfig).load(
      { url: asked, responseType: "text" } as LoaderContext,
      {} as never,
      callbacks as unknown as LoaderCallbacks<LoaderContext>,
    );
    expect(onSuccess.mock.calls[0]?.[0]).toEqual({ url: asked, data: "#EXTM3U" });
    vi.unstubAllGlobals();
  });
});
