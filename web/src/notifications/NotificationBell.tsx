// The header's bell: the unread count as a badge; opening it shows the latest notifications
// (each a link to its space) and marks them read. Live through useNotifications' long-poll.
import { useEffect, useRef, useState, type FocusEvent } from "react";
import type { NotificationView } from "../api/types";
import { Avatar } from "../components/Avatar";
import { Link } from "../router";
import { BellIcon } from "./BellIcon";
import { badgeText, bellLabel, notificationText, timeAgo } from "./text";
import { useNotifications } from "./useNotifications";

export function NotificationBell({ userId }: { userId: number }) {
  const { state, error, loadingMore, loadMore, markAllRead } = useNotifications(userId);
  const [open, setOpen] = useState(false);
  // Unread when the list was opened: they stay highlighted while it is open.
  const [fresh, setFresh] = useState<ReadonlySet<number>>(new Set());
  const wrapRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);
  const announced = useRef<number | null>(null);
  const [announcement, setAnnouncement] = useState("");

  // Say what arrives live to screen readers (not what was there when the page loaded).
  useEffect(() => {
    const newest = state.items[0];
    if (!state.loaded) {
      announced.current = null;
      return;
    }
    if (announced.current === null) {
      announced.current = newest?.id ?? 0;
      return;
    }
    if (newest && newest.id > announced.current) {
      announced.current = newest.id;
      if (!newest.read) setAnnouncement(`New notification: ${notificationText(newest).text}`);
    }
  }, [state.loaded, state.items]);

  // Open: whatever is unread (on opening, or arriving while open) is now seen.
  useEffect(() => {
    if (!open || state.unread === 0) return;
    setFresh((seen) => {
      const next = new Set(seen);
      for (const item of state.items) if (!item.read) next.add(item.id);
      return next;
    });
    void markAllRead();
  }, [open, state.unread, state.latestId, state.items, markAllRead]);

  useEffect(() => {
    if (!open) return;
    panelRef.current?.focus();
    function onKey(event: KeyboardEvent) {
      if (event.key === "Escape") {
        event.preventDefault();
        setOpen(false);
        buttonRef.current?.focus();
      }
    }
    function onPointer(event: PointerEvent) {
      if (!wrapRef.current?.contains(event.target as Node)) setOpen(false);
    }
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open]);

  function toggle() {
    if (open) setOpen(false);
    else {
      setFresh(new Set());
      setOpen(true);
    }
  }

  // Tabbing out of the list closes it, as a menu would.
  function onBlur(event: FocusEvent<HTMLDivElement>) {
    const next = event.relatedTarget as Node | null;
    if (open && next && !wrapRef.current?.contains(next)) setOpen(false);
  }

  return (
    <div className="bell" ref={wrapRef} onBlur={onBlur}>
      <button
        ref={buttonRef}
        type="button"
        className="bell-button"
        aria-label={bellLabel(state.unread)}
        aria-expanded={open}
        aria-controls={open ? "bell-panel" : undefined}
        onClick={toggle}
      >
        <BellIcon />
        {state.unread > 0 && (
          <span className="bell-badge" aria-hidden="true" data-testid="bell-badge">
            {badgeText(state.unread)}
          </span>
        )}
      </button>
      <span className="visually-hidden" aria-live="polite">
        {announcement}
      </span>
      {open && (
        <div
          id="bell-panel"
          ref={panelRef}
          className="bell-panel"
          role="dialog"
          aria-labelledby="bell-title"
          tabIndex={-1}
        >
          <h2 id="bell-title" className="bell-title">
            Notifications
          </h2>
          {error && (
            <p className="form-error bell-error" role="alert">
              {error}
            </p>
          )}
          {!state.loaded ? (
            !error && <p className="muted bell-empty">Loading…</p>
          ) : state.items.length === 0 ? (
            <p className="muted bell-empty">
              Nothing yet. When someone you follow goes live, or a space you set a reminder for
              starts, you'll hear about it here.
            </p>
          ) : (
            <ul className="bell-list">
              {state.items.map((item) => (
                <BellItem
                  key={item.id}
                  item={item}
                  unread={!item.read || fresh.has(item.id)}
                  onFollow={() => setOpen(false)}
                />
              ))}
            </ul>
          )}
          {state.hasMore && (
            <button
              type="button"
              className="button button-small bell-more"
              disabled={loadingMore}
              onClick={() => void loadMore()}
            >
              {loadingMore ? "Loading…" : "Load more"}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function BellItem({
  item,
  unread,
  onFollow,
}: {
  item: NotificationView;
  unread: boolean;
  onFollow: () => void;
}) {
  const { text, href } = notificationText(item);
  const live = item.space?.state === "live";
  const body = (
    <>
      {item.actor ? (
        <Avatar user={item.actor} size="sm" />
      ) : (
        <span className="bell-glyph" aria-hidden="true">
          <BellIcon size={16} />
        </span>
      )}
      <span className="bell-text">
        {unread && <span className="visually-hidden">New: </span>}
        {text}
        <span className="bell-meta">
          {live && <span className="bell-live">Live</span>}
          <time dateTime={item.created_at}>{timeAgo(item.created_at)}</time>
        </span>
      </span>
    </>
  );
  return (
    <li className={`bell-item${unread ? " bell-item-unread" : ""}`}>
      {href ? (
        <Link href={href} className="bell-link" onClick={onFollow}>
          {body}
        </Link>
      ) : (
        <div className="bell-link">{body}</div>
      )}
    </li>
  );
}
