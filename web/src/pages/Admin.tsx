import { useEffect, useState, type FormEvent } from "react";
import { api } from "../api/client";
import { errorMessage, formErrorMessage } from "../api/problem";
import type {
  AdminUserPage,
  AdminUserUpdate,
  AdminUserView,
  InstanceSetting,
  SpaceView,
} from "../api/types";
import { FormError } from "../components/FormError";
import { UserName } from "../components/UserName";
import { useTitle } from "../lib/useTitle";
import { Link, navigate } from "../router";
import { useSession } from "../session";

/** The instance's admin screen: people and their standing, settings, live spaces. */
export function Admin() {
  useTitle("Admin");
  const { me, loading } = useSession();

  useEffect(() => {
    if (!loading && !me) navigate("/signin?next=/admin", { replace: true });
  }, [loading, me]);

  if (loading || !me) return <main className="page" id="main" />;
  if (!me.is_admin) {
    return (
      <main className="page narrow" id="main">
        <h1>Admins only</h1>
        <p>
          This page is for the instance’s admins. An admin can make you one; until then,{" "}
          <Link href="/">go to the live spaces</Link>.
        </p>
      </main>
    );
  }
  return (
    <main className="page admin-page" id="main">
      <h1>Admin</h1>
      <People myId={me.id} />
      <LiveSpaces />
      <Instance />
    </main>
  );
}

type Change = { label: string; changes: AdminUserUpdate; confirm?: string };

/** The changes an admin can make to `user`, each the opposite of where it stands now. */
function changesFor(user: AdminUserView, self: boolean): Change[] {
  const at = `@${user.handle}`;
  const changes: Change[] = [
    user.verified
      ? { label: "Unverify", changes: { verified: false } }
      : { label: "Verify", changes: { verified: true } },
    user.can_sell_tickets
      ? { label: "Revoke ticket selling", changes: { can_sell_tickets: false } }
      : { label: "Grant ticket selling", changes: { can_sell_tickets: true } },
  ];
  if (self) return changes; // the server refuses banning or demoting oneself
  changes.push(
    user.is_admin
      ? {
          label: "Remove admin",
          changes: { is_admin: false },
          confirm: `Remove ${at} as an admin?`,
        }
      : {
          label: "Make admin",
          changes: { is_admin: true },
          confirm: `Make ${at} an admin? They can then do everything on this page.`,
        },
    user.banned
      ? { label: "Unban", changes: { banned: false } }
      : {
          label: "Ban",
          changes: { banned: true },
          confirm: `Ban ${at}? They are signed out everywhere, their API tokens are revoked, and a space they host live ends.`,
        },
  );
  return changes;
}

