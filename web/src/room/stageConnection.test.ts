import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/problem";
import { StageConnection, type StageStatus } from "./stageConnection";
import { REPLACED_TEXT } from "./stageReplaced";

const client = vi.hoisted(() => ({
  iceServers: vi.fn(() => Promise.resolve([])),
  whipOffer: vi.fn(() => Promise.resolve({ answer: "v=0 answer", location: "/whip/1" as string | null })),
  whipHangUp: vi.fn(() => Promise.resolve()),
}));

vi.mock("../api/client", () => ({
  api: { iceServers: client.iceServers },
  whipOffer: client.whipOffer,
  whipHangUp: client.whipHangUp,
}));

/** Just enough of RTCPeerConnection for a WHIP offer (gathering is already complete). */
class FakePeer {
  static all: FakePeer[] = [];
  connectionState = "new";
  iceGatheringState = "complete";
  localDescription: { type: string; sdp: string } | null = null;
  ontrack = null;
  onconnectionstatechange: (() => void) | null = null;
  closed = false;

  constructor() {
    FakePeer.all.push(this);
  }
  addTransceiver(): void {}
  addEventListener(): void {}
  removeEventListener(): void {}
  createOffer() {
    return Promise.resolve({ type: "offer", sdp: "v=0 offer" });
  }
  setLocalDescription(description: { type: string; sdp: string }) {
    this.localDescription = description;
    return Promise.resolve();
  }
  setRemoteDescription() {
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
  }
  connect(): void {
    this.connectionState = "connected";
    this.onconnectionstatechange?.();
  }
}

const track = { enabled: true, stop: vi.fn() };
const mic = { getAudioTracks: () => [track], getTracks: () => [track] };

describe("StageConnection.reoffer", () => {
  let statuses: StageStatus[];

  beforeEach(() => {
    vi.useFakeTimers();
    FakePeer.all = [];
    statuses = [];
    client.whipOffer.mockClear();
    client.whipHangUp.mockClear();
    vi.stubGlobal("window", globalThis);
    vi.stubGlobal("RTCPeerConnection", FakePeer);
    vi.stubGlobal("navigator", { mediaDevices: { getUserMedia: () => Promise.resolve(mic) } });
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  function make(): StageConnection {
    const callbacks = { onStatus: (s: StageStatus) => statuses.push(s), onMic: () => {}, onRemote: () => {} };
    return new StageConnection("abc", callbacks, false);
  }

  async function connected(): Promise<StageConnection> {
    const connection = make();
    await connection.start();
    FakePeer.all[FakePeer.all.length - 1]!.connect();
    return connection;
  }

  it("offers again at once, on a new connection", async () => {
    const connection = await connected();
    expect(statuses).toEqual(["mic", "connecting", "connected"]);
    connection.reoffer();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakePeer.all).toHaveLength(2);
    expect(FakePeer.all[0]!.closed).toBe(true);
    expect(client.whipOffer).toHaveBeenCalledTimes(2);
    expect(statuses.slice(-1)).toEqual(["reconnecting"]);
    FakePeer.all[1]!.connect();
    expect(statuses.slice(-1)).toEqual(["connected"]);
    connection.stop();
  });

  it("does not wait out the backoff of a failed offer", async () => {
    client.whipOffer.mockRejectedValueOnce(new ApiError({ status: 503, title: "", detail: "moving" }));
    const connection = make();
    await connection.start();
    expect(statuses.slice(-1)).toEqual(["reconnecting"]);
    connection.reoffer();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.whipOffer).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(5000); // the backoff's retry was called off
    expect(client.whipOffer).toHaveBeenCalledTimes(2);
    connection.stop();
  });

  it("does nothing before the microphone, after a refusal, or once stopped", async () => {
    const early = make();
    early.reoffer();
    expect(FakePeer.all).toHaveLength(0);

    client.whipOffer.mockRejectedValueOnce(new ApiError({ status: 403, title: "", detail: "not a speaker" }));
    const refused = make();
    await refused.start();
    expect(statuses.slice(-1)).toEqual(["failed"]);
    refused.reoffer();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.whipOffer).toHaveBeenCalledTimes(1);

    const stopped = await connected();
    stopped.stop();
    stopped.reoffer();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.whipOffer).toHaveBeenCalledTimes(2);
  });
});

describe("StageConnection.replaced", () => {
  let statuses: [StageStatus, string | undefined][];
  let mics: (object | null)[];

  beforeEach(() => {
    vi.useFakeTimers();
    FakePeer.all = [];
    statuses = [];
    mics = [];
    client.whipOffer.mockClear();
    client.whipHangUp.mockClear();
    vi.stubGlobal("window", globalThis);
    vi.stubGlobal("RTCPeerConnection", FakePeer);
    vi.stubGlobal("navigator", { mediaDevices: { getUserMedia: () => Promise.resolve(mic) } });
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  async function connected(location: string): Promise<StageConnection> {
    client.whipOffer.mockResolvedValueOnce({ answer: "v=0 answer", location });
    const callbacks = {
      onStatus: (s: StageStatus, why?: string) => statuses.push([s, why]),
      onMic: (m: MediaStream | null) => mics.push(m),
      onRemote: () => {},
    };
    const connection = new StageConnection("abc", callbacks, false);
    await connection.start();
    FakePeer.all[FakePeer.all.length - 1]!.connect();
    return connection;
  }

  it("stops for good when its own session was ended, saying so instead of reconnecting", async () => {
    const connection = await connected("/api/spaces/abc/whip/mine");
    connection.replaced("mine");
    expect(statuses.slice(-1)).toEqual([["failed", REPLACED_TEXT]]);
    expect(FakePeer.all[0]!.closed).toBe(true);
    expect(mics.slice(-1)).toEqual([null]); // the microphone is freed
    // Nothing fights back: no new offer (not even after a reconnected event stream asks one),
    // and no hang-up of a session the server already ended.
    connection.reoffer();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(client.whipOffer).toHaveBeenCalledTimes(1);
    connection.stop();
    expect(client.whipHangUp).not.toHaveBeenCalled();
  });

  it("ignores a session it replaced itself by offering again, and others' sessions", async () => {
    const connection = await connected("/api/spaces/abc/whip/first");
    client.whipOffer.mockResolvedValueOnce({ answer: "v=0 answer", location: "/api/spaces/abc/whip/second" });
    connection.reoffer();
    await vi.advanceTimersByTimeAsync(0);
    FakePeer.all[1]!.connect();
    connection.replaced("first"); // the server names the session our own new offer ended
    connection.replaced("someone-elses");
    expect(statuses.slice(-1)).toEqual([["connected", undefined]]);
    expect(FakePeer.all[1]!.closed).toBe(false);
    connection.replaced("second");
    expect(statuses.slice(-1)).toEqual([["failed", REPLACED_TEXT]]);
  });
});

