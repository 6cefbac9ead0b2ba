"""The archive: append sealed documents to a SHA-256 hash chain, read them back for their parties."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import or_
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from signing.adapters.tables import GENESIS_HASH, ArchiveChainHead, ArchivedDocument


def chain_link(previous_chain_hash: str, document_sha256: str, archive_id: uuid.UUID, sequence: int) -> str:
    """The chain hash of an entry: changing any earlier entry changes every later one."""
    material = f"{previous_chain_hash}|{sequence}|{archive_id}|{document_sha256}".encode()
    return hashlib.sha256(material).hexdigest()


async def append(session: AsyncSession, entry: ArchivedDocument) -> ArchivedDocument:
    """Link `entry` after the current head and store it, in the caller's transaction."""
    await session.exec(
        insert(ArchiveChainHead).values(id=1, sequence=0, chain_hash=GENESIS_HASH).on_conflict_do_nothing()
    )
    head = (await session.exec(select(ArchiveChainHead).where(ArchiveChainHead.id == 1).with_for_update())).one()
    entry.sequence = head.sequence + 1
    entry.previous_chain_hash = head.chain_hash
    entry.chain_hash = chain_link(head.chain_hash, entry.sha256, entry.id, entry.sequence)
    head.sequence = entry.sequence
    head.chain_hash = entry.chain_hash
    session.add(head)
    session.add(entry)
    return entry


async def find_by_invoice(session: AsyncSession, invoice_id: str) -> ArchivedDocument | None:
    """The archive entry of an invoice, if it was sealed already."""
    return (await session.exec(select(ArchivedDocument).where(ArchivedDocument.invoice_id == invoice_id))).first()


async def document_for_party(session: AsyncSession, archive_id: uuid.UUID, company_id: str) -> ArchivedDocument | None:
    """An entry only if the company is its seller or buyer (anyone else gets nothing: 404)."""
    return (
        await session.exec(
            select(ArchivedDocument).where(
                ArchivedDocument.id == archive_id,
                or_(ArchivedDocument.seller_company_id == company_id, ArchivedDocument.buyer_company_id == company_id),
            )
        )
    ).first()


async def documents_for_party_by_hash(
    session: AsyncSession, sha256s: list[str], company_id: str
) -> list[ArchivedDocument]:
    """Entries whose PDF has one of these SHA-256 digests, among those the company is a party of."""
    wanted = [h for h in dict.fromkeys(sha256s) if h]
    if not wanted:
        return []
    rows = await session.exec(
        select(ArchivedDocument)
        .where(
            ArchivedDocument.sha256.in_(wanted),  # type: ignore[attr-defined]
            or_(ArchivedDocument.seller_company_id == company_id, ArchivedDocument.buyer_company_id == company_id),
        )
        .order_by(ArchivedDocument.sequence)
    )
    return list(rows)


def link_is_consistent(entry: ArchivedDocument) -> bool:
    """This entry's own link recomputes from its stored PDF (the whole chain: verify_chain)."""
    pdf_hash = hashlib.sha256(entry.pdf).hexdigest()
    expected = chain_link(entry.previous_chain_hash, pdf_hash, entry.id, entry.sequence)
    return pdf_hash == entry.sha256 and expected == entry.chain_hash


async def verify_chain(session: AsyncSession) -> list[int]:
    """Sequences whose stored links do not recompute (empty list = archive intact)."""
    broken: list[int] = []
    previous = GENESIS_HASH
    rows = await session.exec(select(ArchivedDocument).order_by(ArchivedDocument.sequence))
    for row in rows:
        pdf_hash = hashlib.sha256(row.pdf).hexdigest()
        expected = chain_link(previous, pdf_hash, row.id, row.sequence)
        if row.previous_chain_hash != previous or row.chain_hash != expected or pdf_hash != row.sha256:
            broken.append(row.sequence)
        previous = row.chain_hash
    return broken
