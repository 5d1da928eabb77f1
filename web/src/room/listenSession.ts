// Hearing a space over LL-HLS: one session per "Listen" tap, owning its hls.js instance,
// its listener ticket (refreshed before it expires) and its recovery from errors.
import Hls, { type HlsConfig } from "hls.js/light";
import { api } from "../api/client";
import { ApiError, errorMessage } from "../api/problem";
import { catchUpRate } from "./catchUp";
import { backoffDelay } from "./connection";
import { refreshDelayMs, withToken } from "./token";

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

const MAX_RESTARTS = 6;
const LATENCY_POLL_MS = 250;

export class ListenSession {
  private hls: Hls | null = null;
  private token = "";
  private destroyed = false;
  private restarts = 0;
  private mediaRecoveries = 0;
  private refreshTimer: number | undefined;
  private restartTimer: number | undefined;
  private latencyTimer: number | undefined;
  private refreshing: Promise<void> | null = null;

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
    window.clearTimeout(this.refreshTimer);
    window.clearTimeout(this.restartTimer);
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
    const url = await this.fetchTicket();
    if (url === null || this.destroyed) return;
    if (useHls) {
      this.hls?.loadSource(url);
    } else {
      this.audio.src = url;
      this.play();
    }
  }

  /** Fetch a ticket and keep its token; returns the playlist URL, or null when it cannot. */
  private async fetchTicket(): Promise<string | null> {
    try {
      const ticket = await api.listen(this.spaceId);
      if (this.destroyed) return null;
      this.token = ticket.token;
      window.clearTimeout(this.refreshTimer);
      this.refreshTimer = window.setTimeout(
        () => void this.refreshTicket(),
        refreshDelayMs(ticket.expires_in),
      );
      return ticket.playlist_url;
    } catch (error) {
      if (this.destroyed) return null;
      if (error instanceof ApiError && (error.status === 404 || error.status === 409)) {
        this.callbacks.onStatus("ended", error.detail);
      } else if (error instanceof ApiError && error.status === 403) {
        this.callbacks.onStatus("error", error.detail);
      } else {
        this.scheduleRestart(errorMessage(error));
      }
      return null;
    }
  }

  /**
   * A fresh token before the old one expires (or after a 403). hls.js picks it up on its next
   * request through xhrSetup; the native player needs its source swapped.
   */
  private refreshTicket(): Promise<void> {
    this.refreshing ??= (async () => {
      const url = await this.fetchTicket();
      if (url !== null && !this.hls && !this.destroyed) {
        this.audio.src = url;
        this.play();
      }
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private createHls(): void {
    const hls = new Hls({
      ...HLS_CONFIG,
      // Every request carries the newest token, including part URLs from older playlists.
      xhrSetup: (xhr, url) => {
        xhr.open("GET", this.token ? withToken(url, this.token) : url, true);
      },
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (this.destroyed || hls !== this.hls) return;
      const code = data.response?.code;
      if (!data.fatal) {
        if (code === 403) void this.refreshTicket();
        return;
      }
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && this.mediaRecoveries < 2) {
        this.mediaRecoveries += 1;
        hls.recoverMediaError();
        return;
      }
      this.scheduleRestart(code === 403 ? "the listener ticket expired" : data.details);
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

  /** Start over with a new ticket and a new player, after a growing pause. */
  private scheduleRestart(reason: string): void {
    if (this.destroyed) return;
    if (this.restarts >= MAX_RESTARTS) {
      this.callbacks.onStatus("error", `Lost the audio stream (${reason}).`);
      return;
    }
    this.callbacks.onStatus("buffering");
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
    this.callbacks.onStatus("playing");
  };

  private readonly onWaiting = () => {
    this.callbacks.onStatus("buffering");
  };
}
