import { describe, expect, it } from "vitest";
import { mayActOn } from "./permissions";

describe("mayActOn", () => {
  it("lets the host do everything to speakers and co-hosts", () => {
    expect(mayActOn("host", "mute", "speaker")).toBe(true);
    expect(mayActOn("host", "mute", "cohost")).toBe(true);
    expect(mayActOn("host", "move_to_audience", "cohost")).toBe(true);
    expect(mayActOn("host", "appoint_cohost", "speaker")).toBe(true);
    expect(mayActOn("host", "dismiss_cohost", "cohost")).toBe(true);
    expect(mayActOn("host", "remove", "listener")).toBe(true);
  });

  it("lets a co-host moderate speakers and listeners but not co-hosts or the host", () => {
    expect(mayActOn("cohost", "mute", "speaker")).toBe(true);
    expect(mayActOn("cohost", "approve", "listener")).toBe(true);
    expect(mayActOn("cohost", "invite", "listener")).toBe(true);
    expect(mayActOn("cohost", "mute", "cohost")).toBe(false);
    expect(mayActOn("cohost", "remove", "host")).toBe(false);
    expect(mayActOn("cohost", "appoint_cohost", "speaker")).toBe(false);
  });

  it("gives speakers, listeners and strangers nothing", () => {
    expect(mayActOn("speaker", "mute", "speaker")).toBe(false);
    expect(mayActOn("speaker", "remove", "listener")).toBe(false);
    expect(mayActOn("listener", "approve", "listener")).toBe(false);
    expect(mayActOn(null, "remove", "listener")).toBe(false);
  });

  it("refuses meaningless pairs", () => {
    expect(mayActOn("host", "mute", "listener")).toBe(false);
    expect(mayActOn("host", "approve", "speaker")).toBe(false);
    expect(mayActOn("host", "dismiss_cohost", "speaker")).toBe(false);
  });
});
