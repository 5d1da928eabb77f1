import { describe, expect, it } from "vitest";
import {
  EMAIL_KINDS,
  emailStatus,
  emailStatusText,
  openedFromConfirmation,
  plausibleEmail,
  withKind,
} from "./deliverySettings";

const base = { enabled: true, email: null, confirmed: false, kinds: ["space_started"] };

describe("e-mail settings", () => {
  it("says what the address is doing, in each state", () => {
    expect(emailStatus({ ...base, enabled: false }, false)).toEqual({ kind: "off" });
    expect(emailStatusText(emailStatus(base, false))).toMatch(/No address/);
    const unconfirmed = emailStatus({ ...base, email: "a@example.org" }, false);
    expect(unconfirmed.kind).toBe("unconfirmed");
    expect(emailStatusText(unconfirmed)).toBe(
      "Check your inbox: open the link we sent to a@example.org to start getting e-mails.",
    );
    const confirmed = { ...base, email: "a@example.org", confirmed: true };
    expect(emailStatusText(emailStatus(confirmed, true))).toBe(
      "Confirmed: e-mails go to a@example.org.",
    );
    expect(emailStatusText(emailStatus(confirmed, false))).toBe("E-mails go to a@example.org.");
    // The link's ?email=confirmed never claims an address the server has not confirmed.
    expect(emailStatus({ ...base, email: "a@example.org" }, true).kind).toBe("unconfirmed");
  });

  it("reads the confirmation link's query", () => {
    expect(openedFromConfirmation("?email=confirmed")).toBe(true);
    expect(openedFromConfirmation("?x=1&email=confirmed")).toBe(true);
    expect(openedFromConfirmation("")).toBe(false);
    expect(openedFromConfirmation("?email=other")).toBe(false);
  });

  it("turns kinds on and off, sorted and without repeats", () => {
    expect(withKind(["space_started"], "host_live", true)).toEqual(["host_live", "space_started"]);
    expect(withKind(["host_live", "space_started"], "host_live", true)).toEqual([
      "host_live",
      "space_started",
    ]);
    expect(withKind(["host_live", "space_started"], "host_live", false)).toEqual([
      "space_started",
    ]);
  });

  it("names every kind the server has, once", () => {
    const kinds = EMAIL_KINDS.map((k) => k.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect([...kinds].sort()).toEqual([
      "host_live",
      "invited_to_speak",
      "space_cancelled",
      "space_rescheduled",
      "space_started",
      "ticket_bought",
      "ticket_refunded",
      "ticket_space_cancelled",
      "tickets_sold",
    ]);
  });

  it("checks an address loosely before the server does", () => {
    expect(plausibleEmail(" a@example.org ")).toBe(true);
    expect(plausibleEmail("a@b")).toBe(true);
    expect(plausibleEmail("not an address")).toBe(false);
    expect(plausibleEmail("a@@b")).toBe(false);
    expect(plausibleEmail("")).toBe(false);
  });
});
