import { describe, expect, it } from "vitest";
import { BOUNDARY_EPSILON_S, pastTheBoundary } from "./segmentBoundary";

describe("pastTheBoundary", () => {
  it("counts a buffer ending a hair short of the last segment's end as past it", () => {
    const end = 12.48;
    expect(pastTheBoundary(12.479999999999999, end, true)).toBe(end + BOUNDARY_EPSILON_S);
    expect(pastTheBoundary(end, end, true)).toBe(end + BOUNDARY_EPSILON_S);
    expect(pastTheBoundary(12.480000000000002, end, true)).toBe(end + BOUNDARY_EPSILON_S);
  });

  it("leaves every other buffer end alone", () => {
    expect(pastTheBoundary(12.288, 12.48, true)).toBe(12.288); // a part short of the end
    expect(pastTheBoundary(12.672, 12.48, true)).toBe(12.672); // already past it
    expect(pastTheBoundary(12.48, 12.48, false)).toBe(12.48); // no open segment to move to
    expect(pastTheBoundary(null, 12.48, true)).toBeNull();
  });
});
