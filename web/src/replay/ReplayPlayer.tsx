// The replay of an ended recorded space: play from `?t=`, seek, who spoke when (the stage
// rings whoever's interval covers the playhead), reactions floating at their moments, a
// share link at the current time, the expiry, and the host deleting the recording.
import Hls from "hls.js/light";
import { useCallback, useEffect, useRef, useState } from "react";
import { api, replaysApi } from "../api/client";
import { errorMessage } from "../api/problem";
import type { ReplayReaction, ReplayView, SpaceView } from "../api/types";
import { Avatar } from "../components/Avatar";
import { UserName } from "../components/UserName";
import { ConfirmDialog } from "../room/ConfirmDialog";
import { AudioCredential } from "../room/credential";
import { formatClock, reactionsPassed, shareUrl, speakersAt, startFrom } from "./timeline";

/** How long a floating reaction stays on screen (its CSS animation). */
const FLOAT_MS = 2500;

interface Floating {
  key: number;
  reaction: ReplayReaction;
}

export function ReplayPlayer({ space, isHost }: { space: SpaceView; isHost: boolean }) {
  const [replay, setReplay] = useState<ReplayView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleted, setDeleted] = useState(false);
  const [t, setT] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [started, setStarted] = useState(false);
  const [floating, setFloating] = useState<Floating[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const audio = useRef<HTMLAudioElement>(null);
  const hls = useRef<Hls | null>(null);
  /** A ticketed replay's audio credential, renewed while it plays (as the live player's). */
  const credential = useRef<AudioCredential | null>(null);
  const lastT = useRef(0);
  const nextKey = useRef(0);

  useEffect(() => {
    let cancelled = false;
    replaysApi
      .replay(space.id)
      .then((view) => {
        if (cancelled) return;
        setReplay(view);
        const start = startFrom(window.location.search, view.duration);
        setT(start);
        lastT.current = start;
      })
      .catch((e) => !cancelled && setError(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [space.id]);

  const stopMedia = useCallback(() => {
    hls.current?.destroy();
    hls.current = null;
    credential.current?.stop();
    credential.current = null;
    const element = audio.current;
    if (element) {
      element.pause();
      element.removeAttribute("src");
      element.load();
    }
    setStarted(false);
    setPlaying(false);
  }, []);
  useEffect(() => stopMedia, [stopMedia]);

  // Follow the playhead while playing: ring speakers, float reactions it passes.
  useEffect(() => {
    if (!playing || !replay) return;
    let frame = 0;
    const follow = () => {
      const element = audio.current;
      if (element) {
        const now = element.currentTime;
        const passed = reactionsPassed(replay.reactions, lastT.current, now);
        lastT.current = now;
        setT(now);
        if (passed.length > 0) {
          const added = passed.map((reaction) => ({ key: nextKey.current++, reaction }));
          setFloating((list) => [...list, ...added]);
          const keys = new Set(added.map((f) => f.key));
          window.setTimeout(
            () => setFloating((list) => list.filter((f) => !keys.has(f.key))),
            FLOAT_MS,
          );
        }
      }
      frame = window.requestAnimationFrame(follow);
    };
    frame = window.requestAnimationFrame(follow);
    return () => window.cancelAnimationFrame(frame);
  }, [playing, replay]);

  async function play() {
    const element = audio.current;
    if (!element || !replay) return;
    if (started) {
      void element.play();
      return;
    }
    setError(null);
    try {
      const requestedAt = performance.now();
      const access = await api.listen(space.id);
      const at = t;
      credential.current?.stop();
      const renewing = AudioCredential.forSpace(space.id, {
        onRenewed: (renewed) => {
          // hls.js takes the new credential through xhrSetup; the native player cannot.
          if (!hls.current && audio.current) audio.current.src = renewed.playlist_url;
        },
        onRefused: (detail) => {
          stopMedia();
          setError(detail);
        },
        onEnded: (detail) => {
          stopMedia();
          setError(detail);
        },
      });
      renewing.accept(access, requestedAt);
      credential.current = renewing;
      if (Hls.isSupported()) {
        const player = new Hls({
          startPosition: at,
          // Every request carries the newest credential (a ticketed replay's lives a minute).
          xhrSetup: async (xhr, url) => {
            if (renewing.isStale()) await renewing.fresh();
            xhr.open("GET", renewing.apply(url), true);
          },
        });
        hls.current = player;
        player.loadSource(renewing.apply(access.playlist_url));
        player.attachMedia(element);
      } else {
        element.src = access.playlist_url;
        element.addEventListener("loadedmetadata", () => (element.currentTime = at), {
          once: true,
        });
      }
      lastT.current = at;
      setStarted(true);
      await element.play();
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  function seek(to: number) {
    lastT.current = to;
    setT(to);
    const element = audio.current;
    if (element && started) element.currentTime = to;
  }

  async function remove() {
    setBusy(true);
    try {
      await replaysApi.deleteRecording(space.id);
      stopMedia();
      setDeleted(true);
      setConfirming(false);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  const player = (
    <audio
      ref={audio}
      data-testid="replay-audio"
      preload="none"
      onPlay={() => setPlaying(true)}
      onPause={() => setPlaying(false)}
      onEnded={() => setPlaying(false)}
    />
  );

  if (deleted) {
    return (
      <section className="replay" aria-label="Replay">
        <p role="status">The recording was deleted.</p>
      </section>
    );
  }
  if (!replay) {
    return (
      <section className="replay" aria-label="Replay">
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : (
          <p className="muted">Loading the replay…</p>
        )}
      </section>
    );
  }

  const speaking = speakersAt(replay.speaking, t);
  const link = shareUrl(window.location.origin, space.id, t);
  const expires = new Date(replay.expires_at);

  return (
    <section
      className="replay"
      aria-label="Replay"
      data-testid="replay-player"
      data-current-time={t.toFixed(2)}
    >
      {player}
      <div className="replay-controls">
        {playing ? (
          <button type="button" className="button" onClick={() => audio.current?.pause()}>
            Pause
          </button>
        ) : (
          <button type="button" className="button button-primary" onClick={() => void play()}>
            {started ? "Resume" : t > 0 ? `Play from ${formatClock(t)}` : "Play recording"}
          </button>
        )}
        <span className="replay-clock" data-testid="replay-clock">
          <span data-testid="replay-elapsed">{formatClock(t)}</span> /{" "}
          <span data-testid="replay-total">{formatClock(replay.duration)}</span>
        </span>
      </div>
      <input
        type="range"
        className="replay-seek"
        aria-label="Seek"
        min={0}
        max={replay.duration}
        step={0.1}
        value={Math.min(t, replay.duration)}
        aria-valuetext={`${formatClock(t)} of ${formatClock(replay.duration)}`}
        onChange={(e) => seek(Number(e.target.value))}
      />

      <div className="replay-stage-wrap">
        <ul className="replay-stage" aria-label="Who spoke">
          {replay.people.map((person) => {
            const on = speaking.has(person.id);
            return (
              <li
                key={person.id}
                className="replay-person"
                data-testid="replay-person"
                data-user-id={person.id}
                data-speaking={on ? "true" : "false"}
              >
                <span className={`avatar-wrap ${on ? "is-speaking" : ""}`}>
                  <Avatar user={person} />
                </span>
                <span className="member-name">
                  <UserName user={person} />
                </span>
                {on && <span className="visually-hidden">, speaking</span>}
              </li>
            );
          })}
        </ul>
        <span className="floating-layer" aria-hidden="true">
          {floating.map((f) => (
            <span
              key={f.key}
              className="floating-reaction"
              data-testid="replay-reaction"
              data-at={f.reaction.at}
              style={{ left: `${30 + ((f.key * 37) % 40)}%` }}
            >
              {f.reaction.emoji}
            </span>
          ))}
        </span>
      </div>

      <div className="replay-timeline" aria-label="Who spoke when">
        {replay.people.map((person) => (
          <div key={person.id} className="replay-track">
            <span className="replay-track-name">{person.display_name}</span>
            <span className="replay-track-bar">
              {replay.speaking
                .filter((i) => i.user_id === person.id)
                .map((i) => (
                  <button
                    type="button"
                    key={`${i.start}`}
                    className="replay-turn"
                    style={{
                      left: `${(i.start / replay.duration) * 100}%`,
                      width: `${Math.max(0.5, ((i.end - i.start) / replay.duration) * 100)}%`,
                    }}
                    aria-label={`${person.display_name} at ${formatClock(i.start)}`}
                    onClick={() => seek(i.start)}
                  />
                ))}
              <span
                className="replay-playhead"
                style={{ left: `${(Math.min(t, replay.duration) / replay.duration) * 100}%` }}
              />
            </span>
          </div>
        ))}
      </div>

      <div className="replay-share">
        <label>
          Link at {formatClock(t)}
          <input type="text" readOnly value={link} data-testid="replay-share-link" />
        </label>
        <button
          type="button"
          className="button"
          onClick={() =>
            void navigator.clipboard?.writeText(link).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? "Copied" : "Copy link"}
        </button>
      </div>
      <p className="muted small" data-testid="replay-expires">
        Replay available until{" "}
        <time dateTime={replay.expires_at}>
          {expires.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" })}
        </time>
        {replay.gap_seconds > 0 &&
          ` · ${Math.round(replay.gap_seconds)} s were lost while the space restarted`}
      </p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {isHost && (
        <button type="button" className="button button-danger" onClick={() => setConfirming(true)}>
          Delete recording
        </button>
      )}
      {confirming && (
        <ConfirmDialog
          title="Delete this recording?"
          confirmLabel="Delete recording"
          cancelLabel="Keep it"
          danger
          busy={busy}
          onConfirm={() => void remove()}
          onCancel={() => setConfirming(false)}
        >
          <p>Nobody will be able to play it again, including links already shared.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
