"""RFC 9457 problem responses: every error a client can cause, in one place."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from salon.domain.errors import DomainError, RateLimited
from salon.store.db import OUTAGE_ERRORS

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


_SCHEMA = Problem.model_json_schema(ref_template="#/components/schemas/{model}")

_DESCRIPTIONS = {
    400: "Malformed request (e.g. a body that is not JSON)",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict with the current state",
    410: "Gone: it was there, and is no more (e.g. a deleted or expired recording)",
    412: "Precondition failed (If-Match names another version)",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    501: "Not implemented (e.g. a WebRTC ICE restart)",
    503: "Not available yet; try again",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problems a route can answer with."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _problem_schema()}},
        }
        for status in statuses
    }


def _problem_schema() -> dict[str, Any]:
    schema = dict(_SCHEMA)
    defs = schema.pop("$defs", {})
    # Inline FieldError so the schema stands alone inside each response.
    props = dict(schema["properties"])
    errors = dict(props["errors"])
    errors["anyOf"] = [
        {"type": "array", "items": defs["FieldError"]},
        {"type": "null"},
    ]
    props["errors"] = errors
    schema["properties"] = props
    return schema


#: What every route can answer: validation, auth and state problems.
COMMON_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, errors=errors)
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


#: What a 401 asks for (RFC 9110, 11.6.1): a bearer token, or the session cookie a sign-in sets.
WWW_AUTHENTICATE = 'Bearer realm="salon"'


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(max(1, round(exc.retry_after + 0.5)))}
    elif exc.status == 401:
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE}
    elif exc.status == 503:  # a part not there in time, media moving between nodes: soon
        headers = {"Retry-After": "1"}
    return problem(exc.status, exc.title, exc.detail, headers=headers)


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method some API operation answers at ``path`` (Starlette's own 405 names only
    the first route that matched: ``/api/me`` has GET and PATCH routes, say). Read from the
    app's OpenAPI document, once."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        app.state, "allowed_methods", None
    )
    if table is None:
        table = [
            (_template(template), {m.upper() for m in operations if m in _METHODS})
            for template, operations in app.openapi().get("paths", {}).items()
        ]
        app.state.allowed_methods = table
    methods: set[str] = set()
    for pattern, answered in table:
        if pattern.fullmatch(path):
            methods |= answered
    return sorted(methods)  # FastAPI's routes answer HEAD only where they declare it


_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


def _template(template: str) -> re.Pattern[str]:
    """``/api/spaces/{space_id}/hand`` as a pattern: each parameter one path segment."""
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def method_not_allowed(app: Any, method: str, path: str) -> JSONResponse:
    allowed = allowed_methods(app, path)
    return problem(
        405,
        "Method not allowed",
        f"{method} is not allowed here; allowed: {', '.join(allowed)}",
        headers={"Allow": ", ".join(allowed)},
    )


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(loc=[str(p) if not isinstance(p, int) else p for p in e["loc"]], msg=e["msg"])
        for e in exc.errors()
    ]
    first = errors[0] if errors else None
    detail = f"{'.'.join(str(p) for p in first.loc)}: {first.msg}" if first else "invalid request"
    return problem(422, "Invalid input", detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        return method_not_allowed(request.app, request.method, request.url.path)
    title = {400: "Bad request", 404: "Not found"}.get(exc.status_code, "Error")
    return problem(exc.status_code, title, str(exc.detail), headers=getattr(exc, "headers", None))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal server error", "something went wrong on our side")


#: How soon a client should try again after a database outage answer.
OUTAGE_RETRY_AFTER_SECONDS = 5


async def _outage(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc))
    return problem(
        503,
        "Service unavailable",
        "the database is unavailable: nothing was changed; try again shortly",
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
    )


def install(app: FastAPI) -> None:
    for outage in OUTAGE_ERRORS:
        app.add_exception_handler(outage, _outage)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
