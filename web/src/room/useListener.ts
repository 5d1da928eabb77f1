import { useCallback, useEffect, useRef, useState, type RefObject } from "react";
import { ListenSession, type ListenStatus } from "./listenSession";

export interface Listener {
  /** The person asked to listen (and has not stopped). */
  wanted: boolean;
  status: ListenStatus | "idle";
  detail: string | null;
  latency: number | null;
  /** Call from the click handler, so audio may start. */
  start: () => void;
  stop: () => void;
  retryPlay: () => void;
}

/**
 * Listening over LL-HLS while `allowed` (live, and not on the stage): a stage member hears
 * the live WebRTC mix instead, and listening resumes when they step down.
 */
export function useListener(
  spaceId: string,
  audioRef: RefObject<HTMLAudioElement | null>,
  allowed: boolean,
): Listener {
  const [wanted, setWanted] = useState(false);
  const [status, setStatus] = useState<ListenStatus | "idle">("idle");
  const [detail, setDetail] = useState<string | null>(null);
  const [latency, setLatency] = useState<number | null>(null);
  const session = useRef<ListenSession | null>(null);

  const close = useCallback(() => {
    session.current?.destroy();
    session.current = null;
    setStatus("idle");
    setLatency(null);
  }, []);

  const open = useCallback(() => {
    const audio = audioRef.current;
    if (!audio) return;
    session.current?.destroy();
    const current = new ListenSession(audio, spaceId, {
      onStatus: (next, why) => {
        if (session.current !== current) return;
        setStatus(next);
        setDetail(why ?? null);
        if (next === "ended") {
          setWanted(false);
          current.destroy();
          session.current = null;
        }
      },
      onLatency: (seconds) => {
        if (session.current === current) setLatency(seconds);
      },
    });
    session.current = current;
    current.start();
  }, [audioRef, spaceId]);

  const start = useCallback(() => {
    setWanted(true);
    setDetail(null);
    open();
  }, [open]);

  const stop = useCallback(() => {
    setWanted(false);
    close();
  }, [close]);

  const retryPlay = useCallback(() => session.current?.retryPlay(), []);

  useEffect(() => {
    if (!allowed) close();
    else if (wanted && !session.current) open();
  }, [allowed, wanted, open, close]);

  useEffect(() => close, [close]);

  return { wanted, status, detail, latency, start, stop, retryPlay };
}
