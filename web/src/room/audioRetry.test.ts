import Hls, { type LoadPolicy } from "hls.js/light";
import { describe, expect, it } from "vitest";
import {
  FAILOVER_MAX_DELAY_MS,
  FAILOVER_MS,
  REFUSED_RETRIES,
  RETRY_DELAY_MS,
  duringFailover,
  retryBudgetMs,
  retryDelay,
  retryRefused,
  retryThroughFailover,
  withFailoverRetries,
  withRefusedRetries,
} from "./audioRetry";
import { backoffDelay } from "./connection";
import { MAX_RESTARTS } from "./listenSession";

describe("hls.js retries", () => {
  const response = (code: number) => ({ url: "u", data: undefined, code });

  it("retries a refused request a few times", () => {
    expect(retryRefused(null, 0, false, response(403), false)).toBe(true);
    expect(retryRefused(null, REFUSED_RETRIES - 1, false, response(403), false)).toBe(true);
    expect(retryRefused(null, REFUSED_RETRIES, false, response(403), false)).toBe(false);
  });

  it("keeps hls.js's own decision otherwise", () => {
    expect(retryRefused(null, 0, false, response(404), false)).toBe(false);
    expect(retryRefused(null, 0, false, response(503), true)).toBe(true);
    expect(retryRefused(null, 0, true, undefined, false)).toBe(false);
  });

  it("builds a load policy that retries quickly", () => {
    const policy = withRefusedRetries({
      default: {
        maxTimeToFirstByteMs: 10_000,
        maxLoadTimeMs: 120_000,
        timeoutRetry: { maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 },
        errorRetry: { maxNumRetry: 6, retryDelayMs: 1000, maxRetryDelayMs: 8000 },
      },
    });
    expect(policy.default.errorRetry).toMatchObject({
      maxNumRetry: 6,
      retryDelayMs: RETRY_DELAY_MS,
      maxRetryDelayMs: 8000,
      shouldRetry: retryRefused,
    });
    expect(policy.default.timeoutRetry).toEqual({ maxNumRetry: 4, retryDelayMs: 0, maxRetryDelayMs: 0 });
  });
});

/**
 * How long hls.js keeps trying a playlist that keeps failing with `code` before the error
 * is fatal, as its loader and playlist controller decide (error-helper.ts shouldRetry,
 * base-playlist-controller.ts checkRetry).
 */
function triedFor(policy: LoadPolicy, code: number): number {
  const config = policy.default.errorRetry!;
  const hlsWould = (count: number) =>
    count < config.maxNumRetry && (code < 400 || code > 499) && code !== 0;
  let waited = 0;
  for (let count = 0; count < config.maxNumRetry; count++) {
    const retry = config.shouldRetry!(config, count, false, { url: "u", code }, hlsWould(count));
    if (!retry) break;
    waited += retryDelay(config, count);
  }
  return waited;
}

describe("playlists through a media failover", () => {
  const manifest = withFailoverRetries(Hls.DefaultConfig.manifestLoadPolicy);
  const playlist = withFailoverRetries(Hls.DefaultConfig.playlistLoadPolicy);

  it("keeps trying a missing or unavailable playlist for FAILOVER_MS", () => {
    for (const policy of [manifest, playlist]) {
      for (const code of [404, 500, 502, 503, 504, 0]) {
        expect(triedFor(policy, code)).toBeGreaterThanOrEqual(FAILOVER_MS);
        // ... but not much longer: then the session starts over, or says so.
        expect(triedFor(policy, code)).toBeLessThan(FAILOVER_MS + FAILOVER_MAX_DELAY_MS);
      }
    }
  });

  it("tries again quickly at first, and at least every FAILOVER_MAX_DELAY_MS", () => {
    const config = playlist.default.errorRetry!;
    expect(retryDelay(config, 0)).toBe(RETRY_DELAY_MS);
    expect(retryDelay(config, 1)).toBe(2 * RETRY_DELAY_MS);
    expect(retryDelay(config, config.maxNumRetry - 1)).toBe(FAILOVER_MAX_DELAY_MS);
    expect(retryBudgetMs(config)).toBe(triedFor(playlist, 503));
  });

  it("still gives up at once on what no failover answers, and retries refusals as before", () => {
    expect(triedFor(playlist, 400)).toBe(0);
    expect(triedFor(playlist, 401)).toBe(0);
    expect(triedFor(playlist, 403)).toBe(RETRY_DELAY_MS * (2 ** REFUSED_RETRIES - 1));
  });

  it("knows a failover's answers", () => {
    expect([0, 404, 500, 503, 599].map(duringFailover)).toEqual([true, true, true, true, true]);
    expect([undefined, 200, 400, 403, 410, 600].map(duringFailover)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(retryThroughFailover(null, 0, false, { url: "u", code: 404 }, false)).toBe(false);
  });

  it("leaves segments and parts to hls.js's own retries (a part gone with the old node never comes)", () => {
    const frag = withRefusedRetries(Hls.DefaultConfig.fragLoadPolicy);
    expect(triedFor(frag, 404)).toBe(0);
  });

  it("restarts the session for longer than a failover before showing an error", () => {
    let waited = 0;
    for (let restart = 0; restart < MAX_RESTARTS; restart++) waited += backoffDelay(restart);
    expect(waited).toBeGreaterThanOrEqual(FAILOVER_MS);
  });
});
