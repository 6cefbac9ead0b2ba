"""Verification use cases: the report on a PDF a member sends, and the export bundle of an archive entry."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import date, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.messaging_tables import utcnow
from signing.adapters import archive
from signing.adapters.tables import ArchivedDocument

CHAIN_FORMULA = "chain_hash = sha256(f'{previous_chain_hash}|{sequence}|{archive_id}|{pdf_sha256}')"
NO_MATCH = "no match visible to you"


class Inspector(Protocol):
    """Reads a PDF out of harm's way (the verification sandbox) and returns signing.documents.inspect data."""

    async def inspect(self, pdf: bytes) -> dict[str, Any]: ...


class SignerInfo(BaseModel):
    """The certificate that made the outermost signature."""

    subject: str = Field(description="Subject of the signer certificate.")
    issuer: str | None = Field(default=None, description="Issuer of the signer certificate.")
    serial: str | None = Field(default=None, description="Serial number of the signer certificate (hex).")


class TimestampInfo(BaseModel):
    """The RFC 3161 timestamp on the signature (PAdES B-T), when there is one."""

    time: datetime | None = Field(description="Time certified by the timestamp authority.")
    authority: str | None = Field(description="Subject of the timestamp authority's certificate.")
    valid: bool | None = Field(description="The timestamp token is intact and its signature correct.")
    trusted: bool | None = Field(description="The timestamp authority chains to one of our trust roots.")


class TrustInfo(BaseModel):
    """Whether the signer chains to Factora's trust roots."""

    trusted: bool = Field(description="The signer certificate chains to one of our trust roots.")
    problem: str | None = Field(default=None, description="Why it does not, when it does not.")


class ArchiveMatch(BaseModel):
    """Whether the file is a copy of an archived document the caller's company is a party of."""

    matched: bool = Field(description="A copy of an archive entry visible to the caller.")
    kind: Literal["exact", "signed_revision"] | None = Field(
        default=None,
        description="exact: byte for byte; signed_revision: the file as sealed matches, bytes were added since.",
    )
    archive_id: str | None = Field(default=None, description="The matching archive entry.")
    invoice_number: str | None = Field(default=None, description="Invoice number of that entry.")
    message: str = Field(description="The verdict in words, e.g. 'matches archive entry …'.")


class DocumentInfo(BaseModel):
    """Fingerprints of the file that was checked."""

    sha256: str = Field(description="SHA-256 (hex) of the file.")
    size_bytes: int = Field(description="Size of the file in bytes.")
    signed_revision_sha256: str | None = Field(
        default=None, description="SHA-256 of the file as it stood when its outermost signature was made."
    )


class VerificationReport(BaseModel):
    """What a PDF's seal says: intact or modified, who sealed it and when, trusted or not, archived or not."""

    integrity: Literal["intact", "modified", "unsigned"] = Field(
        description="intact: the seal is valid and covers every byte; modified: it is broken or bytes were added "
        "after it; unsigned: no signature."
    )
    valid: bool = Field(description="Intact, covering the whole file, and trusted: the bottom line.")
    summary: str = Field(description="The verdict in one sentence.")
    signatures: int = Field(description="Signatures in the file; the outermost one is checked.")
    coverage: str | None = Field(default=None, description="pyHanko's coverage level, e.g. ENTIRE_FILE.")
    signer: SignerInfo | None = Field(default=None, description="Who signed, when signed.")
    signing_time: datetime | None = Field(default=None, description="When it was signed.")
    signing_time_source: Literal["timestamp", "signer"] | None = Field(
        default=None, description="timestamp: certified by a timestamp authority; signer: claimed by the signer."
    )
    timestamp: TimestampInfo | None = Field(default=None, description="The signature timestamp (B-T), if any.")
    trust: TrustInfo = Field(description="Trust status against Factora's trust roots.")
    archive: ArchiveMatch = Field(description="Whether it matches an archived copy visible to the caller.")
    document: DocumentInfo = Field(description="Fingerprints of the checked file.")
    problem: str | None = Field(default=None, description="What is wrong, when something is.")


def _summary(sig: dict[str, Any]) -> str:
    if sig["integrity"] == "unsigned":
        return "The document carries no seal."
    if sig["integrity"] == "modified":
        return f"The document was modified after it was sealed: {sig['problem']}."
    if not sig["trusted"]:
        return f"The document is intact, but its seal does not chain to a trusted root: {sig['problem']}."
    return f"The document is intact and sealed by {sig['signer']}."


def build_report(data: dict[str, Any], match: ArchiveMatch) -> VerificationReport:
    """The report from the sandbox's findings and the archive lookup."""
    sig = data["signature"]
    timestamp = None
    if sig["timestamped"]:
        timestamp = TimestampInfo(
            time=sig["timestamp_time"],
            authority=sig["timestamp_authority"],
            valid=sig["timestamp_valid"],
            trusted=sig["timestamp_trusted"],
        )
    signer = None
    if sig["signer"]:
        signer = SignerInfo(subject=sig["signer"], issuer=sig["signer_issuer"], serial=sig["signer_serial"])
    return VerificationReport(
        integrity=sig["integrity"],
        valid=bool(sig["bottom_line"]),
        summary=_summary(sig),
        signatures=sig["signatures"],
        coverage=sig["coverage"],
        signer=signer,
        signing_time=sig["signing_time"],
        signing_time_source=sig["signing_time_source"],
        timestamp=timestamp,
        trust=TrustInfo(trusted=bool(sig["trusted"]), problem=sig["trust_problem"] if sig["signed"] else None),
        archive=match,
        document=DocumentInfo(
            sha256=data["sha256"],
            size_bytes=data["size_bytes"],
            signed_revision_sha256=data["signed_revision_sha256"],
        ),
        problem=sig["problem"],
    )


