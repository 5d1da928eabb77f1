// Hearing a space over LL-HLS: one session per "Listen" tap, owning its hls.js instance,
// its audio credential (renewed before it expires, for ticketed spaces) and its recovery
// from errors.
import Hls, {
  type HlsConfig,
  type LoaderCallbacks,
  type LoaderConfiguration,
  type LoaderContext,
} from "hls.js/light";
import { api } from "../api/client";
import { ApiError, errorMessage } from "../api/problem";
import type { AudioAccess } from "../api/types";
import { withFailoverRetries, withRefusedRetries } from "./audioRetry";
import { catchUpRate } from "./catchUp";
import { backoffDelay } from "./connection";
import { AudioCredential } from "./credential";
import { BoundaryStreamController } from "./segmentBoundary";

export type ListenStatus = "starting" | "playing" | "buffering" | "blocked" | "ended" | "error";

export interface ListenCallbacks {
  onStatus: (status: ListenStatus, detail?: string) => void;
  /** Seconds behind the live edge (null when unknown or not live). */
  onLatency: (seconds: number | null) => void;
}

declare global {
  interface Window {
    /** The current hls.js instance, for measuring latency from tests. */
    salonHls?: Hls;
  }
}

/**
 * The server's PART-HOLD-BACK is 0.576 s (three 192 ms parts). We aim a little behind it so
 * one late part does not stall playback; past 3 s behind, hls.js jumps back to the target.
 * hls.js's own rate catch-up (maxLiveSyncPlaybackRate) only acts with over a second buffered,
 * never the case this close to live, so it stays off and catchUp.ts steers the rate instead.
 */
export const HLS_CONFIG: Partial<HlsConfig> = {
  lowLatencyMode: true,
  liveSyncDuration: 0.7,
  liveMaxLatencyDuration: 3,
  maxLiveSyncPlaybackRate: 1,
  liveSyncOnStallIncrease: 0.2,
  liveDurationInfinity: true,
  backBufferLength: 10,
};

/**
 * hls.js's loader, telling hls.js that every answer came from the URL it asked for. xhrSetup
 * sends each request with the newest credential, so the XHR's responseURL carries it; hls.js
 * would take that as a redirect and resolve the playlist's parts against it, changing every
 * part's URL under it mid-segment at each renewal, which now and then left it waiting for a
 * part it never asked for (a 1.5 s stall). With this, hls.js only ever sees the URLs of the
 * first credential, and the swap happens on the wire alone. (Salon's audio never redirects.)
 */
export function keepRequestedUrl(Base: HlsConfig["loader"]): HlsConfig["loader"] {
  return class extends Base {
    override load(
      context: LoaderContext,
      config: LoaderConfiguration,
      callbacks: LoaderCallbacks<LoaderContext>,
    ): void {
      super.load(context, config, {
        ...callbacks,
        onSuccess: (response, stats, loaded, details) =>
          callbacks.onSuccess(
            { ...response, url: new URL(loaded.url, self.location.href).href },
            stats,
            loaded,
            details,
          ),
      });
    }
  };
}

/**
 * The URL an audio request really went to (xhrSetup swaps the credential in), if known:
 * the URL hls.js reports is the one from the playlist, with whatever credential that had.
 */
function sentUrl(networkDetails: unknown): string | null {
  if (typeof XMLHttpRequest !== "undefined" && networkDetails instanceof XMLHttpRequest) {
    return networkDetails.responseURL || null;
  }
  return null;
}

/**
 * Restarts (new access, new player) after hls.js gave up, with backoff, before the error is
 * shown: 1 + 2 + 4 + 8 + 10 + 10 s, well past a media failover (audioRetry.ts FAILOVER_MS).
 */
export const MAX_RESTARTS = 6;
const LATENCY_POLL_MS = 250;
/**
 * Waiting for audio this long, the player starts over at the live edge. When a space's media
 * moves to another node (or restarts), the stream goes on after a gap of a few seconds in its
 * timeline; hls.js waits at the hole instead of jumping it, so a fresh player is what carries
 * on (measured in tests/cluster/test_failover_in_chromium.py). One late part never waits this
 * long: parts are 192 ms.
 */
export const STALL_RESTART_MS = 3000;

