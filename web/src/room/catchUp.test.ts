import { describe, expect, it } from "vitest";
import { MAX_CATCH_UP_RATE, catchUpRate } from "./catchUp";

describe("catchUpRate", () => {
  it("plays at 1x near the target", () => {
    expect(catchUpRate(1, 0.75, 0.7, 0.6)).toBe(1);
  });

  it("speeds up when behind, more when further behind, capped", () => {
    expect(catchUpRate(1, 0.9, 0.7, 0.6)).toBe(1.05);
    expect(catchUpRate(1, 1.1, 0.7, 0.9)).toBe(1.1);
    expect(catchUpRate(1, 2.5, 0.7, 2.0)).toBe(MAX_CATCH_UP_RATE);
  });

  it("keeps catching up until close to the target (hysteresis)", () => {
    expect(catchUpRate(1.05, 0.8, 0.7, 0.5)).toBe(1.05);
    expect(catchUpRate(1.05, 0.72, 0.7, 0.5)).toBe(1);
  });

  it("never speeds up on a nearly empty buffer or without a measurement", () => {
    expect(catchUpRate(1.1, 1.5, 0.7, 0.2)).toBe(1);
    expect(catchUpRate(1, null, 0.7, 1)).toBe(1);
    expect(catchUpRate(1, 1, null, 1)).toBe(1);
  });
});
