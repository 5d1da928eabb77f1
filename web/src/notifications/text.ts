// What the bell says for each kind of notification, and when it happened.
import type { NotificationView } from "../api/types";
import { formatWhen } from "../lib/time";

export interface NotificationText {
  /** One sentence, as the bell shows it. */
  text: string;
  /** The space it is about, or null when there is none to go to. */
  href: string | null;
}

export interface TextOptions {
  /** A time as the reader would say it ("Tue, May 5 at 18:30"); local time by default. */
  when?: (iso: string) => string;
}

/** "Today at 18:30" reads "today at 18:30" in the middle of a sentence. */
function defaultWhen(iso: string): string {
  return formatWhen(iso).replace(/^Today\b/, "today");
}

/** The text and link of one notification; an unknown kind gets a plain line, never a crash. */
export function notificationText(n: NotificationView, options: TextOptions = {}): NotificationText {
  const when = options.when ?? defaultWhen;
  const title = n.space ? `“${n.space.title}”` : "a space";
  const actor = n.actor?.display_name || (n.actor ? `@${n.actor.handle}` : null);
  const href = n.space ? `/spaces/${encodeURIComponent(n.space.id)}` : null;
  return { text: sentence(n, title, actor, when), href };
}

function sentence(
  n: NotificationView,
  title: string,
  actor: string | null,
  when: (iso: string) => string,
): string {
  switch (n.kind) {
    case "space_started":
      return `${title} is live now — you set a reminder for it.`;
    case "space_cancelled":
      return `${title}, which you set a reminder for, was cancelled.`;
    case "space_rescheduled":
      return n.space?.scheduled_for
        ? `${title} moved to ${when(n.space.scheduled_for)}.`
        : `${title} was rescheduled.`;
    case "host_live":
      return actor ? `${actor} is live: ${title}` : `Someone you follow is live: ${title}`;
    case "invited_to_speak":
      return actor
        ? `${actor} invited you to speak in ${title}.`
        : `You're invited to speak in ${title}.`;
    case "ticket_bought":
      return `You're in: your ticket to ${title} is confirmed.`;
    case "ticket_refunded":
      return `Your ticket to ${title} was refunded.`;
    case "ticket_space_cancelled":
      return `${title} was cancelled. Your ticket has been refunded.`;
    case "tickets_sold": {
      if (n.count == null || n.count < 1) return `New ticket sales for ${title}.`;
      const count = n.count.toLocaleString("en-US");
      return `${count} ${n.count === 1 ? "ticket" : "tickets"} sold for ${title}.`;
    }
    default:
      return n.space ? `There's news about ${title}.` : "You have a new notification.";
  }
}

/** How long ago, in the bell's short form: "now", "5m", "3h", "2d", then the date. */
export function timeAgo(iso: string, now: Date = new Date()): string {
  const then = new Date(iso);
  const seconds = Math.floor((now.getTime() - then.getTime()) / 1000);
  if (Number.isNaN(seconds)) return "";
  if (seconds < 60) return "now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 7) return `${days}d`;
  const sameYear = then.getFullYear() === now.getFullYear();
  return then.toLocaleDateString([], {
    month: "short",
    day: "numeric",
    ...(sameYear ? {} : { year: "numeric" }),
  });
}

/** The bell button's accessible name. */
export function bellLabel(unread: number): string {
  return unread > 0 ? `Notifications, ${unread} unread` : "Notifications";
}

/** The badge: the count, or "99+". */
export function badgeText(unread: number): string {
  return unread > 99 ? "99+" : String(unread);
}
