"""The errors the SDK raises: each names what is wrong, where, and what to do about it."""

from __future__ import annotations

from pathlib import Path


class PartnerSdkError(Exception):
    """Base of every error the partner SDK raises on purpose."""


class InvoiceDataError(PartnerSdkError):
    """An invoice (dict or file) that cannot become a valid partner submission.

    `source` is the file (or "<dict>"), `element` the XML element (None for a dict), `field` the
    path in the submission (e.g. lines[0].quantity) and `hint` what to change.
    """

    def __init__(self, source: str | Path, field: str, hint: str, *, element: str | None = None) -> None:
        self.source = str(source)
        self.field = field
        self.element = element
        self.hint = hint
        where = f"element {element} (field {field})" if element else f"field {field}"
        super().__init__(f"{self.source}: {where}: {hint}")


class KeyFileError(PartnerSdkError):
    """A private key file that cannot be used to sign partner records."""


class PublishError(PartnerSdkError):
    """The broker did not acknowledge a record (after the producer's own retries)."""
