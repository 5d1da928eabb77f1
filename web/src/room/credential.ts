// The audio credential of a ticketed space: one path segment of every audio URL, right after
// `/hls/` or `/recording/` (`/api/spaces/abc/hls/{credential}/part12.3.m4s`), renewed through
// /listen well before it expires. Free spaces have none and nothing to renew.
import { api } from "../api/client";
import { ApiError, errorMessage } from "../api/problem";
import type { AudioAccess } from "../api/types";

/** `{expires}.{listener}.{sig}` (the server's regex of the path segment). */
const CREDENTIAL = String.raw`\d{1,12}\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{22}`;
const SEGMENT = new RegExp(String.raw`(/(?:hls|recording)/)(${CREDENTIAL})(?=/)`);

/** The path part of a URL: everything before its query or fragment. */
function pathEnd(url: string): number {
  const end = url.search(/[?#]/);
  return end >= 0 ? end : url.length;
}

/** The audio credential in an audio URL's path, or null when it has none. */
export function credentialIn(url: string): string | null {
  const match = SEGMENT.exec(url.slice(0, pathEnd(url)));
  return match?.[2] ?? null;
}

/**
 * The same URL carrying `credential` in place of the one in its path (query, fragment,
 * origin and relativeness untouched). URLs without a credential segment stay as they are.
 */
export function withCredential(url: string, credential: string | null): string {
  if (credential === null) return url;
  const end = pathEnd(url);
  return url.slice(0, end).replace(SEGMENT, `$1${credential}`) + url.slice(end);
}

/** When to renew: at 70 % of the lifetime, leaving the rest for quick retries. */
export function renewDelayMs(expiresInSeconds: number): number {
  // setTimeout overflows past 2^31-1 ms (~24.8 days) and would fire at once.
  return Math.min(Math.max(0.5, expiresInSeconds * 0.7) * 1000, 2 ** 31 - 1);
}

/** After a failed renewal: 0.5 s, 1 s, then every 2 s (a credential lives a minute at most). */
export function renewRetryDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** Math.max(0, attempt), 2000);
}

/** The server counts whole seconds: treat a credential as stale this long before it expires. */
const STALE_MARGIN_MS = 1000;
/** How long a request waits for a renewal under way before going with what it has. */
const WAIT_FOR_RENEWAL_MS = 2000;

export interface CredentialEvents {
  /** Renewed access (the native player needs its source swapped; hls.js does not). */
  onRenewed: (access: AudioAccess) => void;
  /** The server will not renew (removed, banned, refunded): stop playing, show why. */
  onRefused: (detail: string) => void;
  /** The space is gone or over (404, 409). */
  onEnded: (detail: string) => void;
  /** A renewal failed for a reason worth retrying (network, 5xx); for logs and tests. */
  onRetry?: (reason: string, attempt: number) => void;
}

/**
 * Holds the newest audio credential of one listening session and renews it on time: at 70 %
 * of its lifetime, retrying quickly when the network fails, and at once when an audio request
 * was refused with it. Every audio request goes out through `apply`, so a renewal swaps the
 * credential under the player without a gap.
 */
export class AudioCredential {
  private credential: string | null = null;
  /** performance.now()-style ms after which the credential is presumed refused. */
  private staleAt = Infinity;
  private renewing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private stopped = false;

  constructor(
    private readonly events: CredentialEvents,
    private readonly fetchAccess: () => Promise<AudioAccess> = () =>
      Promise.reject(new Error("no /listen")),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** For a session: renewals call GET /api/spaces/{id}/listen. */
  static forSpace(spaceId: string, events: CredentialEvents): AudioCredential {
    return new AudioCredential(events, () => api.listen(spaceId));
  }

  /** The newest credential (null for a free space). */
  get current(): string | null {
    return this.credential;
  }

  get isRenewing(): boolean {
    return this.renewing !== null;
  }

  /** Take the access fetched at `requestedAt` (ms, same clock as `now`) and plan its renewal. */
  accept(access: AudioAccess, requestedAt: number = this.now()): void {
    if (this.stopped) return;
    this.credential = access.credential;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (access.credential === null || access.expires_in === null) {
      this.staleAt = Infinity;
      return;
    }
    this.staleAt = requestedAt + access.expires_in * 1000 - STALE_MARGIN_MS;
    // Counted from when it was asked for: the server issued it no earlier than that.
    const delay = Math.max(0, renewDelayMs(access.expires_in) - (this.now() - requestedAt));
    this.timer = setTimeout(() => void this.renew(), delay);
  }

  /** This URL with the newest credential in its path. */
  apply(url: string): string {
    return withCredential(url, this.credential);
  }

  /** The credential is (nearly) past its expiry: requests with it would be refused. */
  isStale(): boolean {
    return this.credential !== null && this.now() >= this.staleAt;
  }

  /**
   * Before an audio request: when the credential is stale, renew (or join the renewal under
   * way) and wait for it, a little, so the request goes out with a good one. A fresh one
   * costs no wait: scheduled renewals happen while the old credential is still good.
   */
  async fresh(): Promise<void> {
    if (!this.isStale()) return;
    const renewal = this.renewing ?? this.renew();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const patience = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, WAIT_FOR_RENEWAL_MS);
    });
    await Promise.race([renewal, patience]);
    clearTimeout(timer);
  }

  /**
   * An audio request was refused (403). If it went out with the newest credential (or we
   * cannot tell), renew at once; if it carried an older one, the player's retry will already
   * carry the newest.
   */
  refused(sentUrl: string | null): void {
    if (this.stopped || this.credential === null) return;
    const sent = sentUrl ? credentialIn(sentUrl) : null;
    if (sent !== null && sent !== this.credential && !this.isStale()) return;
    void this.renew();
  }

  /** Renew now (joining a renewal under way); resolves when it is done, whatever the result. */
  renew(): Promise<void> {
    if (this.stopped || this.credential === null) return Promise.resolve();
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async renewOnce(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const requestedAt = this.now();
    let access: AudioAccess;
    try {
      access = await this.fetchAccess();
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.stop();
        this.events.onRefused(error.detail);
      } else if (error instanceof ApiError && (error.status === 404 || error.status === 409)) {
        this.stop();
        this.events.onEnded(error.detail);
      } else {
        // Offline, a 5xx, a 429: try again soon, well within what is left of the lifetime.
        const attempt = this.attempt;
        this.attempt += 1;
        const delay =
          error instanceof ApiError && error.retryAfter !== null
            ? Math.min(error.retryAfter * 1000, renewRetryDelayMs(attempt) * 2)
            : renewRetryDelayMs(attempt);
        this.events.onRetry?.(errorMessage(error), attempt);
        this.timer = setTimeout(() => void this.renew(), delay);
      }
      return;
    }
    if (this.stopped) return;
    this.attempt = 0;
    this.accept(access, requestedAt);
    this.events.onRenewed(access);
  }
}
