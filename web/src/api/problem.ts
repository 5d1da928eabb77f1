// Turning a failed HTTP response into something a person can read, in one place.
import type { Problem } from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** Seconds to wait before trying again (from Retry-After), when the server said so. */
  readonly retryAfter: number | null;
  readonly fieldErrors: { loc: (string | number)[]; msg: string }[];

  constructor(init: {
    status: number;
    title: string;
    detail: string;
    retryAfter?: number | null;
    fieldErrors?: { loc: (string | number)[]; msg: string }[];
  }) {
    super(init.detail);
    this.name = "ApiError";
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.retryAfter = init.retryAfter ?? null;
    this.fieldErrors = init.fieldErrors ?? [];
  }
}

const FALLBACK_DETAIL: Record<number, string> = {
  400: "The request was not understood.",
  401: "Sign in to do that.",
  403: "You are not allowed to do that.",
  404: "Not found.",
  409: "That conflicts with the current state; reload and try again.",
  413: "That is too large.",
  422: "Some input is not valid.",
  429: "Too many requests; slow down.",
  500: "Something went wrong on the server.",
  502: "The server is not reachable right now.",
  503: "Not available right now; try again.",
};

function isProblem(value: unknown): value is Partial<Problem> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Seconds from a Retry-After header: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * Build an ApiError from a response's status, Content-Type, body text and Retry-After.
 * The server sends RFC 9457 bodies, but a proxy in between may answer with HTML or nothing.
 */
export function parseProblem(
  status: number,
  contentType: string | null,
  body: string,
  retryAfterHeader: string | null = null,
): ApiError {
  const fallback = FALLBACK_DETAIL[status] ?? `The request failed (HTTP ${status}).`;
  let title = "Error";
  let detail = fallback;
  let fieldErrors: Problem["errors"] = [];
  const looksJson = (contentType ?? "").includes("json") || body.trimStart().startsWith("{");
  if (looksJson && body) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (isProblem(parsed)) {
        if (typeof parsed.title === "string" && parsed.title) title = parsed.title;
        if (typeof parsed.detail === "string" && parsed.detail) detail = parsed.detail;
        else if (typeof (parsed as { detail?: unknown }).detail !== "undefined") {
          // FastAPI's own {"detail": [...]} shape, should one slip through.
          detail = fallback;
        }
        if (Array.isArray(parsed.errors)) fieldErrors = parsed.errors;
      }
    } catch {
      // Not JSON after all: keep the fallback.
    }
  }
  return new ApiError({
    status,
    title,
    detail,
    retryAfter: parseRetryAfter(retryAfterHeader),
    fieldErrors,
  });
}

/** What to show for any error thrown by an API call or the network. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  if (error instanceof TypeError) return "Cannot reach the server. Check your connection.";
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}

/**
 * A 422 from request validation names the field (loc ["body", "handle"]) in pydantic's words;
 * when the form knows a plainer sentence for that field, say that instead.
 */
export function formErrorMessage(error: unknown, plainer: Record<string, string>): string {
  if (error instanceof ApiError && error.status === 422) {
    for (const fieldError of error.fieldErrors) {
      // loc is ["body", field] or, inside a list, ["body", field, index].
      const field = fieldError.loc.find((part) => typeof part === "string" && part in plainer);
      if (typeof field === "string") return plainer[field]!;
    }
  }
  return errorMessage(error);
}
