import { useEffect, useRef, useState } from "react";
import { eventsUrl } from "../api/client";
import type { SpaceEvent } from "../api/types";
import { initialConnection, type ConnectionState } from "./connection";
import { EventStream } from "./eventStream";

export interface EventStreamOptions {
  spaceId: string;
  /** Open the stream only once the space is known to exist and not be over. */
  enabled: boolean;
  /** Runs before each (re)connection, e.g. to (re)join the space. "removed" stops for good. */
  beforeConnect: () => Promise<"ok" | "removed">;
  /**
   * Each event once, in the space's order (eventOrder.ts). `reconnected` marks the snapshot
   * of a connection made again after one was lost or resynced (not the stream's first).
   */
  onEvent: (event: SpaceEvent, reconnected: boolean) => void;
  /** The signed-in viewer, to notice their own removal. */
  meId: number | null;
}

/**
 * The space's event WebSocket (eventStream.ts), reconnecting with backoff; returns the
 * connection state. Only signed-in people who act (stage, hosts, raised hands, invitations)
 * open it; the audience follows the audience view instead (useAudienceView). Events reach
 * `onEvent` de-duplicated and in order; a gap that does not fill makes it reconnect at once
 * for a new snapshot.
 */
export function useEventStream(options: EventStreamOptions): ConnectionState {
  const [connection, setConnection] = useState<ConnectionState>(initialConnection);
  const latest = useRef(options);
  latest.current = options;
  const { spaceId, enabled } = options;

  useEffect(() => {
    if (!enabled) return;
    // Enabled again (a listener who raised a hand again): the stream starts from "Connecting",
    // not from how the last one ended.
    const stream = new EventStream(
      {
        beforeConnect: () => latest.current.beforeConnect(),
        onEvent: (event, reconnected) => latest.current.onEvent(event, reconnected),
        onConnection: setConnection,
        meId: () => latest.current.meId,
      },
      () => new WebSocket(eventsUrl(spaceId, window.location)),
    );
    stream.start();
    return () => stream.stop();
  }, [spaceId, enabled]);

  return connection;
}
