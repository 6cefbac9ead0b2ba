"""Signing events: sealed and archived documents, sealing failures."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from contracts.v1.base import Event


class InvoiceSealed(Event):
    """The invoice was rendered as PDF/A-3 (Factur-X), sealed (PAdES) and archived."""

    invoice_id: str = Field(description="Factora invoice id.")
    archive_id: str = Field(description="Id of the archive entry holding the sealed PDF.")
    seller_company_id: str = Field(description="Seller company id.")
    buyer_company_id: str = Field(description="Buyer company id.")
    sha256: str = Field(description="SHA-256 (hex) of the sealed PDF.")
    size_bytes: int = Field(description="Size of the sealed PDF in bytes.")
    sealed_at: datetime = Field(description="Signing time.")
    signature_level: str = Field(description="PAdES level reached: B-B or B-T.")
    document_ref: str = Field(
        description="Path of the document on the signing API, e.g. /archive/documents/{archive_id}."
    )
    xml_sha256: str | None = Field(default=None, description="SHA-256 (hex) of the embedded CII XML.")
    xml_size_bytes: int | None = Field(default=None, description="Size of the embedded CII XML in bytes.")
    archive_sequence: int | None = Field(default=None, description="Position of the entry in the archive's hash chain.")
    chain_hash: str | None = Field(default=None, description="Chain hash of the archive entry (SHA-256, hex).")
    retain_until: date | None = Field(
        default=None, description="Last day the archive keeps the document (retention of the parties' countries)."
    )


class SealingFailed(Event):
    """The invoice could not be rendered or sealed."""

    invoice_id: str = Field(description="Factora invoice id.")
    reason: str = Field(description="What went wrong, for operators.")
    retryable: bool = Field(description="Whether re-issuing the same invoice may succeed.")
