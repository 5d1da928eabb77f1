import { describe, expect, it } from "vitest";
import { matchRoute } from "./router";

describe("matchRoute", () => {
  it.each([
    ["/", { name: "home" }],
    ["/signin", { name: "signin" }],
    ["/signup/", { name: "signup" }],
    ["/settings", { name: "settings" }],
    ["/settings/tokens", { name: "tokens" }],
    ["/settings/tokens/", { name: "tokens" }],
    ["/admin", { name: "admin" }],
    ["/admin/x", { name: "not_found" }],
    ["/tickets", { name: "tickets" }],
    ["/spaces/new", { name: "new_space" }],
    ["/spaces/aB3_-x", { name: "space", id: "aB3_-x" }],
    ["/users/ada_l", { name: "user", handle: "ada_l" }],
    ["/users/a%20b", { name: "user", handle: "a b" }],
    ["/users/%E0%A4%A", { name: "not_found" }],
    ["/spaces", { name: "not_found" }],
    ["/api/me", { name: "not_found" }],
  ])("%s", (path, route) => {
    expect(matchRoute(path)).toEqual(route);
  });
});