export class ListenSession {
  private hls: Hls | null = null;
  private credential: AudioCredential | null = null;
  private destroyed = false;
  private restarts = 0;
  private mediaRecoveries = 0;
  private restartTimer: number | undefined;
  private stallTimer: number | undefined;
  /** Whether this player has played since it (re)started: only then is waiting a stall. */
  private played = false;
  private latencyTimer: number | undefined;

  constructor(
    private readonly audio: HTMLAudioElement,
    private readonly spaceId: string,
    private readonly callbacks: ListenCallbacks,
  ) {}

  /** Call inside the click handler: the first play() must happen within the user's gesture. */
  start(): void {
    this.callbacks.onStatus("starting");
    this.audio.addEventListener("playing", this.onPlaying);
    this.audio.addEventListener("waiting", this.onWaiting);
    const useHls = Hls.isSupported();
    const native = !useHls && this.audio.canPlayType("application/vnd.apple.mpegurl") !== "";
    if (!useHls && !native) {
      this.callbacks.onStatus("error", "This browser cannot play live audio streams.");
      return;
    }
    // hls.js attaches a MediaSource now, so this play() is not aborted by a later load.
    if (useHls) this.createHls();
    this.play();
    void this.load(useHls);
  }

  /** "Tap to play" after the browser refused to start audio on its own. */
  retryPlay(): void {
    this.play();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.credential?.stop();
    window.clearTimeout(this.restartTimer);
    window.clearTimeout(this.stallTimer);
    window.clearInterval(this.latencyTimer);
    this.audio.removeEventListener("playing", this.onPlaying);
    this.audio.removeEventListener("waiting", this.onWaiting);
    this.destroyHls();
    this.audio.pause();
    this.audio.playbackRate = 1;
    this.audio.removeAttribute("src");
    this.audio.load();
    this.callbacks.onLatency(null);
  }

  private async load(useHls: boolean): Promise<void> {
    const url = await this.fetchAccess();
    if (url === null || this.destroyed) return;
    if (useHls) {
      // Absolute: hls.js resolves the playlist's relative URIs against it.
      this.hls?.loadSource(new URL(url, window.location.href).href);
    } else {
      this.audio.src = url;
      this.play();
    }
  }

