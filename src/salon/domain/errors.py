"""Errors a client can cause. Each carries its HTTP status so api/ maps them in one place."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Invalid(DomainError):
    status = 422
    title = "Invalid input"


class BadRequest(DomainError):
    status = 400
    title = "Bad request"


class Unauthorized(DomainError):
    status = 401
    title = "Not signed in"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Gone(DomainError):
    status = 410
    title = "Gone"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class TooLarge(DomainError):
    status = 413
    title = "Too large"


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"


class Unavailable(DomainError):
    status = 503
    title = "Not available yet"


class RateLimited(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
