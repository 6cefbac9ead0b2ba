"""Read an uploaded PDF and check its seal, refusing hostile input with a named reason.

Runs inside the verification sandbox (a separate process with a memory limit and a
clock, signing.adapters.sandbox): nothing here trusts the file.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits
from pyhanko.pdf_utils.misc import PdfDecodeLimitError
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.documents.verify import SignatureReport, async_verify_reader

MiB = 1024 * 1024
# A PDF starts with "%PDF-", though readers accept junk before it within the first KiB.
HEADER_WINDOW = 1024


class Refused(Exception):
    """The file cannot be verified; `code` names why, `message` tells the member what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:HEADER_WINDOW]


def not_a_pdf() -> Refused:
    return Refused("not_a_pdf", "the file is not a PDF (no %PDF- header); send the PDF of the invoice")


def decode_limits(limit_mb: int | None) -> DecodeLimits:
    """pyHanko's limits for untrusted files, with `limit_mb` as the cap per stream and per document."""
    if limit_mb is None:
        return DecodeLimits.for_trusted_input()
    cap = limit_mb * MiB
    return DecodeLimits(
        per_stream=StreamDecodeLimits(max_output_size=cap),
        document_budget=DocumentDecodeBudget(base_allowance=cap, max_ratio=10),
    )


def _bomb(exc: Exception) -> Refused:
    return Refused(
        "decompression_bomb",
        f"a compressed stream in the file expands far beyond its size ({exc}); it is refused as a decompression bomb",
    )


def _malformed(exc: BaseException) -> Refused:
    detail = str(exc) or type(exc).__name__
    return Refused(
        "malformed_pdf",
        f"the PDF structure cannot be read (cross-reference table, trailer or objects are damaged): {detail[:300]}",
    )


def _jsonable(report: SignatureReport) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(report).items()}


def inspect_pdf(
    pdf: bytes, trust_roots: Sequence[asn1_x509.Certificate], *, decode_limit_mb: int | None = 64
) -> dict[str, Any]:
    """The seal report of `pdf` with its hashes, as JSON-ready data; Refused for a file we will not read.

    `signed_revision_sha256` is the hash of the file as it stood when its outermost
    signature was made: for a sealed invoice with bytes appended later, the archived original.
    """
    if not looks_like_pdf(pdf):
        raise not_a_pdf()
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False, decode_limits=decode_limits(decode_limit_mb))
        encrypted = reader.encrypted
    except PdfDecodeLimitError as exc:
        raise _bomb(exc) from exc
    except MemoryError:
        raise  # the sandbox reports it and replaces the process
    except Exception as exc:
        raise _malformed(exc) from exc
    if encrypted:
        raise Refused(
            "encrypted_pdf", "the PDF is encrypted; a sealed invoice never is: send the file as the archive gave it"
        )
    try:
        report = asyncio.run(async_verify_reader(reader, trust_roots, pdf))
    except PdfDecodeLimitError as exc:
        raise _bomb(exc) from exc
    except MemoryError:
        raise  # the sandbox reports it and replaces the process
    except Exception as exc:
        raise _malformed(exc) from exc
    signed_revision = None
    if report.signed_length and 0 < report.signed_length <= len(pdf):
        signed_revision = hashlib.sha256(pdf[: report.signed_length]).hexdigest()
    return {
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "size_bytes": len(pdf),
        "signed_revision_sha256": signed_revision,
        "signature": _jsonable(report),
    }
