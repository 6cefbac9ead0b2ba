"""Signing use case: seal an issued invoice and archive it, exactly once."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import InvoiceDocument, InvoiceIssued, InvoiceSealed, SealingFailed
from servicekit import consumer
from servicekit.metrics import INVOICES_SEALED, SEALING_FAILURES, after_commit
from servicekit.outbox import add_to_outbox
from signing.adapters import archive
from signing.adapters.tables import ArchivedDocument
from signing.domain import retention

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SealedInvoice:
    """What sealing produced: the signed PDF/A-3, the embedded XML and the PAdES level."""

    pdf: bytes
    xml: bytes
    level: str


class InvoiceSealer(Protocol):
    """Renders an invoice as Factur-X PDF/A-3 and seals it."""

    async def seal_invoice(self, document: InvoiceDocument, locale: str) -> SealedInvoice: ...


class DocumentRejected(Exception):
    """The invoice content cannot be rendered (a data problem, not an outage)."""


@dataclass(frozen=True)
class Context:
    """What the use case needs besides the session."""

    source: str
    sealer: InvoiceSealer


async def prepare_seal(ctx: Context, event: InvoiceIssued, envelope: Envelope) -> SealedInvoice:
    """Render and seal before the batch's transaction: pure work, so every invoice of a batch keeps the pool busy."""
    return await ctx.sealer.seal_invoice(event.invoice, event.invoice.buyer.locale)


async def seal_issued_invoice(ctx: Context, event: InvoiceIssued, envelope: Envelope, session: AsyncSession) -> None:
    """Render, seal and archive the invoice; publish the result through the outbox.

    Idempotent: the inbox skips a redelivered envelope, and an invoice already archived
    (the same invoice issued again under a new envelope) is not sealed a second time;
    the unique invoice_id column settles a race between two consumers.
    """
    document = event.invoice
    if await archive.find_by_invoice(session, document.invoice_id):
        log.info("invoice %s already archived; nothing to do", document.invoice_id)
        return
    # Sealed ahead, side by side with the rest of the batch (prepare_seal), when consumed in a batch.
    ahead = consumer.prepared()
    try:
        sealed = await (ahead if ahead is not None else ctx.sealer.seal_invoice(document, document.buyer.locale))
    except DocumentRejected as exc:
        after_commit(session, SEALING_FAILURES.labels("render").inc)
        add_to_outbox(
            session,
            catalogue.SEALING_FAILED,
            SealingFailed(invoice_id=document.invoice_id, reason=str(exc), retryable=False),
            source=ctx.source,
            key=document.invoice_id,
            tenant=document.seller.company_id,
        )
        return
    entry = await archive.append(
        session,
        ArchivedDocument(
            invoice_id=document.invoice_id,
            invoice_number=document.number,
            seller_company_id=document.seller.company_id,
            buyer_company_id=document.buyer.company_id,
            seller_country=document.seller.address.country,
            buyer_country=document.buyer.address.country,
            pdf=sealed.pdf,
            xml=sealed.xml,
            sha256=hashlib.sha256(sealed.pdf).hexdigest(),
            previous_chain_hash="",
            chain_hash="",
            sequence=0,
            signature_level=sealed.level,
            retain_until=retention.retain_until(
                document.issue_date, document.seller.address.country, document.buyer.address.country
            ),
        ),
    )
    after_commit(session, INVOICES_SEALED.inc)
    add_to_outbox(
        session,
        catalogue.INVOICE_SEALED,
        InvoiceSealed(
            invoice_id=document.invoice_id,
            archive_id=str(entry.id),
            seller_company_id=entry.seller_company_id,
            buyer_company_id=entry.buyer_company_id,
            sha256=entry.sha256,
            size_bytes=len(entry.pdf),
            sealed_at=entry.sealed_at,
            signature_level=entry.signature_level,
            document_ref=f"/archive/documents/{entry.id}",
            xml_sha256=hashlib.sha256(entry.xml).hexdigest(),
            xml_size_bytes=len(entry.xml),
            archive_sequence=entry.sequence,
            chain_hash=entry.chain_hash,
            retain_until=entry.retain_until,
        ),
        source=ctx.source,
        key=document.invoice_id,
        tenant=document.seller.company_id,
    )
