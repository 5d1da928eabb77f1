// Words for tickets and purchases, from the server's numbers and states. Pure.
import type { PurchaseState, TicketInfo } from "../api/types";
import { formatUsd, groupThousands, type Parsed } from "./money";

/** How many tickets a space may sell, as the server checks it (CAP_MIN, CAP_MAX). */
export const CAP_MIN = 1;
export const CAP_MAX = 100_000;

/** The platform fee (src/salon/domain/tickets.py: FEE_BELOW_BPS, FEE_THRESHOLD_CENTS, FEE_ABOVE_BPS). */
export const FEE_RULE = "3% until $50,000 of lifetime earnings, then 20%";

/** 0 → "Sold out", 1 → "1 ticket left", 1200 → "1,200 tickets left". */
export function ticketsLeftText(left: number): string {
  if (left <= 0) return "Sold out";
  return left === 1 ? "1 ticket left" : `${groupThousands(left)} tickets left`;
}

/** The small badge on a space card: "Ticketed · $5.00 · 3 left" (or "· Sold out"). */
export function ticketBadgeText(ticket: TicketInfo): string {
  const left = ticket.tickets_left > 0 ? `${groupThousands(ticket.tickets_left)} left` : "Sold out";
  return `Ticketed · ${formatUsd(ticket.price_cents)} · ${left}`;
}

/** "Buy ticket · $5.00": the buy button's text and accessible name. */
export function buyLabel(ticket: TicketInfo): string {
  return `Buy ticket · ${formatUsd(ticket.price_cents)}`;
}

/** How many tickets are available, typed by the host: a whole number from 1 to 100,000. */
export function parseTicketCap(text: string): Parsed {
  const trimmed = text.trim().replace(/,/g, "");
  const message = `Tickets available is a whole number from ${CAP_MIN} to ${groupThousands(CAP_MAX)}.`;
  if (!/^\d+$/.test(trimmed)) return { ok: false, message };
  const value = Number(trimmed);
  if (value < CAP_MIN || value > CAP_MAX) return { ok: false, message };
  return { ok: true, value };
}

export type OutcomeTone = "ok" | "wait" | "warn";

export interface PurchaseOutcome {
  text: string;
  tone: OutcomeTone;
  /** The purchase will not change by itself any more (no need to ask again). */
  settled: boolean;
}

/** What coming back from the checkout means, for one purchase state. */
export function purchaseOutcome(state: PurchaseState): PurchaseOutcome {
  switch (state) {
    case "paid":
      return { text: "Payment received — you have a ticket", tone: "ok", settled: true };
    case "held":
      return { text: "Waiting for the payment to be confirmed…", tone: "wait", settled: false };
    case "declined":
      return { text: "Payment declined", tone: "warn", settled: true };
    case "expired":
      return { text: "The checkout expired; your seat was released", tone: "warn", settled: true };
    case "refund_pending":
      return { text: "Your payment is being refunded", tone: "warn", settled: true };
    case "refunded":
      return { text: "Your payment was refunded", tone: "warn", settled: true };
  }
}
