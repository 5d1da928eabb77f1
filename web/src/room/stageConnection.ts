// Speaking from the browser: the microphone up and the stage's mix-minus down, over one
// WebRTC connection negotiated with WHIP (RFC 9725). No trickle ICE: the offer is sent once
// gathering is complete, because WHIP's PATCH for trickle is not offered by the server.
import { api, whipHangUp, whipOffer } from "../api/client";
import { ApiError, errorMessage } from "../api/problem";
import { backoffDelay } from "./connection";
import { REPLACED_TEXT, sessionOf } from "./stageReplaced";

export type StageStatus =
  | "mic" // asking for the microphone
  | "connecting"
  | "connected"
  | "reconnecting"
  | "mic_blocked"
  | "failed";

export interface StageCallbacks {
  onStatus: (status: StageStatus, detail?: string) => void;
  onMic: (stream: MediaStream | null) => void;
  onRemote: (stream: MediaStream | null) => void;
}

export const MIC_CONSTRAINTS: MediaStreamConstraints = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  video: false,
};

/** How long "disconnected" may last before we offer again ("failed" offers at once). */
export const DISCONNECTED_GRACE_MS = 3000;
const ICE_GATHERING_TIMEOUT_MS = 5000;

export function iceGatheringComplete(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      window.clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      pc.removeEventListener("icecandidate", onCandidate);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const onCandidate = (event: RTCPeerConnectionIceEvent) => {
      if (event.candidate === null) done();
    };
    // Whatever was gathered by then is still worth offering (host candidates come first).
    const timer = window.setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
    pc.addEventListener("icecandidate", onCandidate);
  });
}

export class StageConnection {
  private mic: MediaStream | null = null;
  private pc: RTCPeerConnection | null = null;
  private location: string | null = null;
  /** The WHIP session of the connection in use now (null while offering again). */
  private session: string | null = null;
  private stopped = false;
  /** The server refused the offer (not allowed to speak): no more offers. */
  private refused = false;
  private attempt = 0;
  private retryTimer: number | undefined;
  private disconnectTimer: number | undefined;

  constructor(
    private readonly spaceId: string,
    private readonly callbacks: StageCallbacks,
    private muted: boolean,
  ) {}

  /** The server's STUN/TURN list, fetched once: ICE gathers before the offer goes out. */
  private iceServers: RTCIceServer[] | null = null;

  async start(): Promise<void> {
    this.callbacks.onStatus("mic");
    try {
      const mic = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
      if (this.stopped) {
        mic.getTracks().forEach((t) => t.stop());
        return;
      }
      this.mic = mic;
      this.applyMute();
      this.callbacks.onMic(mic);
    } catch (error) {
      if (this.stopped) return;
      const blocked = error instanceof DOMException && error.name === "NotAllowedError";
      this.callbacks.onStatus(
        "mic_blocked",
        blocked
          ? "Microphone access was refused. Allow it in your browser to speak."
          : `No microphone available (${errorMessage(error)}).`,
      );
      return;
    }
    await this.connect();
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.applyMute();
  }

  /**
   * Offer again now, on a new connection, without waiting for ICE to fail: the stage's media
   * moved to another node. Nothing to do before the first offer (it goes to the new node
   * anyway) or once the server refused us (retry() starts over).
   */
  reoffer(): void {
    const offering = this.pc !== null || this.retryTimer !== undefined;
    if (this.stopped || this.refused || !this.mic || !offering) return;
    window.clearTimeout(this.disconnectTimer);
    window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.closePeer();
    void this.connect(true);
  }

  /**
   * A newer offer of the same person (another tab, device or bot) ended `sessionId`. If it is
   * this connection's, stop without offering again (newest wins) and say so; a session this
   * connection replaced itself, by offering again, is not its current one and changes nothing.
   */
  replaced(sessionId: string): void {
    if (this.stopped || this.session === null || this.session !== sessionId) return;
    this.location = null; // the server ended it already: nothing to hang up
    this.stop();
    this.refused = true;
    this.callbacks.onStatus("failed", REPLACED_TEXT);
  }

  /** Leave the stage's audio: close the connection, hang up the session, free the mic. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.disconnectTimer);
    this.closePeer();
    if (this.location) void whipHangUp(this.location);
    this.location = null;
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = null;
    this.callbacks.onMic(null);
    this.callbacks.onRemote(null);
  }

  private applyMute(): void {
    // The server mutes in the mixer too; disabling the track also keeps the mic light honest.
    this.mic?.getAudioTracks().forEach((t) => (t.enabled = !this.muted));
  }

  private async connect(again = this.attempt > 0): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped || !this.mic) return;
    const track = this.mic.getAudioTracks()[0];
    if (!track) {
      this.callbacks.onStatus("mic_blocked", "The microphone gave no audio track.");
      return;
    }
    this.callbacks.onStatus(again ? "reconnecting" : "connecting");
    if (this.iceServers === null) {
      try {
        this.iceServers = await api.iceServers(this.spaceId);
      } catch {
        // Host candidates still work on a LAN or loopback; the next attempt asks again.
      }
      if (this.stopped) return;
    }
    const pc = new RTCPeerConnection({ iceServers: this.iceServers ?? [] });
    this.pc = pc;
    pc.addTransceiver(track, { direction: "sendrecv", streams: [this.mic] });
    pc.ontrack = (event) => {
      if (pc !== this.pc) return;
      this.callbacks.onRemote(event.streams[0] ?? new MediaStream([event.track]));
    };
    pc.onconnectionstatechange = () => this.onConnectionState(pc);
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await iceGatheringComplete(pc, ICE_GATHERING_TIMEOUT_MS);
      if (pc !== this.pc) return;
      const offer = pc.localDescription?.sdp;
      if (!offer) throw new Error("no local description");
      const { answer, location } = await whipOffer(this.spaceId, offer);
      if (pc !== this.pc) {
        // Stopped or replaced meanwhile: this session has nobody to use it.
        if (location) void whipHangUp(location);
        return;
      }
      // A reconnect's new offer replaces the old session on the server; only hang up the last.
      this.location = location ?? this.location;
      this.session = sessionOf(location);
      await pc.setRemoteDescription({ type: "answer", sdp: answer });
    } catch (error) {
      if (pc !== this.pc || this.stopped) return;
      if (error instanceof ApiError && [401, 403, 404, 409, 415, 422].includes(error.status)) {
        // Not (or no longer) allowed to speak here: retrying would not change that.
        this.refused = true;
        this.closePeer();
        this.callbacks.onStatus("failed", error.detail);
        return;
      }
      this.scheduleReconnect();
    }
  }

  private onConnectionState(pc: RTCPeerConnection): void {
    if (pc !== this.pc || this.stopped) return;
    switch (pc.connectionState) {
      case "connected":
        window.clearTimeout(this.disconnectTimer);
        this.attempt = 0;
        this.callbacks.onStatus("connected");
        break;
      case "failed":
        this.scheduleReconnect();
        break;
      case "disconnected":
        window.clearTimeout(this.disconnectTimer);
        this.disconnectTimer = window.setTimeout(() => {
          if (pc === this.pc && pc.connectionState !== "connected") this.scheduleReconnect();
        }, DISCONNECTED_GRACE_MS);
        break;
      default:
        break;
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    window.clearTimeout(this.disconnectTimer);
    window.clearTimeout(this.retryTimer);
    this.closePeer();
    this.callbacks.onStatus("reconnecting");
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.retryTimer = window.setTimeout(() => void this.connect(), delay);
  }

  private closePeer(): void {
    const pc = this.pc;
    this.pc = null;
    this.session = null;
    if (pc) {
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
  }
}
