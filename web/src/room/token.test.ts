import { describe, expect, it } from "vitest";
import { refreshDelayMs, withToken } from "./token";

describe("withToken", () => {
  it("replaces the token and keeps the other parameters", () => {
    expect(withToken("/api/spaces/a/hls/live.m3u8?token=old&_HLS_msn=4&_HLS_part=1", "new")).toBe(
      "/api/spaces/a/hls/live.m3u8?token=new&_HLS_msn=4&_HLS_part=1",
    );
    expect(withToken("http://h:1/api/spaces/a/hls/part3.1.m4s?token=old", "n")).toBe(
      "http://h:1/api/spaces/a/hls/part3.1.m4s?token=n",
    );
  });

  it("adds a token where there was none", () => {
    expect(withToken("init.mp4", "t.k-1")).toBe("init.mp4?token=t.k-1");
    expect(withToken("seg1.m4s#x", "t")).toBe("seg1.m4s?token=t#x");
  });
});

describe("refreshDelayMs", () => {
  it("refreshes a minute early for long tickets", () => {
    expect(refreshDelayMs(21600)).toBe((21600 - 60) * 1000);
  });

  it("stays before expiry for short ones", () => {
    expect(refreshDelayMs(60)).toBe(54_000);
    expect(refreshDelayMs(100)).toBe(90_000);
    expect(refreshDelayMs(100)).toBeLessThan(100_000);
  });

  it("never overflows setTimeout", () => {
    expect(refreshDelayMs(10 ** 9)).toBe(2 ** 31 - 1);
  });
});
