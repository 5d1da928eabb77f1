import { useEffect, useState } from "react";
import { api, replaysApi } from "../api/client";
import { ApiError, errorMessage } from "../api/problem";
import type { ListedSpace, Profile as ProfileView, UserSummary } from "../api/types";
import { Avatar } from "../components/Avatar";
import { FormError } from "../components/FormError";
import { UserName } from "../components/UserName";
import { VerifiedBadge } from "../components/VerifiedBadge";
import { BellIcon } from "../notifications/BellIcon";
import { useTitle } from "../lib/useTitle";
import { ListedSpaces } from "../replay/ListedSpaces";
import { Link } from "../router";
import { useSession } from "../session";

type Tab = "followers" | "following";

const SPACES_PAGE = 20;

export function Profile({ handle }: { handle: string }) {
  const { me } = useSession();
  const [profile, setProfile] = useState<ProfileView | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [tab, setTab] = useState<Tab | null>(null);
  const [list, setList] = useState<UserSummary[] | null>(null);
  const [spaces, setSpaces] = useState<ListedSpace[] | null>(null);
  const [more, setMore] = useState(false);
  useTitle(profile ? `${profile.display_name} (@${profile.handle})` : handle);

  useEffect(() => {
    let cancelled = false;
    setProfile(null);
    setNotFound(false);
    setTab(null);
    api
      .profile(handle)
      .then((p) => !cancelled && setProfile(p))
      .catch((e) => {
        if (cancelled) return;
        if (e instanceof ApiError && (e.status === 404 || e.status === 422)) setNotFound(true);
        else setError(errorMessage(e));
      });
    return () => {
      cancelled = true;
    };
  }, [handle, me?.id]);

  useEffect(() => {
    let cancelled = false;
    setSpaces(null);
    replaysApi
      .userSpaces(handle, 0, SPACES_PAGE)
      .then((page) => {
        if (cancelled) return;
        setSpaces(page);
        setMore(page.length === SPACES_PAGE);
      })
      .catch(() => !cancelled && setSpaces([]));
    return () => {
      cancelled = true;
    };
  }, [handle, me?.id]);

  async function loadMoreSpaces() {
    const shown = spaces ?? [];
    try {
      const page = await replaysApi.userSpaces(handle, shown.length, SPACES_PAGE);
      setSpaces([...shown, ...page]);
      setMore(page.length === SPACES_PAGE);
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  useEffect(() => {
    if (!tab) return;
    let cancelled = false;
    setList(null);
    (tab === "followers" ? api.followers(handle) : api.following(handle))
      .then((people) => !cancelled && setList(people))
      .catch((e) => !cancelled && setError(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [tab, handle, profile?.followers_count]);

  if (notFound) {
    return (
      <main className="page narrow" id="main">
        <h1>No such person</h1>
        <p>
          Nobody here goes by @{handle}. <Link href="/">Back home</Link>
        </p>
      </main>
    );
  }
  if (!profile) {
    return (
      <main className="page narrow" id="main">
        <FormError message={error} />
        {!error && <p className="muted">Loading…</p>}
      </main>
    );
  }

  const isMe = me?.id === profile.id;

  async function toggleFollow() {
    if (!profile) return;
    setBusy(true);
    setError(null);
    try {
      if (profile.followed_by_me) await api.unfollow(profile.handle);
      else await api.follow(profile.handle);
      setProfile(await api.profile(profile.handle));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function toggleLiveNotifications() {
    if (!profile) return;
    setBusy(true);
    setError(null);
    try {
      const { notify } = await api.followNotify(profile.handle, !profile.live_notifications);
      setProfile({ ...profile, live_notifications: notify });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="page narrow profile" id="main">
      <div className="profile-head">
        <Avatar user={profile} size="lg" />
        <div>
          <h1 className="profile-name">
            {profile.display_name} <VerifiedBadge verified={profile.verified} />
          </h1>
          <p className="handle">@{profile.handle}</p>
        </div>
      </div>
      {profile.bio && <p className="bio">{profile.bio}</p>}
      {/* Tabs rather than buttons: a "Follow" button must stay the only button named so. */}
      <div className="profile-counts" role="tablist" aria-label="Follows">
        <button
          type="button"
          role="tab"
          id="tab-followers"
          className={`count-button ${tab === "followers" ? "active" : ""}`}
          aria-selected={tab === "followers"}
          aria-controls="people-list"
          onClick={() => setTab(tab === "followers" ? null : "followers")}
        >
          <strong>{profile.followers_count}</strong>{" "}
          {profile.followers_count === 1 ? "follower" : "followers"}
        </button>
        <button
          type="button"
          role="tab"
          id="tab-following"
          className={`count-button ${tab === "following" ? "active" : ""}`}
          aria-selected={tab === "following"}
          aria-controls="people-list"
          onClick={() => setTab(tab === "following" ? null : "following")}
        >
          <strong>{profile.following_count}</strong> following
        </button>
      </div>
      <div className="profile-actions">
        {isMe ? (
          <Link href="/settings" className="button">
            Edit profile
          </Link>
        ) : me ? (
          <>
            <button
              type="button"
              className={`button ${profile.followed_by_me ? "" : "button-primary"}`}
              disabled={busy}
              onClick={toggleFollow}
            >
              {profile.followed_by_me ? "Unfollow" : "Follow"}
            </button>
            {profile.followed_by_me && profile.live_notifications != null && (
              <button
                type="button"
                className={`icon-button live-notify-toggle${profile.live_notifications ? " on" : ""}`}
                aria-pressed={profile.live_notifications}
                aria-label={`Tell me when ${profile.display_name} goes live`}
                title={`${profile.live_notifications ? "On" : "Off"}: tell me when ${profile.display_name} goes live`}
                disabled={busy}
                onClick={toggleLiveNotifications}
              >
                <BellIcon off={!profile.live_notifications} size={18} />
              </button>
            )}
          </>
        ) : (
          <p className="muted small">
            <Link href={`/signin?next=/users/${encodeURIComponent(profile.handle)}`}>Sign in</Link>{" "}
            to follow.
          </p>
        )}
      </div>
      <FormError message={error} />
      {tab && (
        <section id="people-list" role="tabpanel" aria-labelledby={`tab-${tab}`} className="people">
          <h2 id="people-heading">{tab === "followers" ? "Followers" : "Following"}</h2>
          {list === null ? (
            <p className="muted">Loading…</p>
          ) : list.length === 0 ? (
            <p className="muted">
              {tab === "followers" ? "No followers yet." : "Not following anyone yet."}
            </p>
          ) : (
            <ul className="people-list">
              {list.map((u) => (
                <li key={u.id}>
                  <Avatar user={u} size="sm" />
                  <UserName user={u} />
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <section aria-labelledby="spaces-heading" className="profile-spaces">
        <h2 id="spaces-heading">Spaces</h2>
        {spaces === null ? (
          <p className="muted">Loading…</p>
        ) : spaces.length === 0 ? (
          <p className="muted">No spaces yet.</p>
        ) : (
          <ListedSpaces spaces={spaces} label={`Spaces hosted by ${profile.display_name}`} />
        )}
        {more && (
          <button type="button" className="button" onClick={() => void loadMoreSpaces()}>
            More spaces
          </button>
        )}
      </section>
    </main>
  );
}
