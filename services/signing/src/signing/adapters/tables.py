"""Signing tables: the archive of sealed documents and the head of its hash chain."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from servicekit.messaging_tables import utcnow

GENESIS_HASH = "0" * 64


class ArchivedDocument(SQLModel, table=True):
    """One sealed invoice: the PDF/A-3 as sealed, its XML, and its link in the hash chain."""

    __tablename__ = "archived_document"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    invoice_id: str = Field(unique=True)
    invoice_number: str
    seller_company_id: str = Field(index=True)
    buyer_company_id: str = Field(index=True)
    seller_country: str
    buyer_country: str | None = Field(default=None, description="Buyer's country (unknown for entries before 0002).")
    pdf: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))
    xml: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))
    sha256: str = Field(index=True)
    previous_chain_hash: str
    chain_hash: str
    sequence: int = Field(unique=True)
    signature_level: str
    sealed_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    # Kept at least until this day; the database refuses to delete the row before (migration 0002).
    retain_until: date = Field(sa_column=Column(sa.Date, nullable=False))


class ArchiveChainHead(SQLModel, table=True):
    """The last link of the chain; locked while appending so links never fork."""

    __tablename__ = "archive_chain_head"

    id: int = Field(default=1, primary_key=True)
    sequence: int = 0
    chain_hash: str = GENESIS_HASH
