import { describe, expect, it } from "vitest";
import type { NotificationView } from "../api/types";
import { badgeText, bellLabel, notificationText, timeAgo } from "./text";

const ana = { id: 7, handle: "ana", display_name: "Ana Host", verified: true };
const space = {
  id: "sp 1",
  title: "Morning show",
  state: "scheduled" as const,
  scheduled_for: "2026-05-05T16:30:00Z",
};

function n(kind: string, extra: Partial<NotificationView> = {}): NotificationView {
  return {
    id: 1,
    kind,
    created_at: "2026-05-01T18:00:00Z",
    read: false,
    space,
    actor: null,
    count: null,
    ...extra,
  };
}

const when = (iso: string) => `<${iso}>`;
const say = (item: NotificationView) => notificationText(item, { when }).text;

describe("notificationText", () => {
  it("links to the space", () => {
    expect(notificationText(n("host_live")).href).toBe("/spaces/sp%201");
    expect(notificationText(n("host_live", { space: null })).href).toBeNull();
  });

  it("says each kind", () => {
    expect(say(n("space_started"))).toBe("“Morning show” is live now — you set a reminder for it.");
    expect(say(n("space_cancelled"))).toBe(
      "“Morning show”, which you set a reminder for, was cancelled.",
    );
    expect(say(n("space_rescheduled"))).toBe("“Morning show” moved to <2026-05-05T16:30:00Z>.");
    expect(say(n("host_live", { actor: ana }))).toBe("Ana Host is live: “Morning show”");
    expect(say(n("invited_to_speak", { actor: ana }))).toBe(
      "Ana Host invited you to speak in “Morning show”.",
    );
    expect(say(n("ticket_bought"))).toBe("You're in: your ticket to “Morning show” is confirmed.");
    expect(say(n("ticket_refunded"))).toBe("Your ticket to “Morning show” was refunded.");
    expect(say(n("ticket_space_cancelled"))).toBe(
      "“Morning show” was cancelled. Your ticket has been refunded.",
    );
    expect(say(n("tickets_sold", { count: 12 }))).toBe("12 tickets sold for “Morning show”.");
  });

  it("counts one ticket, and many with separators", () => {
    expect(say(n("tickets_sold", { count: 1 }))).toBe("1 ticket sold for “Morning show”.");
    expect(say(n("tickets_sold", { count: 1500 }))).toBe("1,500 tickets sold for “Morning show”.");
    expect(say(n("tickets_sold", { count: null }))).toBe("New ticket sales for “Morning show”.");
  });

  it("does without an actor, a space or a new time", () => {
    expect(say(n("host_live"))).toBe("Someone you follow is live: “Morning show”");
    expect(say(n("invited_to_speak"))).toBe("You're invited to speak in “Morning show”.");
    expect(say(n("host_live", { actor: { ...ana, display_name: "" } }))).toBe(
      "@ana is live: “Morning show”",
    );
    expect(say(n("ticket_refunded", { space: null }))).toBe("Your ticket to a space was refunded.");
    expect(say(n("space_rescheduled", { space: { ...space, scheduled_for: null } }))).toBe(
      "“Morning show” was rescheduled.",
    );
  });

  it("shows a plain line for a kind it does not know, never failing", () => {
    expect(say(n("space_exploded"))).toBe("There's news about “Morning show”.");
    expect(say(n("", { space: null }))).toBe("You have a new notification.");
  });

  it("writes the new time in the reader's words by default", () => {
    const text = notificationText(n("space_rescheduled")).text;
    expect(text.startsWith("“Morning show” moved to ")).toBe(true);
    expect(text).not.toContain("2026-05-05T");
  });
});

describe("timeAgo", () => {
  const now = new Date("2026-05-10T12:00:00Z");
  it("is short", () => {
    expect(timeAgo("2026-05-10T11:59:30Z", now)).toBe("now");
    expect(timeAgo("2026-05-10T11:55:00Z", now)).toBe("5m");
    expect(timeAgo("2026-05-10T09:00:00Z", now)).toBe("3h");
    expect(timeAgo("2026-05-08T12:00:00Z", now)).toBe("2d");
    expect(timeAgo("2026-05-10T12:00:05Z", now)).toBe("now"); // a clock slightly ahead
    expect(timeAgo("not a date", now)).toBe("");
  });

  it("gives the date after a week", () => {
    expect(timeAgo("2026-04-01T12:00:00Z", now)).toMatch(/Apr|4/);
  });
});

describe("the bell's label and badge", () => {
  it("names the unread count", () => {
    expect(bellLabel(0)).toBe("Notifications");
    expect(bellLabel(3)).toBe("Notifications, 3 unread");
    expect(badgeText(3)).toBe("3");
    expect(badgeText(150)).toBe("99+");
  });
});
