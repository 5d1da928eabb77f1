import { describe, expect, it } from "vitest";
import { parseEvent } from "./useEventStream";

describe("parseEvent", () => {
  it("accepts the server's event types", () => {
    const event = parseEvent(JSON.stringify({ type: "speaking", space_id: "a", at: "x", user_ids: [1] }));
    expect(event).toEqual({ type: "speaking", space_id: "a", at: "x", user_ids: [1] });
  });

  it("accepts tickets_left", () => {
    const event = parseEvent(JSON.stringify({ type: "tickets_left", space_id: "a", at: "x", tickets_left: 2 }));
    expect(event).toEqual({ type: "tickets_left", space_id: "a", at: "x", tickets_left: 2 });
  });

  it("accepts reaction_burst", () => {
    const burst = { type: "reaction_burst", space_id: "a", at: "x", window_seconds: 1, counts: { "👏": 3 } };
    expect(parseEvent(JSON.stringify(burst))).toEqual(burst);
  });

  it("drops unknown types, malformed JSON and binary frames", () => {
    expect(parseEvent(JSON.stringify({ type: "ticket_sold" }))).toBeNull();
    expect(parseEvent("{oops")).toBeNull();
    expect(parseEvent(JSON.stringify(null))).toBeNull();
    expect(parseEvent(new ArrayBuffer(2))).toBeNull();
  });
});
