import { describe, expect, it } from "vitest";
import { countText, textLength, tooLong } from "./text";

describe("textLength counts as the server does", () => {
  it("counts code points, not UTF-16 units", () => {
    expect("😀".length).toBe(2);
    expect(textLength("😀")).toBe(1);
    // A family emoji: three people and two joiners, five code points.
    expect(textLength("👨\u200d👩\u200d👧")).toBe(5);
  });

  it("strips surrounding whitespace and normalises first", () => {
    expect(textLength("  ada \n")).toBe(3);
    expect(textLength("Cafe\u0301")).toBe(4);
  });

  it("says when text is too long, after stripping", () => {
    expect(tooLong("b".repeat(160) + "   ", 160, "A bio")).toBeNull();
    expect(tooLong("b".repeat(161), 160, "A bio")).toBe("A bio is at most 160 characters.");
    expect(tooLong("😀".repeat(50), 50, "A display name")).toBeNull();
  });
});

describe("countText: a live counter that is never a cap", () => {
  it("counts past the limit and says so", () => {
    expect(countText("a".repeat(16), 15)).toEqual({ text: "16/15", over: true });
    expect(countText(" " + "😀".repeat(70) + " ", 70)).toEqual({ text: "70/70", over: false });
  });
});
