"""Check a sealed PDF with pyHanko: intact, trusted, covering the whole file, who sealed it and when."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Literal

from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.misc import PdfDecodeLimitError, PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from signing.documents.container import container_problem, unrecognised_signature_problem

TrustRoot = asn1_x509.Certificate | Path | str
Integrity = Literal["intact", "modified", "unsigned"]


@dataclass(frozen=True)
class SignatureReport:
    """What a reader of the archive needs to know about a document's seal."""

    signed: bool
    intact: bool = False
    trusted: bool = False
    entire_file: bool = False
    coverage: str | None = None  # pyHanko's level: ENTIRE_FILE, ENTIRE_REVISION, CONTIGUOUS_BLOCKS...
    signer: str | None = None
    signing_time: datetime | None = None
    timestamped: bool = False
    bottom_line: bool = False
    signatures: int = 0
    problem: str | None = None
    # "intact": the signature is valid and covers every byte; "modified": it is not, or
    # bytes were added after it; "unsigned": there is no signature to check.
    integrity: Integrity = "unsigned"
    signer_issuer: str | None = None
    signer_serial: str | None = None
    signing_time_source: Literal["timestamp", "signer"] | None = None
    timestamp_time: datetime | None = None
    timestamp_authority: str | None = None
    timestamp_valid: bool | None = None
    timestamp_trusted: bool | None = None
    trust_problem: str | None = None
    # Length of the file as it was when signed (end of the signed byte range), to find the
    # archived original of a copy that had bytes appended.
    signed_length: int | None = None

    @classmethod
    def unsigned(cls, problem: str = "the document carries no signature") -> SignatureReport:
        return cls(signed=False, problem=problem)


def _roots(trust_roots: Iterable[TrustRoot]) -> list[asn1_x509.Certificate]:
    return [root if isinstance(root, asn1_x509.Certificate) else load_cert_from_pemder(root) for root in trust_roots]


def _signed_length(embedded) -> int | None:
    try:
        byte_range = [int(x) for x in embedded.sig_object["/ByteRange"]]
        return byte_range[2] + byte_range[3]
    except (KeyError, IndexError, TypeError, ValueError):
        return None


async def async_verify_reader(
    reader: PdfFileReader, trust_roots: Iterable[TrustRoot], pdf: bytes | None = None
) -> SignatureReport:
    """Validate the last (outermost) signature of an opened PDF against `trust_roots` only.

    With the file's bytes (`pdf`), the parts the signature does not cover are checked
    too (signing.documents.container), so that no changed byte passes for intact.
    Decoding-limit errors are raised (the caller decides what a decompression bomb is);
    any other failure to read or check the signature is a verdict, not a crash.
    """
    signatures = reader.embedded_signatures
    if not signatures:
        damaged = unrecognised_signature_problem(reader, pdf)
        if damaged:
            return SignatureReport(signed=True, integrity="modified", problem=damaged)
        return SignatureReport.unsigned()
    roots = _roots(trust_roots)
    # No network: the archive must answer the same way offline, years later.
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    embedded = signatures[-1]
    try:
        status = await async_validate_pdf_signature(embedded, context)
    except PdfDecodeLimitError:
        raise
    except Exception as exc:  # a damaged CMS or byte range is a verdict, not a crash
        return SignatureReport(
            signed=True,
            signatures=len(signatures),
            integrity="modified",
            problem=f"unverifiable signature: {exc}",
        )
    entire = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    intact = bool(status.intact and status.valid)
    timestamp = status.timestamp_validity
    problem = None
    if intact and pdf is not None:
        problem = container_problem(pdf, embedded, roots)
        intact = problem is None
    if problem is not None:
        pass  # the container check already said what is wrong
    elif not intact:
        problem = "the signed bytes were altered or the signature value is wrong"
    elif not status.trusted:
        problem = f"signer not trusted: {status.trust_problem_indic}"
    elif not entire:
        problem = "the file was changed after it was signed"
    cert = status.signing_cert
    return SignatureReport(
        signed=True,
        intact=intact,
        trusted=status.trusted,
        entire_file=entire,
        coverage=status.coverage.name if status.coverage else None,
        signer=cert.subject.human_friendly,
        signing_time=timestamp.timestamp if timestamp else status.signer_reported_dt,
        timestamped=timestamp is not None,
        bottom_line=bool(status.bottom_line and entire and intact),
        signatures=len(signatures),
        problem=problem,
        integrity="intact" if intact and entire else "modified",
        signer_issuer=cert.issuer.human_friendly,
        signer_serial=format(cert.serial_number, "x"),
        signing_time_source="timestamp" if timestamp else ("signer" if status.signer_reported_dt else None),
        timestamp_time=timestamp.timestamp if timestamp else None,
        timestamp_authority=timestamp.signing_cert.subject.human_friendly if timestamp else None,
        timestamp_valid=bool(timestamp.intact and timestamp.valid) if timestamp else None,
        timestamp_trusted=timestamp.trusted if timestamp else None,
        trust_problem=None if status.trusted else str(status.trust_problem_indic or "no trusted root"),
        signed_length=_signed_length(embedded),
    )


async def async_verify_pdf(pdf: bytes, trust_roots: Iterable[TrustRoot]) -> SignatureReport:
    """Validate the last (outermost) signature of `pdf` against `trust_roots` only.

    For files from outside, prefer the verification sandbox (signing.documents.inspect in
    a separate, limited process): this function has no time or memory bound of its own.
    """
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        return await async_verify_reader(reader, trust_roots, pdf)
    except (PdfReadError, ValueError) as exc:
        return SignatureReport.unsigned(f"not a readable PDF: {exc}")


def verify_pdf(pdf: bytes, trust_roots: Iterable[TrustRoot]) -> SignatureReport:
    """Synchronous `async_verify_pdf`, for scripts and worker threads without a loop."""
    return asyncio.run(async_verify_pdf(pdf, trust_roots))
