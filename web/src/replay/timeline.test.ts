import { describe, expect, it } from "vitest";
import { formatClock, reactionsPassed, shareUrl, speakersAt, startFrom } from "./timeline";

const spoken = [
  { user_id: 1, start: 0, end: 4 },
  { user_id: 2, start: 3, end: 8 },
  { user_id: 1, start: 10, end: 12 },
];

describe("replay timeline", () => {
  it("rings whoever's interval covers the playhead", () => {
    expect([...speakersAt(spoken, 1)]).toEqual([1]);
    expect([...speakersAt(spoken, 3.5)].sort()).toEqual([1, 2]);
    expect([...speakersAt(spoken, 4)]).toEqual([2]);
    expect([...speakersAt(spoken, 9)]).toEqual([]);
  });

  it("floats the reactions the playhead passes, not those a seek skips", () => {
    const reactions = [
      { emoji: "👏", user_id: 3, at: 5 },
      { emoji: "🔥", user_id: 3, at: 5.2 },
    ];
    expect(reactionsPassed(reactions, 4.8, 5.1).map((r) => r.emoji)).toEqual(["👏"]);
    expect(reactionsPassed(reactions, 5, 5.2).map((r) => r.emoji)).toEqual(["🔥"]);
    expect(reactionsPassed(reactions, 0, 6)).toEqual([]); // a jump
    expect(reactionsPassed(reactions, 6, 4)).toEqual([]); // backwards
  });

  it("reads ?t= and writes share links", () => {
    expect(startFrom("?t=75", 100)).toBe(75);
    expect(startFrom("?t=12.5", 100)).toBe(12.5);
    expect(startFrom("?t=500", 100)).toBe(0);
    expect(startFrom("?t=-3", 100)).toBe(0);
    expect(startFrom("?t=abc", 100)).toBe(0);
    expect(startFrom("", 100)).toBe(0);
    expect(shareUrl("https://salon.example", "ab c", 75.9)).toBe("https://salon.example/spaces/ab%20c?t=75");
    expect(formatClock(75.4)).toBe("1:15");
    expect(formatClock(3725)).toBe("1:02:05");
  });
});
