import { HeadphonesIcon } from "../components/icons";
import type { Listener } from "./useListener";

function describe(listener: Listener, replay: boolean): string {
  switch (listener.status) {
    case "idle":
      return "";
    case "starting":
      return "Starting audio…";
    case "buffering":
      return "Buffering…";
    case "playing":
      if (replay) return "Playing the recording";
      return listener.latency !== null
        ? `Live · ${listener.latency.toFixed(1)} s behind`
        : "Live";
    case "blocked":
      return "Your browser paused the audio.";
    case "ended":
      return listener.detail ?? "The audio has ended.";
    case "error":
      return listener.detail ?? "Could not play the audio.";
  }
}

/** One tap to hear the space (or its recording, once it has ended). */
export function ListenButton({ listener, replay }: { listener: Listener; replay: boolean }) {
  const text = describe(listener, replay);
  return (
    <div className="listen">
      {listener.wanted ? (
        <button type="button" className="button button-on" onClick={listener.stop}>
          <HeadphonesIcon /> {replay ? "Stop playing" : "Stop listening"}
        </button>
      ) : (
        <button type="button" className="button button-primary" onClick={listener.start}>
          <HeadphonesIcon /> {replay ? "Play recording" : "Listen"}
        </button>
      )}
      {listener.status === "blocked" && (
        <button type="button" className="button" onClick={listener.retryPlay}>
          Tap to play
        </button>
      )}
      <span className={`listen-status ${listener.status === "playing" ? "is-playing" : ""}`} aria-live="polite">
        {text}
      </span>
    </div>
  );
}