def archive_match(data: dict[str, Any], entries: list[ArchivedDocument]) -> ArchiveMatch:
    """The best match among entries the caller may see: the exact file first, else its signed revision."""
    by_hash = {entry.sha256: entry for entry in entries}
    for kind, digest in (("exact", data["sha256"]), ("signed_revision", data["signed_revision_sha256"])):
        entry = by_hash.get(digest) if digest else None
        if entry is None:
            continue
        if kind == "exact":
            message = f"matches archive entry {entry.id}"
        else:
            message = f"the file as sealed matches archive entry {entry.id}; bytes were added after the seal"
        return ArchiveMatch(
            matched=True,
            kind=kind,  # type: ignore[arg-type]
            archive_id=str(entry.id),
            invoice_number=entry.invoice_number,
            message=message,
        )
    return ArchiveMatch(matched=False, message=NO_MATCH)


async def verify_document(
    pdf: bytes, company_id: str, inspector: Inspector, session: AsyncSession
) -> VerificationReport:
    """Check `pdf` in the sandbox, then look for it among the archive entries `company_id` is a party of.

    An entry of other companies is never named: the caller only learns there is no match it can see.
    """
    data = await inspector.inspect(pdf)
    hashes = [data["sha256"], data["signed_revision_sha256"]]
    entries = await archive.documents_for_party_by_hash(session, hashes, company_id)
    return build_report(data, archive_match(data, entries))


# --------------------------------------------------------------------------- export bundle


class ChainLinkInfo(BaseModel):
    """The entry's link in the archive's hash chain."""

    sequence: int = Field(description="Position in the chain (1, 2, ...).")
    previous_chain_hash: str = Field(description="Chain hash of the entry before (64 zeros for the first).")
    chain_hash: str = Field(description="This entry's chain hash.")
    formula: str = Field(default=CHAIN_FORMULA, description="How chain_hash is computed.")
    link_recomputes: bool = Field(description="The link recomputes from the archived PDF at export time.")


class BundleEntry(BaseModel):
    """The archive entry the bundle was exported from."""

    archive_id: str
    invoice_id: str
    invoice_number: str
    seller_company_id: str
    buyer_company_id: str
    seller_country: str
    buyer_country: str | None
    signature_level: str
    sealed_at: datetime
    retain_until: date
    pdf_sha256: str
    pdf_size_bytes: int
    xml_sha256: str
    xml_size_bytes: int


class BundleManifest(BaseModel):
    """verification.json of an export bundle."""

    format: str = "factora-archive-bundle/1"
    generated_at: datetime
    entry: BundleEntry
    chain: ChainLinkInfo
    verification: VerificationReport
    files: dict[str, str] = Field(description="Name -> SHA-256 of each other file in the bundle.")


def safe_name(text: str) -> str:
    """A file name from an invoice number: letters, digits, dot, dash and underscore only."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return cleaned[:100] or "invoice"


async def export_bundle(entry: ArchivedDocument, inspector: Inspector) -> tuple[str, bytes]:
    """A zip with the sealed PDF, its XML and verification.json (report and chain link): (file name, bytes)."""
    data = await inspector.inspect(entry.pdf)
    report = build_report(data, archive_match(data, [entry]))
    stem = safe_name(entry.invoice_number)
    pdf_name, xml_name = f"{stem}.pdf", f"{stem}.xml"
    xml_sha256 = hashlib.sha256(entry.xml).hexdigest()
    manifest = BundleManifest(
        generated_at=utcnow(),
        entry=BundleEntry(
            archive_id=str(entry.id),
            invoice_id=entry.invoice_id,
            invoice_number=entry.invoice_number,
            seller_company_id=entry.seller_company_id,
            buyer_company_id=entry.buyer_company_id,
            seller_country=entry.seller_country,
            buyer_country=entry.buyer_country,
            signature_level=entry.signature_level,
            sealed_at=entry.sealed_at,
            retain_until=entry.retain_until,
            pdf_sha256=entry.sha256,
            pdf_size_bytes=len(entry.pdf),
            xml_sha256=xml_sha256,
            xml_size_bytes=len(entry.xml),
        ),
        chain=ChainLinkInfo(
            sequence=entry.sequence,
            previous_chain_hash=entry.previous_chain_hash,
            chain_hash=entry.chain_hash,
            link_recomputes=archive.link_is_consistent(entry),
        ),
        verification=report,
        files={pdf_name: hashlib.sha256(entry.pdf).hexdigest(), xml_name: xml_sha256},
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        # The PDF is stored as is (already compressed); the text files are deflated.
        bundle.writestr(pdf_name, entry.pdf, compress_type=zipfile.ZIP_STORED)
        bundle.writestr(xml_name, entry.xml, compress_type=zipfile.ZIP_DEFLATED)
        bundle.writestr(
            "verification.json", manifest.model_dump_json(indent=2) + "\n", compress_type=zipfile.ZIP_DEFLATED
        )
    return f"{stem}-bundle.zip", buffer.getvalue()
