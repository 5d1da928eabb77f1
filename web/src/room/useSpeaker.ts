import { useCallback, useEffect, useRef, useState, type RefObject } from "react";
import { StageConnection, type StageStatus } from "./stageConnection";

export interface Speaker {
  status: StageStatus | "off";
  detail: string | null;
  mic: MediaStream | null;
  /** The stage mix could not start playing on its own: a tap will. */
  remoteBlocked: boolean;
  retry: () => void;
  /** Offer again at once, on a new connection: the stage's media moved (stageReoffer.ts). */
  reoffer: () => void;
  /** A `speaker_replaced` event ended this WHIP session: stop if it is ours (stageReplaced.ts). */
  replaced: (sessionId: string) => void;
  resumeRemote: () => void;
}

/**
 * While `active` (a stage member of a live space), hold a WebRTC connection to the stage;
 * when it goes inactive, hang up and free the microphone.
 */
export function useSpeaker(
  spaceId: string,
  active: boolean,
  muted: boolean,
  stageAudioRef: RefObject<HTMLAudioElement | null>,
): Speaker {
  const [status, setStatus] = useState<StageStatus | "off">("off");
  const [detail, setDetail] = useState<string | null>(null);
  const [mic, setMic] = useState<MediaStream | null>(null);
  const [remoteBlocked, setRemoteBlocked] = useState(false);
  const [generation, setGeneration] = useState(0);
  const connection = useRef<StageConnection | null>(null);
  const mutedRef = useRef(muted);
  mutedRef.current = muted;

  const playRemote = useCallback(() => {
    const audio = stageAudioRef.current;
    if (!audio || !audio.srcObject) return;
    audio.play().then(
      () => setRemoteBlocked(false),
      (error: unknown) => {
        if (error instanceof DOMException && error.name === "NotAllowedError") setRemoteBlocked(true);
      },
    );
  }, [stageAudioRef]);

  useEffect(() => {
    if (!active) return;
    const current = new StageConnection(
      spaceId,
      {
        onStatus: (next, why) => {
          if (connection.current !== current) return;
          setStatus(next);
          setDetail(why ?? null);
        },
        onMic: (stream) => {
          if (connection.current === current) setMic(stream);
        },
        onRemote: (stream) => {
          const audio = stageAudioRef.current;
          if (!audio) return;
          audio.srcObject = stream;
          if (stream) playRemote();
        },
      },
      mutedRef.current,
    );
    connection.current = current;
    void current.start();
    // Closing the tab: hang up now rather than leave the server waiting for ICE to time out.
    const onPageHide = () => current.stop();
    window.addEventListener("pagehide", onPageHide);
    return () => {
      window.removeEventListener("pagehide", onPageHide);
      current.stop();
      connection.current = null;
      const audio = stageAudioRef.current;
      if (audio) audio.srcObject = null;
      setStatus("off");
      setDetail(null);
      setMic(null);
      setRemoteBlocked(false);
    };
  }, [active, spaceId, stageAudioRef, playRemote, generation]);

  useEffect(() => {
    connection.current?.setMuted(muted);
  }, [muted]);

  const retry = useCallback(() => setGeneration((g) => g + 1), []);
  const reoffer = useCallback(() => connection.current?.reoffer(), []);
  const replaced = useCallback((sessionId: string) => connection.current?.replaced(sessionId), []);

  return { status, detail, mic, remoteBlocked, retry, reoffer, replaced, resumeRemote: playRemote };
}
