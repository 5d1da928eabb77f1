// E-mail notifications in Settings: the kinds in plain words, and what to say about the address.

import type { EmailSettings } from "../api/types";

/** Every kind the server may e-mail (src/salon/domain/notifications.py Kind), in the order
 * Settings lists them, in the words of a checkbox ("E-mail me when …"). */
export const EMAIL_KINDS: readonly { kind: string; label: string }[] = [
  { kind: "space_started", label: "a space I set a reminder on starts" },
  { kind: "space_cancelled", label: "a space I set a reminder on is cancelled" },
  { kind: "space_rescheduled", label: "a space I set a reminder on moves to another time" },
  { kind: "host_live", label: "someone I follow goes live" },
  { kind: "invited_to_speak", label: "I am invited to speak" },
  { kind: "ticket_bought", label: "I buy a ticket" },
  { kind: "ticket_refunded", label: "a ticket of mine is refunded" },
  { kind: "ticket_space_cancelled", label: "a space I have a ticket to is cancelled" },
  { kind: "tickets_sold", label: "people buy tickets to my space" },
];

/** The kinds with one turned on or off (sorted, no repeats, as the server keeps them). */
export function withKind(kinds: readonly string[], kind: string, on: boolean): string[] {
  const chosen = new Set(kinds);
  if (on) chosen.add(kind);
  else chosen.delete(kind);
  return [...chosen].sort();
}

/** Whether the page was opened from the confirmation link (/settings?email=confirmed). */
export function openedFromConfirmation(search: string): boolean {
  return new URLSearchParams(search).get("email") === "confirmed";
}

export type EmailStatus =
  | { kind: "off" } // the instance sends no e-mail
  | { kind: "none" } // no address yet
  | { kind: "unconfirmed"; email: string } // check your inbox
  | { kind: "confirmed"; email: string; justNow: boolean };

export function emailStatus(settings: EmailSettings, fromLink: boolean): EmailStatus {
  if (!settings.enabled) return { kind: "off" };
  if (!settings.email) return { kind: "none" };
  if (!settings.confirmed) return { kind: "unconfirmed", email: settings.email };
  return { kind: "confirmed", email: settings.email, justNow: fromLink };
}

/** One line about the address, for a status region. */
export function emailStatusText(status: EmailStatus): string {
  switch (status.kind) {
    case "off":
      return "This Salon does not send e-mail.";
    case "none":
      return "No address: nothing is e-mailed.";
    case "unconfirmed":
      return `Check your inbox: open the link we sent to ${status.email} to start getting e-mails.`;
    case "confirmed":
      return status.justNow
        ? `Confirmed: e-mails go to ${status.email}.`
        : `E-mails go to ${status.email}.`;
  }
}

/** A quick look before asking the server (which checks for real): one @, something each side. */
export function plausibleEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(value.trim());
}
