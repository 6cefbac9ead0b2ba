"""Check a sealed PDF with pyHanko: intact, trusted, covering the whole file, who sealed it and when."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

TrustRoot = asn1_x509.Certificate | Path | str


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

    @classmethod
    def unsigned(cls, problem: str = "the document carries no signature") -> SignatureReport:
        return cls(signed=False, problem=problem)


def _roots(trust_roots: Iterable[TrustRoot]) -> list[asn1_x509.Certificate]:
    return [root if isinstance(root, asn1_x509.Certificate) else load_cert_from_pemder(root) for root in trust_roots]


async def async_verify_pdf(pdf: bytes, trust_roots: Iterable[TrustRoot]) -> SignatureReport:
    """Validate the last (outermost) signature of `pdf` against `trust_roots` only."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError) as exc:
        return SignatureReport.unsigned(f"not a readable PDF: {exc}")
    if not signatures:
        return SignatureReport.unsigned()
    # No network: the archive must answer the same way offline, years later.
    context = ValidationContext(trust_roots=_roots(trust_roots), allow_fetching=False)
    embedded = signatures[-1]
    try:
        status = await async_validate_pdf_signature(embedded, context)
    except Exception as exc:  # a damaged CMS or byte range is a verdict, not a crash
        return SignatureReport(signed=True, signatures=len(signatures), problem=f"unverifiable signature: {exc}")
    entire = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    timestamp = status.timestamp_validity
    problem = None
    if not (status.intact and status.valid):
        problem = "the signed bytes were altered or the signature value is wrong"
    elif not status.trusted:
        problem = f"signer not trusted: {status.trust_problem_indic}"
    elif not entire:
        problem = "the file was changed after it was signed"
    return SignatureReport(
        signed=True,
        intact=status.intact and status.valid,
        trusted=status.trusted,
        entire_file=entire,
        coverage=status.coverage.name if status.coverage else None,
        signer=status.signing_cert.subject.human_friendly,
        signing_time=timestamp.timestamp if timestamp else status.signer_reported_dt,
        timestamped=timestamp is not None,
        bottom_line=bool(status.bottom_line and entire),
        signatures=len(signatures),
        problem=problem,
    )


def verify_pdf(pdf: bytes, trust_roots: Iterable[TrustRoot]) -> SignatureReport:
    """Synchronous `async_verify_pdf`, for scripts and worker threads without a loop."""
    return asyncio.run(async_verify_pdf(pdf, trust_roots))
