import { describe, expect, it } from "vitest";
import { ApiError, errorMessage, formErrorMessage, parseProblem, parseRetryAfter } from "./problem";

describe("parseProblem", () => {
  it("reads an RFC 9457 body", () => {
    const body = JSON.stringify({
      type: "about:blank",
      title: "Forbidden",
      status: 403,
      detail: "hosting a space needs 600 followers; you have 3 (597 to go)",
    });
    const error = parseProblem(403, "application/problem+json", body);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(403);
    expect(error.title).toBe("Forbidden");
    expect(error.detail).toBe("hosting a space needs 600 followers; you have 3 (597 to go)");
    expect(error.message).toBe(error.detail);
  });

  it("keeps field errors of a 422", () => {
    const body = JSON.stringify({
      title: "Invalid input",
      status: 422,
      detail: "body.handle: String should match pattern",
      errors: [{ loc: ["body", "handle"], msg: "String should match pattern" }],
    });
    const error = parseProblem(422, "application/problem+json", body);
    expect(error.fieldErrors).toEqual([{ loc: ["body", "handle"], msg: "String should match pattern" }]);
  });

  it("reads Retry-After on a 429", () => {
    const body = JSON.stringify({ title: "Too many requests", status: 429, detail: "at most 10 reactions every 10 seconds" });
    const error = parseProblem(429, "application/problem+json", body, "3");
    expect(error.retryAfter).toBe(3);
    expect(error.detail).toBe("at most 10 reactions every 10 seconds");
  });

  it("falls back to a readable sentence for HTML, empty or odd bodies", () => {
    expect(parseProblem(502, "text/html", "<html>Bad gateway</html>").detail).toBe(
      "The server is not reachable right now.",
    );
    expect(parseProblem(404, null, "").detail).toBe("Not found.");
    expect(parseProblem(418, "application/json", "{not json").detail).toBe("The request failed (HTTP 418).");
    expect(parseProblem(422, "application/json", JSON.stringify({ detail: [{ msg: "x" }] })).detail).toBe(
      "Some input is not valid.",
    );
    expect(parseProblem(400, "application/json", "[1,2]").detail).toBe("The request was not understood.");
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("5")).toBe(5);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
    const now = Date.parse("2026-05-01T18:00:00Z");
    expect(parseRetryAfter("Fri, 01 May 2026 18:00:04 GMT", now)).toBe(4);
  });
});

describe("errorMessage", () => {
  it("prefers the problem detail, explains network failures", () => {
    expect(errorMessage(new ApiError({ status: 409, title: "Conflict", detail: "you are already on the stage" }))).toBe(
      "you are already on the stage",
    );
    expect(errorMessage(new TypeError("Failed to fetch"))).toBe("Cannot reach the server. Check your connection.");
    expect(errorMessage("??")).toBe("Something went wrong.");
  });
});

describe("formErrorMessage", () => {
  const plainer = { handle: "A handle is 1 to 15 letters, digits or underscores." };

  it("says a validation error about a known field plainly", () => {
    const error = parseProblem(
      422,
      "application/problem+json",
      JSON.stringify({
        title: "Invalid input",
        status: 422,
        detail: "body.handle: String should match pattern '^[A-Za-z0-9_]{1,15}$'",
        errors: [{ loc: ["body", "handle"], msg: "String should match pattern" }],
      }),
    );
    expect(formErrorMessage(error, plainer)).toBe(plainer.handle);
  });

  it("keeps the server's detail otherwise", () => {
    const conflict = parseProblem(409, "application/problem+json", JSON.stringify({ detail: "that handle is taken" }));
    expect(formErrorMessage(conflict, plainer)).toBe("that handle is taken");
    const other = parseProblem(422, "application/problem+json", JSON.stringify({ detail: "body.bio: too long", errors: [{ loc: ["body", "bio"], msg: "too long" }] }));
    expect(formErrorMessage(other, plainer)).toBe("body.bio: too long");
  });
});
