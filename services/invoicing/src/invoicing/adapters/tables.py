"""Invoicing tables: issued invoices and the per-seller number series."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from servicekit.messaging_tables import utcnow


class InvoiceRecord(SQLModel, table=True):
    """One issued invoice or credit note, with its full EN 16931 document."""

    __tablename__ = "invoice"
    __table_args__ = (sa.UniqueConstraint("seller_company_id", "number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seller_company_id: str = Field(index=True)
    buyer_company_id: str = Field(index=True)
    number: str
    type_code: str
    status: str = Field(description="issued | sealed | delivered | sealing_failed | withdrawn")
    currency: str
    payable: Decimal = Field(sa_column=Column(sa.Numeric(18, 2), nullable=False))
    partner_id: str | None = None
    external_id: str | None = None
    archive_id: str | None = None
    document: dict[str, Any] = Field(sa_column=Column(sa.JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))


class NumberSeries(SQLModel, table=True):
    """The next number of a seller's series; locked row by row while issuing, so no gaps."""

    __tablename__ = "number_series"

    seller_company_id: str = Field(primary_key=True)
    series: str = Field(primary_key=True)
    next_value: int = 1
