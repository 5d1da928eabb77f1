// Which failed audio requests hls.js tries again, how soon, and for how long. hls.js on its
// own gives up on any 4xx at once and on a playlist after two quick retries; Salon's audio
// needs more: a refused (403) request works again with a renewed credential, and while the
// space's media moves to another node (its old one died) the playlist is missing (404) or
// unavailable (5xx, no answer) for a few seconds, after which hls.js carries on across the
// playlist's EXT-X-DISCONTINUITY with the buffer it has.
import type { LoaderResponse, LoadPolicy, RetryConfig } from "hls.js/light";

/** hls.js gives up on any 4xx at once; a 403 is retried this many times (after a renewal). */
export const REFUSED_RETRIES = 3;
/** First retry of a failed audio request; hls.js doubles it up to its own maximum. */
export const RETRY_DELAY_MS = 250;
/** A playlist may be missing or unavailable this long (a media failover) before it is an error. */
export const FAILOVER_MS = 15_000;
/** The longest pause between two tries of a playlist during a failover. */
export const FAILOVER_MAX_DELAY_MS = 2000;

/** hls.js's retry decision, plus: a refused (403) request is retried, with a new credential. */
export function retryRefused(
  _config: RetryConfig | null | undefined,
  retryCount: number,
  _isTimeout: boolean,
  response: LoaderResponse | undefined,
  retry: boolean,
): boolean {
  return retry || (response?.code === 403 && retryCount < REFUSED_RETRIES);
}

/** What a playlist request gets while the media moves: no answer, 404, or a 5xx. */
export function duringFailover(code: number | undefined): boolean {
  return code === 0 || code === 404 || (code !== undefined && code >= 500 && code <= 599);
}

/** retryRefused, plus: a playlist missing or unavailable is retried up to maxNumRetry times. */
export function retryThroughFailover(
  config: RetryConfig | null | undefined,
  retryCount: number,
  isTimeout: boolean,
  response: LoaderResponse | undefined,
  retry: boolean,
): boolean {
  return (
    retryRefused(config, retryCount, isTimeout, response, retry) ||
    (duringFailover(response?.code) && retryCount < (config?.maxNumRetry ?? 0))
  );
}

/** A load policy that retries quickly, refusals included (see retryRefused). */
export function withRefusedRetries(policy: LoadPolicy): LoadPolicy {
  const errorRetry = policy.default.errorRetry ?? {
    maxNumRetry: 0,
    retryDelayMs: 0,
    maxRetryDelayMs: 0,
  };
  return {
    default: {
      ...policy.default,
      errorRetry: {
        ...errorRetry,
        retryDelayMs: Math.min(errorRetry.retryDelayMs || RETRY_DELAY_MS, RETRY_DELAY_MS),
        maxRetryDelayMs: Math.max(errorRetry.maxRetryDelayMs, RETRY_DELAY_MS),
        shouldRetry: retryRefused,
      },
    },
  };
}

/** The pause before retry number `retryCount` (from 0), as hls.js computes it (error-helper). */
export function retryDelay(config: RetryConfig, retryCount: number): number {
  const factor = config.backoff === "linear" ? 1 : 2 ** retryCount;
  return Math.min(factor * config.retryDelayMs, config.maxRetryDelayMs);
}

/** How long `config`'s retries wait in all before hls.js gives up. */
export function retryBudgetMs(config: RetryConfig): number {
  let total = 0;
  for (let count = 0; count < config.maxNumRetry; count++) total += retryDelay(config, count);
  return total;
}

/**
 * A playlist load policy (the multivariant or the media playlist) that retries quickly, as
 * withRefusedRetries, and keeps retrying a playlist missing or unavailable for FAILOVER_MS.
 */
export function withFailoverRetries(policy: LoadPolicy): LoadPolicy {
  const quick = withRefusedRetries(policy).default;
  const errorRetry: RetryConfig = {
    ...quick.errorRetry!,
    maxRetryDelayMs: FAILOVER_MAX_DELAY_MS,
    shouldRetry: retryThroughFailover,
  };
  while (retryBudgetMs(errorRetry) < FAILOVER_MS) errorRetry.maxNumRetry += 1;
  return { default: { ...quick, errorRetry } };
}