function People({ myId }: { myId: number }) {
  const [draft, setDraft] = useState("");
  const [query, setQuery] = useState({ q: "", page: 1 });
  const [found, setFound] = useState<AdminUserPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    api.findUsers(query.q, query.page).then(
      (page) => !cancelled && setFound(page),
      (e: unknown) =>
        !cancelled && setError(formErrorMessage(e, { q: "A search is at most 50 characters." })),
    );
    return () => {
      cancelled = true;
    };
  }, [query]);

  function search(event: FormEvent) {
    event.preventDefault();
    setQuery({ q: draft.trim(), page: 1 });
  }

  function replaced(user: AdminUserView) {
    setFound((page) =>
      page && { ...page, users: page.users.map((u) => (u.id === user.id ? user : u)) },
    );
  }

  const pages = found ? Math.max(1, Math.ceil(found.total / found.per_page)) : 1;
  return (
    <section className="admin-section" aria-labelledby="people-heading">
      <h2 id="people-heading">People</h2>
      <form className="admin-search" role="search" onSubmit={search}>
        <label htmlFor="admin-q">Find people</label>
        <input
          id="admin-q"
          type="search"
          value={draft}
          placeholder="Handle or name"
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit" className="button button-small">
          Search
        </button>
      </form>
      <FormError message={error} />
      {found && (
        <>
          <p className="muted small" role="status">
            {found.total === 0
              ? query.q
                ? `Nobody matches “${query.q}”.`
                : "Nobody yet."
              : `${found.total} ${found.total === 1 ? "person" : "people"}${query.q ? ` matching “${query.q}”` : ""} · page ${found.page} of ${pages}`}
          </p>
          <ul className="admin-people">
            {found.users.map((user) => (
              <PersonRow key={user.id} user={user} self={user.id === myId} onChanged={replaced} />
            ))}
          </ul>
          {pages > 1 && (
            <nav className="pager" aria-label="Pages of people">
              <button
                type="button"
                className="button button-small"
                disabled={found.page <= 1}
                onClick={() => setQuery({ ...query, page: found.page - 1 })}
              >
                Previous
              </button>
              <button
                type="button"
                className="button button-small"
                disabled={found.page >= pages}
                onClick={() => setQuery({ ...query, page: found.page + 1 })}
              >
                Next
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

function PersonRow({
  user,
  self,
  onChanged,
}: {
  user: AdminUserView;
  self: boolean;
  onChanged: (user: AdminUserView) => void;
}) {
  const [asking, setAsking] = useState<Change | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function apply(change: Change) {
    setBusy(true);
    setError(null);
    try {
      onChanged(await api.updateUser(user.handle, change.changes));
      setAsking(null);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  const standing = [
    user.is_admin && "Admin",
    user.can_sell_tickets && "Sells tickets",
    user.banned && "Banned",
    self && "You",
  ].filter((s): s is string => Boolean(s));
  return (
    <li className="admin-person" aria-label={`@${user.handle}`}>
      <div className="admin-person-head">
        <UserName user={user} />
        <span className="admin-standing">
          {standing.map((s) => (
            <span key={s} className={`tag ${s === "Banned" ? "tag-banned" : ""}`}>
              {s}
            </span>
          ))}
        </span>
      </div>
      {asking ? (
        <div className="confirm" role="group" aria-label={asking.label}>
          <p>{asking.confirm}</p>
          <div className="form-row">
            <button
              type="button"
              className="button button-danger button-small"
              disabled={busy}
              onClick={() => apply(asking)}
            >
              {asking.label}
            </button>
            <button
              type="button"
              className="button button-ghost button-small"
              disabled={busy}
              onClick={() => setAsking(null)}
            >
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <div className="admin-actions">
          {changesFor(user, self).map((change) => (
            <button
              key={change.label}
              type="button"
              className="button button-small"
              disabled={busy}
              onClick={() => (change.confirm ? setAsking(change) : apply(change))}
            >
              {change.label}
            </button>
          ))}
        </div>
      )}
      <FormError message={error} />
    </li>
  );
}

function LiveSpaces() {
  const [spaces, setSpaces] = useState<SpaceView[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function reload() {
    try {
      setSpaces(await api.spaces("live"));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  useEffect(() => {
    void reload();
  }, []);

  return (
    <section className="admin-section" aria-labelledby="live-heading">
      <div className="admin-section-head">
        <h2 id="live-heading">Live spaces</h2>
        <button type="button" className="button button-ghost button-small" onClick={reload}>
          Refresh
        </button>
      </div>
      <FormError message={error} />
      {spaces &&
        (spaces.length === 0 ? (
          <p className="muted">No space is live.</p>
        ) : (
          <div className="table-wrap">
            <table className="statement">
              <thead>
                <tr>
                  <th scope="col">Space</th>
                  <th scope="col">Host</th>
                  <th scope="col" className="num">
                    Audience
                  </th>
                  <th scope="col" className="num">
                    On stage
                  </th>
                </tr>
              </thead>
              <tbody>
                {spaces.map((space) => (
                  <tr key={space.id}>
                    <th scope="row">
                      <Link href={`/spaces/${encodeURIComponent(space.id)}`}>{space.title}</Link>
                      {space.ticket && <span className="tag">Ticketed</span>}
                    </th>
                    <td>
                      <UserName user={space.host} />
                    </td>
                    <td className="num">{space.audience_count}</td>
                    <td className="num">{space.stage.length}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}

function shownValue(value: InstanceSetting["value"]): string {
  if (Array.isArray(value)) return value.length ? value.join(", ") : "(none)";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

function Instance() {
  const [settings, setSettings] = useState<InstanceSetting[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.instance().then(setSettings, (e: unknown) => setError(errorMessage(e)));
  }, []);

  return (
    <section className="admin-section" aria-labelledby="instance-heading">
      <h2 id="instance-heading">This instance</h2>
      <p className="muted small">
        Set by the operator in the environment (or a <code>.env</code> file) and read at start-up;
        change one and restart to apply it.
      </p>
      <FormError message={error} />
      {settings && (
        <div className="table-wrap">
          <table className="statement instance-settings">
            <thead>
              <tr>
                <th scope="col">Setting</th>
                <th scope="col">Value</th>
                <th scope="col">Variable</th>
              </tr>
            </thead>
            <tbody>
              {settings.map((setting) => (
                <tr key={setting.key}>
                  <th scope="row">{setting.about}</th>
                  <td>{shownValue(setting.value)}</td>
                  <td>
                    <code>{setting.env}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
