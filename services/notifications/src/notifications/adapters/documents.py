"""Fetch a sealed document from the signing archive by reference, never reading past a size limit."""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from dataclasses import dataclass
from email.message import Message
from pathlib import PurePosixPath
from typing import Protocol

import httpx
from pydantic import SecretStr

from notifications.adapters.mailer import Attachment

log = logging.getLogger(__name__)

# What signing hands out (`/archive/documents/{id}`): a path on its API, never a full URL, so a
# producer's reference can only ever reach the configured signing service.
DOCUMENT_REF = re.compile(r"^/archive/documents/[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
UNSAFE_FILENAME = re.compile(r"[^\w .()+,-]", re.UNICODE)
# Answers that will not change by asking again: no such document, or not for this credential.
GONE_STATUSES = frozenset({400, 401, 403, 404, 406, 410, 451})
DETAIL_LIMIT = 200


class FetchOutcome(enum.StrEnum):
    """What fetching a referenced document came to."""

    FETCHED = "fetched"
    TOO_LARGE = "too_large"
    # Will not succeed by retrying: bad reference, refused, not found.
    UNAVAILABLE = "unavailable"
    # Signing was unreachable or busy: worth another try later.
    TRANSIENT = "transient"


@dataclass(frozen=True, slots=True)
class FetchedDocument:
    outcome: FetchOutcome
    attachment: Attachment | None = None
    detail: str | None = None


class DocumentSource(Protocol):
    """Where attachments come from; never raises, the outcome says what happened."""

    async def fetch(self, document_ref: str) -> FetchedDocument: ...


class SigningArchive:
    """GET {base_url}{document_ref} with a bearer token, streamed and cut off at `max_bytes`.

    The limit holds whatever the server claims: a Content-Length above it stops before the body,
    and a body that keeps coming (chunked, or lying about its length) is abandoned as soon as it
    passes the limit, so at most `max_bytes` plus one chunk is ever held in memory.
    """

    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        max_bytes: int,
        timeout_s: float = 15.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        # Redirects are not followed: the token must never be sent anywhere but signing.
        self._client = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._owns_client = client is None

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def fetch(self, document_ref: str) -> FetchedDocument:
        if not DOCUMENT_REF.fullmatch(document_ref or ""):
            return FetchedDocument(FetchOutcome.UNAVAILABLE, detail="not a signing archive reference")
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}", "Accept": "application/pdf"}
        try:
            # The whole download is bounded, not just each read: a server trickling bytes cannot hold a worker.
            async with (
                asyncio.timeout(self._timeout_s),
                self._client.stream("GET", self._base_url + document_ref, headers=headers) as response,
            ):
                return await self._read(response)
        except (httpx.TransportError, TimeoutError) as exc:
            return FetchedDocument(FetchOutcome.TRANSIENT, detail=f"signing unreachable: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return FetchedDocument(FetchOutcome.UNAVAILABLE, detail=f"bad answer from signing: {type(exc).__name__}")

    async def _read(self, response: httpx.Response) -> FetchedDocument:
        status = response.status_code
        if status != 200:
            outcome = FetchOutcome.UNAVAILABLE if status in GONE_STATUSES else FetchOutcome.TRANSIENT
            if 300 <= status < 400:
                outcome = FetchOutcome.UNAVAILABLE
            return FetchedDocument(outcome, detail=f"signing answered HTTP {status}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            return self._too_large(f"{declared} bytes declared")
        body = bytearray()
        # aiter_bytes counts decoded bytes, so a compressed body cannot expand past the limit either.
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self._max_bytes:
                return self._too_large(f"more than {len(body)} bytes sent")
        content_type = response.headers.get("content-type", "application/pdf").split(";")[0].strip().lower()
        if not CONTENT_TYPE.fullmatch(content_type):
            content_type = "application/octet-stream"
        filename = _filename(response.headers.get("content-disposition"), content_type)
        return FetchedDocument(FetchOutcome.FETCHED, Attachment(filename, bytes(body), content_type))

    def _too_large(self, what: str) -> FetchedDocument:
        return FetchedDocument(FetchOutcome.TOO_LARGE, detail=f"document over {self._max_bytes} bytes ({what})")


def _filename(disposition: str | None, content_type: str) -> str:
    """The server's file name, reduced to a harmless base name; 'document.pdf' when absent."""
    extension = {"application/pdf": ".pdf", "application/xml": ".xml", "text/xml": ".xml"}.get(content_type, "")
    name = None
    if disposition:
        header = Message()
        header["content-disposition"] = disposition
        name = header.get_filename()
    if name:
        name = UNSAFE_FILENAME.sub("_", PurePosixPath(name.replace("\\", "/")).name).strip(" .")[:100]
    return name or f"document{extension or '.bin'}"
