// One space's event WebSocket over its life: (re)connecting with backoff (connection.ts),
// putting the events in order (eventOrder.ts), and reconnecting at once to resync when some
// went missing. Plain TypeScript, so tests drive it with fake sockets and timers;
// useEventStream.ts ties it to a component.
import type { SpaceEvent, SpaceEventType } from "../api/types";
import {
  initialConnection,
  nextConnection,
  type ConnectionInput,
  type ConnectionState,
} from "./connection";
import { closed, initialOrder, receive, resynced, tick, type OrderStep } from "./eventOrder";

const EVENT_TYPES: ReadonlySet<SpaceEventType> = new Set<SpaceEventType>([
  "snapshot",
  "space_started",
  "space_ended",
  "space_cancelled",
  "host_disconnected",
  "host_reconnected",
  "participant_joined",
  "participant_left",
  "role_changed",
  "speaking",
  "hand_raised",
  "hand_lowered",
  "invited",
  "invitation_answered",
  "muted",
  "unmuted",
  "reaction",
  "reaction_burst",
  "audience_count",
  "tickets_left",
  "media_moved",
  "speaker_replaced",
  "ticket_voided",
]);

export function parseEvent(data: unknown): SpaceEvent | null {
  if (typeof data !== "string") return null;
  try {
    const value: unknown = JSON.parse(data);
    if (
      typeof value === "object" &&
      value !== null &&
      EVENT_TYPES.has((value as { type: SpaceEventType }).type)
    ) {
      return value as SpaceEvent;
    }
  } catch {
    // A malformed message is dropped, not fatal.
  }
  return null;
}

/** What the stream needs of a WebSocket (tests pass their own). */
export interface EventSocket {
  onmessage: ((message: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  close(code?: number, reason?: string): void;
}

export interface EventStreamCallbacks {
  /** Runs before each (re)connection, e.g. to (re)join the space. "removed" stops for good. */
  beforeConnect: () => Promise<"ok" | "removed">;
  /**
   * Each event once, in the space's order. `reconnected` marks the snapshot of a connection
   * made again after one was lost or resynced (not the stream's first).
   */
  onEvent: (event: SpaceEvent, reconnected: boolean) => void;
  onConnection: (state: ConnectionState) => void;
  /** The signed-in viewer, to notice their own removal. */
  meId: () => number | null;
}

/** Our own close of a connection we resync from (a client may send 1000 or 3000-4999). */
const RESYNC_CLOSE = 1000;

export class EventStream {
  private state: ConnectionState = initialConnection;
  private order = initialOrder<SpaceEvent>();
  private socket: EventSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly callbacks: EventStreamCallbacks,
    private readonly open: () => EventSocket,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    this.callbacks.onConnection(this.state);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.gapTimer);
    this.socket?.close(1000);
    this.socket = null;
  }

  private update(input: ConnectionInput): ConnectionState {
    this.state = nextConnection(this.state, input);
    this.callbacks.onConnection(this.state);
    return this.state;
  }

  private async connect(): Promise<void> {
    const verdict = await this.callbacks.beforeConnect();
    if (this.stopped) return;
    if (verdict === "removed") {
      this.update({ type: "removed" });
      return;
    }
    const ws = this.open();
    this.socket = ws;
    ws.onmessage = (message) => {
      if (this.stopped || this.socket !== ws) return;
      const event = parseEvent(message.data);
      if (event) this.follow(ws, receive(this.order, event, this.now()));
    };
    ws.onclose = ({ code }) => {
      if (this.stopped || this.socket !== ws) return;
      clearTimeout(this.gapTimer);
      // Closed for good, no snapshot will fill a gap: what was held still happened.
      const forGood = nextConnection(this.state, { type: "closed", code }).phase === "ended";
      this.follow(ws, closed(this.order, forGood));
      this.socket = null;
      const next = this.update({ type: "closed", code });
      if (next.phase === "reconnecting") {
        this.retryTimer = setTimeout(() => void this.connect(), next.retryInMs ?? 0);
      }
    };
  }

  /** Take one ordering step on `ws`: deliver what is ready, wait out a gap, or resync. */
  private follow(ws: EventSocket, step: OrderStep<SpaceEvent>): void {
    this.order = step.state;
    for (const event of step.ready) {
      if (this.stopped || this.socket !== ws) return;
      this.deliver(event);
    }
    clearTimeout(this.gapTimer);
    if (step.resync) {
      this.resync(ws);
    } else if (step.wakeAt !== null) {
      this.gapTimer = setTimeout(
        () => {
          if (!this.stopped && this.socket === ws) this.follow(ws, tick(this.order, this.now()));
        },
        Math.max(0, step.wakeAt - this.now()),
      );
    }
  }

  /** One event, in order, to the room (and to the connection state). */
  private deliver(event: SpaceEvent): void {
    let reconnected = false;
    if (event.type === "snapshot") {
      reconnected = this.state.phase === "reconnecting";
      this.update({ type: "snapshot" });
    }
    this.callbacks.onEvent(event, reconnected);
    if (event.type === "space_ended" || event.type === "space_cancelled") {
      this.update({ type: "space_over" });
    } else if (
      event.type === "participant_left" &&
      event.reason === "removed" &&
      event.user_id === this.callbacks.meId()
    ) {
      this.update({ type: "removed" });
    }
  }

  /** Events went missing: drop this connection and take a new snapshot at once. */
  private resync(ws: EventSocket): void {
    this.socket = null; // the close is ours: onclose ignores it
    ws.close(RESYNC_CLOSE, "resync");
    this.order = resynced(this.order, this.now());
    if (this.update({ type: "resync" }).phase !== "reconnecting") return;
    clearTimeout(this.retryTimer);
    void this.connect();
  }
}
