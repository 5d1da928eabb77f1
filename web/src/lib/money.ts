// Money is USD cents everywhere the server speaks (src/salon/domain/tickets.py); people type and
// read dollars. Pure, so it is tested without a browser.

/** A ticket's price range, as the server checks it (PRICE_MIN_CENTS, PRICE_MAX_CENTS). */
export const PRICE_MIN_CENTS = 100;
export const PRICE_MAX_CENTS = 99_900;

/** 1234567 → "1,234,567". */
export function groupThousands(n: number): string {
  return String(Math.trunc(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Cents as USD, the server's way (format_usd): 123450 → "$1,234.50", -500 → "-$5.00". */
export function formatUsd(cents: number): string {
  const whole = Math.trunc(cents);
  const sign = whole < 0 ? "-" : "";
  const abs = Math.abs(whole);
  const part = String(abs % 100).padStart(2, "0");
  return `${sign}$${groupThousands(Math.floor(abs / 100))}.${part}`;
}

export type Parsed = { ok: true; value: number } | { ok: false; message: string };

// "5", "12.5", "12.50", "$12.50", "1,000.00", " 7 ": dollars, optionally cents (one or two digits).
const DOLLARS = /^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/;

/** What a person typed, in dollars, as cents; no range check. */
export function parseDollars(text: string): Parsed {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, message: "Enter a price in dollars, e.g. 5 or 12.50." };
  const match = DOLLARS.exec(trimmed);
  if (!match) {
    return { ok: false, message: "Enter the price in dollars and cents, e.g. 5 or 12.50." };
  }
  const whole = Number(match[1]!.replace(/,/g, ""));
  const cents = Number((match[2] ?? "0").padEnd(2, "0"));
  const value = whole * 100 + cents;
  if (!Number.isSafeInteger(value)) return { ok: false, message: "That price is far too large." };
  return { ok: true, value };
}

/** A ticket price typed in dollars, as cents within $1.00 to $999.00. */
export function parseTicketPrice(text: string): Parsed {
  const parsed = parseDollars(text);
  if (!parsed.ok) return parsed;
  if (parsed.value < PRICE_MIN_CENTS || parsed.value > PRICE_MAX_CENTS) {
    return {
      ok: false,
      message: `A ticket costs ${formatUsd(PRICE_MIN_CENTS)} to ${formatUsd(PRICE_MAX_CENTS)}.`,
    };
  }
  return parsed;
}
