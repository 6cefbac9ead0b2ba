"""Raw-body uploads with a hard size cap, and downloads that browsers never render."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from support.adapters.tables import CaseAttachment
from support.domain.attachments import content_disposition
from support.domain.errors import TooLarge

UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes as the request body; its Content-Type is only a hint, the content decides.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}

DOWNLOAD_OPENAPI: dict[str, Any] = {
    "responses": {
        "200": {
            "description": "The file, always as an attachment (application/octet-stream, nosniff).",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refusing it as soon as it is known to exceed `limit` bytes."""
    too_large = TooLarge("file-too-large", f"a file can be at most {limit / (1024 * 1024):g} MiB")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def as_download(row: CaseAttachment, content: bytes) -> Response:
    """Bytes only: never the stored type, never inline, never sniffed into HTML by a browser."""
    return Response(
        content=content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(row.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "X-Factora-Sniffed-Type": row.media_type,
        },
    )