  /**
   * Ask /listen for the playlist and, for a ticketed space, its audio credential (kept and
   * renewed from here on); returns the playlist URL, or null when it cannot.
   */
  private async fetchAccess(): Promise<string | null> {
    const requestedAt = performance.now();
    let access: AudioAccess;
    try {
      access = await api.listen(this.spaceId);
    } catch (error) {
      if (this.destroyed) return null;
      if (error instanceof ApiError && (error.status === 404 || error.status === 409)) {
        this.callbacks.onStatus("ended", error.detail);
      } else if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.callbacks.onStatus("error", error.detail);
      } else {
        this.scheduleRestart(errorMessage(error));
      }
      return null;
    }
    if (this.destroyed) return null;
    this.credential?.stop();
    const credential = AudioCredential.forSpace(this.spaceId, {
      onRenewed: (renewed) => {
        // hls.js picks the new credential up through xhrSetup; the native player cannot.
        if (!this.hls && !this.destroyed && this.credential === credential) {
          this.audio.src = renewed.playlist_url;
          this.play();
        }
      },
      onRefused: (detail) => this.stop("error", detail),
      onEnded: (detail) => this.stop("ended", detail),
    });
    credential.accept(access, requestedAt);
    this.credential = credential;
    return credential.apply(access.playlist_url);
  }

  /** No more audio for this person (refused or over): stop the player, say why. */
  private stop(status: "error" | "ended", detail: string): void {
    if (this.destroyed) return;
    this.credential?.stop();
    window.clearTimeout(this.restartTimer);
    window.clearTimeout(this.stallTimer);
    this.destroyHls();
    this.audio.pause();
    this.audio.removeAttribute("src");
    this.audio.load();
    this.callbacks.onLatency(null);
    this.callbacks.onStatus(status, detail);
  }

  private createHls(): void {
    const defaults = Hls.DefaultConfig;
    const hls = new Hls({
      ...HLS_CONFIG,
      // A playlist missing for a few seconds while the media moves to another node is waited
      // out by this player, which then carries on across the discontinuity (audioRetry.ts).
      manifestLoadPolicy: withFailoverRetries(defaults.manifestLoadPolicy),
      playlistLoadPolicy: withFailoverRetries(defaults.playlistLoadPolicy),
      fragLoadPolicy: withRefusedRetries(defaults.fragLoadPolicy),
      loader: keepRequestedUrl(defaults.loader),
      streamController: BoundaryStreamController,
      // Every request carries the newest credential in its path, including the URLs of parts
      // listed by older playlists; past its expiry, a request waits for the renewal first.
      xhrSetup: async (xhr, url) => {
        const credential = this.credential;
        if (credential?.isStale()) await credential.fresh();
        xhr.open("GET", credential ? credential.apply(url) : url, true);
      },
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (this.destroyed || hls !== this.hls) return;
      const code = data.response?.code;
      // Refused: renew at once (unless a newer credential is already here); hls.js retries.
      if (code === 403) this.credential?.refused(sentUrl(data.networkDetails));
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && this.mediaRecoveries < 2) {
        this.mediaRecoveries += 1;
        hls.recoverMediaError();
        return;
      }
      this.scheduleRestart(code === 403 ? "the audio credential was refused" : data.details);
    });
    hls.attachMedia(this.audio);
    this.hls = hls;
    window.salonHls = hls;
    window.clearInterval(this.latencyTimer);
    this.latencyTimer = window.setInterval(() => this.steer(), LATENCY_POLL_MS);
  }

  /** Report how far behind live we are, and nudge the playback rate to stay near target. */
  private steer(): void {
    const hls = this.hls;
    if (!hls) return;
    const raw = hls.latency;
    const latency = Number.isFinite(raw) && raw > 0 ? raw : null;
    this.callbacks.onLatency(latency);
    const audio = this.audio;
    if (audio.paused || !hls.levels[hls.currentLevel]?.details?.live) return;
    const buffered = audio.buffered;
    const ahead = buffered.length ? buffered.end(buffered.length - 1) - audio.currentTime : 0;
    const rate = catchUpRate(audio.playbackRate, latency, hls.targetLatency, ahead);
    if (rate !== audio.playbackRate) audio.playbackRate = rate;
  }

  private destroyHls(): void {
    if (this.hls) {
      this.hls.destroy();
      if (window.salonHls === this.hls) window.salonHls = undefined;
      this.hls = null;
    }
  }

  /** Start over with new access and a new player, after a growing pause. */
  private scheduleRestart(reason: string): void {
    if (this.destroyed) return;
    if (this.restarts >= MAX_RESTARTS) {
      this.callbacks.onStatus("error", `Lost the audio stream (${reason}).`);
      return;
    }
    this.callbacks.onStatus("buffering");
    window.clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.played = false;
    const delay = backoffDelay(this.restarts);
    this.restarts += 1;
    this.destroyHls();
    window.clearTimeout(this.restartTimer);
    this.restartTimer = window.setTimeout(() => {
      if (this.destroyed) return;
      const useHls = Hls.isSupported();
      if (useHls) this.createHls();
      this.play();
      void this.load(useHls);
    }, delay);
  }

  private play(): void {
    const playing = this.audio.play();
    playing?.catch((error: unknown) => {
      if (this.destroyed) return;
      // AbortError: a new source interrupted this play(); the next play() covers it.
      if (error instanceof DOMException && error.name === "NotAllowedError") {
        this.callbacks.onStatus("blocked");
      }
    });
  }

  private readonly onPlaying = () => {
    this.restarts = 0;
    this.mediaRecoveries = 0;
    window.clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.played = true;
    this.callbacks.onStatus("playing");
  };

  private readonly onWaiting = () => {
    this.callbacks.onStatus("buffering");
    // A first start may take long on a slow link; only audio that stops is a stall.
    if (this.stallTimer !== undefined || this.destroyed || !this.played) return;
    this.stallTimer = window.setTimeout(() => {
      this.stallTimer = undefined;
      if (!this.destroyed && this.hls !== null) this.scheduleRestart("the stream stalled");
    }, STALL_RESTART_MS);
  };
}
