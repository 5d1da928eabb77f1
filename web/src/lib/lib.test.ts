import { describe, expect, it } from "vitest";
import { handsRaised, listening } from "./audience";
import { avatarColour, hueOf, initials } from "./avatar";
import { localInputToIso, parseTopics } from "./time";

describe("avatar", () => {
  it("takes first and last initials", () => {
    expect(initials("Ada Lovelace", "ada")).toBe("AL");
    expect(initials("Grace Brewster Hopper", "grace")).toBe("GH");
    expect(initials("cher", "cher")).toBe("C");
    expect(initials("  ", "zed")).toBe("Z");
    expect(initials("Émile 😀", "emile")).toBe("É😀");
  });

  it("derives a stable colour from the handle, ignoring case", () => {
    expect(hueOf("Ada_L")).toBe(hueOf("ada_l"));
    expect(avatarColour("ada")).toMatch(/^hsl\(\d+ 55% 38%\)$/);
    expect(hueOf("ada")).not.toBe(hueOf("bob"));
  });
});

describe("time", () => {
  it("adds the timezone offset to a datetime-local value", () => {
    expect(localInputToIso("2026-05-01T18:30", 120)).toBe("2026-05-01T18:30:00+02:00");
    expect(localInputToIso("2026-05-01T18:30", -330)).toBe("2026-05-01T18:30:00-05:30");
    expect(localInputToIso("2026-05-01T18:30", 0)).toBe("2026-05-01T18:30:00+00:00");
    expect(localInputToIso("tomorrow")).toBeNull();
  });

  it("names the same instant as the local reading", () => {
    const iso = localInputToIso("2026-05-01T18:30");
    expect(iso).not.toBeNull();
    expect(new Date(iso!).getTime()).toBe(new Date(2026, 4, 1, 18, 30).getTime());
  });

  it("splits comma-separated topics", () => {
    expect(parseTopics(" news, music ,, tech ")).toEqual(["news", "music", "tech"]);
    expect(parseTopics("")).toEqual([]);
  });
});

describe("audience", () => {
  it("says the listeners and the hands raised among them, one or many", () => {
    expect(listening(1)).toBe("1 person listening");
    expect(listening(12)).toBe("12 people listening");
    expect(handsRaised(1)).toBe("1 hand raised");
    expect(handsRaised(3)).toBe("3 hands raised");
  });
});
