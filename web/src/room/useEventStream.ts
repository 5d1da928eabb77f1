import { useEffect, useRef, useState } from "react";
import { eventsUrl } from "../api/client";
import type { SpaceEvent, SpaceEventType } from "../api/types";
import {
  initialConnection,
  nextConnection,
  type ConnectionInput,
  type ConnectionState,
} from "./connection";

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

export interface EventStreamOptions {
  spaceId: string;
  /** Open the stream only once the space is known to exist and not be over. */
  enabled: boolean;
  /** Runs before each (re)connection, e.g. to (re)join the space. "removed" stops for good. */
  beforeConnect: () => Promise<"ok" | "removed">;
  onEvent: (event: SpaceEvent) => void;
  /** The signed-in viewer, to notice their own removal. */
  meId: number | null;
}

/**
 * The space's event WebSocket, reconnecting with backoff; returns the connection state. Only
 * signed-in people who act (stage, hosts, raised hands, invitations) open it; the audience
 * follows the audience view instead (useAudienceView).
 */
export function useEventStream(options: EventStreamOptions): ConnectionState {
  const [connection, setConnection] = useState<ConnectionState>(initialConnection);
  const latest = useRef(options);
  latest.current = options;
  const { spaceId, enabled } = options;

  useEffect(() => {
    if (!enabled) return;
    let state = initialConnection;
    // Enabled again (a listener who raised a hand again): start from "Connecting", not from
    // how the last stream ended.
    setConnection(state);
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let stopped = false;

    const update = (input: ConnectionInput): ConnectionState => {
      state = nextConnection(state, input);
      setConnection(state);
      return state;
    };

    const connect = async () => {
      const verdict = await latest.current.beforeConnect();
      if (stopped) return;
      if (verdict === "removed") {
        update({ type: "removed" });
        return;
      }
      const ws = new WebSocket(eventsUrl(spaceId, window.location));
      socket = ws;
      ws.onmessage = (message) => {
        if (stopped || socket !== ws) return;
        const event = parseEvent(message.data);
        if (!event) return;
        if (event.type === "snapshot") update({ type: "snapshot" });
        latest.current.onEvent(event);
        if (event.type === "space_ended" || event.type === "space_cancelled") {
          update({ type: "space_over" });
        } else if (
          event.type === "participant_left" &&
          event.reason === "removed" &&
          event.user_id === latest.current.meId
        ) {
          update({ type: "removed" });
        }
      };
      ws.onclose = (event) => {
        if (stopped || socket !== ws) return;
        socket = null;
        const next = update({ type: "closed", code: event.code });
        if (next.phase === "reconnecting") {
          timer = window.setTimeout(() => void connect(), next.retryInMs ?? 0);
        }
      };
    };

    void connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      socket?.close(1000);
      socket = null;
    };
  }, [spaceId, enabled]);

  return connection;
}
