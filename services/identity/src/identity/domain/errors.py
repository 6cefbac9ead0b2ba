"""Errors a caller sees: an HTTP status, a stable code, the field at fault and what to do."""

from __future__ import annotations


class ApiError(Exception):
    """Turned into `{"error": code, "detail": ..., "field": ...}` with `status` by the HTTP layer."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
        retry_after_s: int | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.code = code or self.code
        self.status = status or self.status
        self.retry_after_s = retry_after_s
        self.extra = extra or {}


class InvalidInput(ApiError):
    status = 422
    code = "invalid_input"


class NotAuthenticated(ApiError):
    status = 401
    code = "not_authenticated"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class TooManyAttempts(ApiError):
    status = 429
    code = "too_many_attempts"
