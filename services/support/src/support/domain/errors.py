"""Errors the support use cases raise; the HTTP layer turns each into its status and a clear message."""

from __future__ import annotations


class SupportError(Exception):
    """A refusal a user can act on: a stable `code` and a message that says what to do."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(SupportError):
    """The thing does not exist for this caller (other companies' cases included)."""

    status = 404


class Forbidden(SupportError):
    """The caller is known but may not do this."""

    status = 403


class Unauthorized(SupportError):
    """The caller must prove who they are (token or case link)."""

    status = 401


class Conflict(SupportError):
    """The case is not in a state that allows this."""

    status = 409


class Invalid(SupportError):
    """A field breaks a rule."""

    status = 422


class TooLarge(SupportError):
    """An upload over the size limits."""

    status = 413


class UnsupportedType(SupportError):
    """An upload whose real content is not allowed."""

    status = 415


class TooManyRequests(SupportError):
    """Slow down: too many requests of this kind."""

    status = 429
