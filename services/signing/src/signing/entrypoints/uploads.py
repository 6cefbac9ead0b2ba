"""Reading an uploaded PDF from a request: a raw application/pdf body or one multipart/form-data file part.

The size limit is enforced while the body streams in, so an oversized upload costs at
most the limit in memory; multipart is parsed here (the body is already bounded).
"""

from __future__ import annotations

from email.message import Message

from fastapi import HTTPException, Request

RAW_TYPES = frozenset({"application/pdf", "application/octet-stream"})
# Room for the multipart envelope (boundaries, part headers) on top of the file itself.
MULTIPART_ALLOWANCE = 64 * 1024


def refuse(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message})


def _too_large(limit: int) -> HTTPException:
    return refuse(413, "too_large", f"the file is larger than {limit} bytes; sealed invoices are far smaller")


def _content_type(header: str) -> tuple[str, dict[str, str]]:
    message = Message()
    message["content-type"] = header
    params = {k.lower(): v for k, v in message.get_params(failobj=[])[1:]}
    return message.get_content_type(), params


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise _too_large(limit)
        except ValueError as exc:
            raise refuse(400, "bad_request", "Content-Length is not a number") from exc
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _multipart_file(body: bytes, boundary: str, field: str) -> bytes:
    delimiter = b"--" + boundary.encode("latin-1")
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            continue
        message = Message()
        for line in head.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                message[name.strip()] = value.strip()
        if message.get_param("name", header="content-disposition") == field:
            # The part ends with the CRLF that precedes the next delimiter.
            return content[:-2] if content.endswith(b"\r\n") else content
    raise refuse(400, "no_file", f"the multipart body has no '{field}' part; send the PDF as the '{field}' field")


async def read_pdf_upload(request: Request, limit: int, field: str = "file") -> bytes:
    """The uploaded file: the raw body (application/pdf) or the `field` part of a multipart form."""
    media_type, params = _content_type(request.headers.get("content-type", "application/pdf"))
    if media_type == "multipart/form-data":
        boundary = params.get("boundary")
        if not boundary:
            raise refuse(400, "bad_multipart", "multipart/form-data without a boundary parameter")
        pdf = _multipart_file(await read_body(request, limit + MULTIPART_ALLOWANCE), boundary, field)
        if len(pdf) > limit:
            raise _too_large(limit)
    elif media_type in RAW_TYPES:
        pdf = await read_body(request, limit)
    else:
        raise refuse(
            415,
            "unsupported_media_type",
            f"send the PDF as application/pdf or as multipart/form-data (field '{field}'), not {media_type}",
        )
    if not pdf:
        raise refuse(400, "empty", "the upload is empty; send the PDF of the invoice")
    return pdf
