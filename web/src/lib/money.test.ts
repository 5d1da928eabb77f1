import { describe, expect, it } from "vitest";
import { formatUsd, groupThousands, parseDollars, parseTicketPrice } from "./money";
import { ticket } from "../room/fixtures";
import {
  buyLabel,
  parseTicketCap,
  purchaseOutcome,
  ticketBadgeText,
  ticketsLeftText,
} from "./tickets";

describe("formatUsd", () => {
  it("formats cents like the server's format_usd", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(5)).toBe("$0.05");
    expect(formatUsd(500)).toBe("$5.00");
    expect(formatUsd(1250)).toBe("$12.50");
    expect(formatUsd(123450)).toBe("$1,234.50");
    expect(formatUsd(5_000_000)).toBe("$50,000.00");
    expect(formatUsd(123_456_789)).toBe("$1,234,567.89");
    expect(formatUsd(-1050)).toBe("-$10.50");
  });

  it("groups thousands", () => {
    expect(groupThousands(999)).toBe("999");
    expect(groupThousands(1000)).toBe("1,000");
    expect(groupThousands(100000)).toBe("100,000");
  });
});

describe("parseDollars", () => {
  it("reads dollars, with or without cents", () => {
    expect(parseDollars("5")).toEqual({ ok: true, value: 500 });
    expect(parseDollars("12.50")).toEqual({ ok: true, value: 1250 });
    expect(parseDollars("12.5")).toEqual({ ok: true, value: 1250 });
    expect(parseDollars(" $7.05 ")).toEqual({ ok: true, value: 705 });
    expect(parseDollars("1,000")).toEqual({ ok: true, value: 100_000 });
    expect(parseDollars("0.99")).toEqual({ ok: true, value: 99 });
  });

  it("refuses what is not an amount of dollars and cents", () => {
    for (const bad of ["", "  ", "abc", "-5", "5.", "5.123", "1,00", "5,5", "1e3", "$", "5 dollars"]) {
      expect(parseDollars(bad).ok, bad).toBe(false);
    }
  });
});

describe("parseTicketPrice", () => {
  it("accepts $1.00 to $999.00", () => {
    expect(parseTicketPrice("1")).toEqual({ ok: true, value: 100 });
    expect(parseTicketPrice("999")).toEqual({ ok: true, value: 99_900 });
    expect(parseTicketPrice("999.00")).toEqual({ ok: true, value: 99_900 });
  });

  it("says the range otherwise", () => {
    for (const bad of ["0.99", "0", "999.01", "1000"]) {
      expect(parseTicketPrice(bad)).toEqual({ ok: false, message: "A ticket costs $1.00 to $999.00." });
    }
    expect(parseTicketPrice("five")).toMatchObject({ ok: false });
  });
});

describe("ticket words", () => {
  it("counts tickets left", () => {
    expect(ticketsLeftText(0)).toBe("Sold out");
    expect(ticketsLeftText(1)).toBe("1 ticket left");
    expect(ticketsLeftText(12)).toBe("12 tickets left");
    expect(ticketsLeftText(1200)).toBe("1,200 tickets left");
  });

  it("makes the card badge and the buy button's name", () => {
    expect(ticketBadgeText(ticket({ price_cents: 500, tickets_left: 3 }))).toBe("Ticketed · $5.00 · 3 left");
    expect(ticketBadgeText(ticket({ price_cents: 1250, tickets_left: 0 }))).toBe("Ticketed · $12.50 · Sold out");
    expect(buyLabel(ticket({ price_cents: 500 }))).toBe("Buy ticket · $5.00");
  });

  it("reads a ticket cap", () => {
    expect(parseTicketCap("100")).toEqual({ ok: true, value: 100 });
    expect(parseTicketCap("100,000")).toEqual({ ok: true, value: 100_000 });
    for (const bad of ["", "0", "100001", "2.5", "-3", "ten"]) {
      expect(parseTicketCap(bad).ok, bad).toBe(false);
    }
  });

  it("tells each purchase outcome, and which ones are settled", () => {
    expect(purchaseOutcome("paid")).toEqual({
      text: "Payment received — you have a ticket",
      tone: "ok",
      settled: true,
    });
    expect(purchaseOutcome("declined").text).toBe("Payment declined");
    expect(purchaseOutcome("expired").text).toBe("The checkout expired; your seat was released");
    expect(purchaseOutcome("held")).toMatchObject({
      text: "Waiting for the payment to be confirmed…",
      settled: false,
    });
    expect(purchaseOutcome("refund_pending").settled).toBe(true);
    expect(purchaseOutcome("refunded").settled).toBe(true);
  });
});
