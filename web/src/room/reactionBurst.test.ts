import { describe, expect, it } from "vitest";
import { burstFloats, burstShares } from "./reactionBurst";

const total = (shares: [string, number][]) => shares.reduce((sum, [, n]) => sum + n, 0);

describe("burstShares", () => {
  it("floats every reaction of a small burst", () => {
    expect(burstShares({ "👏": 3, "💜": 1 }, 30)).toEqual([
      ["👏", 3],
      ["💜", 1],
    ]);
  });

  it("shares the cap in proportion to the counts", () => {
    const shares = burstShares({ "👏": 600, "😂": 300, "💯": 100 }, 10);
    expect(total(shares)).toBe(10);
    expect(Object.fromEntries(shares)).toEqual({ "👏": 6, "😂": 3, "💯": 1 });
  });

  it("keeps one of every emoji sent, however rare", () => {
    const shares = Object.fromEntries(burstShares({ "👏": 10_000, "💜": 1 }, 30));
    expect(shares).toEqual({ "👏": 29, "💜": 1 });
  });

  it("hands out the rounding by largest remainder, never above the cap", () => {
    const shares = burstShares({ "👏": 5, "😂": 5, "💯": 5, "👋": 5 }, 10);
    expect(total(shares)).toBe(10);
    for (const [, n] of shares) expect(n === 2 || n === 3).toBe(true);
  });

  it("ignores zero, negative and fractional counts", () => {
    expect(burstShares({ "👏": 0, "😂": -2, "💯": 1.7 }, 30)).toEqual([["💯", 1]]);
    expect(burstShares({}, 30)).toEqual([]);
  });
});

describe("burstFloats", () => {
  it("spreads the floats evenly over the window, the first at once", () => {
    const floats = burstFloats({ "👏": 4 }, 30);
    expect(floats.map((f) => f.offset)).toEqual([0, 0.25, 0.5, 0.75]);
  });

  it("interleaves the emoji rather than sending them in blocks", () => {
    const floats = burstFloats({ "👏": 4, "💜": 1 }, 30);
    expect(floats.map((f) => f.emoji).join("")).toBe("👏👏💜👏👏");
  });

  it("floats at most the cap", () => {
    expect(burstFloats({ "👏": 5000, "😂": 5000 }, 30)).toHaveLength(30);
  });
});
