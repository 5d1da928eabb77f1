import { useEffect, useState } from "react";
import { api, replaysApi } from "../api/client";
import { errorMessage } from "../api/problem";
import type { ListedSpace, SpaceView } from "../api/types";
import { SpaceCard } from "../components/SpaceCard";
import { useTitle } from "../lib/useTitle";
import { ListedSpaces } from "../replay/ListedSpaces";
import { Link } from "../router";
import { useSession } from "../session";

/** Live spaces refresh on this period; the list is small and cheap. */
const REFRESH_MS = 15_000;

export function Home() {
  useTitle(null);
  const { me, loading: sessionLoading } = useSession();
  const [live, setLive] = useState<SpaceView[] | null>(null);
  const [scheduled, setScheduled] = useState<SpaceView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [replays, setReplays] = useState<ListedSpace[]>([]);

  useEffect(() => {
    if (sessionLoading || !me) {
      setReplays([]);
      return;
    }
    let cancelled = false;
    replaysApi
      .myReplays()
      .then((list) => !cancelled && setReplays(list))
      .catch(() => !cancelled && setReplays([])); // the shelf is a bonus: no shelf, no fuss
    return () => {
      cancelled = true;
    };
  }, [sessionLoading, me]);

  useEffect(() => {
    if (sessionLoading) return; // the order depends on whom the viewer follows
    let cancelled = false;
    async function load() {
      try {
        const [l, s] = await Promise.all([api.spaces("live"), api.spaces("scheduled")]);
        if (cancelled) return;
        setLive(l);
        setScheduled(s);
        setError(null);
      } catch (e) {
        if (!cancelled) setError(errorMessage(e));
      }
    }
    void load();
    const timer = window.setInterval(load, REFRESH_MS);
    return () => {
      cancelled = true;
      window.clearInterval(timer);
    };
  }, [sessionLoading, me?.id]);

  return (
    <main className="page home" id="main">
      <section className="home-hero">
        <h1>Live now</h1>
        <Link href="/spaces/new" className="button button-primary">
          Start a space
        </Link>
      </section>
      {error && (
        <p className="form-error" role="alert">
          Could not load spaces: {error}
        </p>
      )}
      <section aria-labelledby="live-heading">
        <h2 id="live-heading" className="visually-hidden">
          Live spaces
        </h2>
        {live === null ? (
          !error && <p className="muted">Loading spaces…</p>
        ) : live.length === 0 ? (
          <div className="empty">
            <p className="empty-title">Nobody is live right now.</p>
            <p className="muted">
              Open a space and people who follow you will find it here first.
            </p>
          </div>
        ) : (
          <ul className="space-list">
            {live.map((s) => (
              <li key={s.id}>
                <SpaceCard space={s} />
              </li>
            ))}
          </ul>
        )}
      </section>
      {replays.length > 0 && (
        <section aria-labelledby="replays-heading" className="replays-shelf">
          <h2 id="replays-heading">Replays</h2>
          <ListedSpaces spaces={replays} label="Replays from people you follow" />
        </section>
      )}
      <section aria-labelledby="scheduled-heading">
        <h2 id="scheduled-heading">Coming up</h2>
        {scheduled === null ? null : scheduled.length === 0 ? (
          <p className="muted">No spaces are scheduled yet.</p>
        ) : (
          <ul className="space-list">
            {scheduled.map((s) => (
              <li key={s.id}>
                <SpaceCard space={s} />
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
