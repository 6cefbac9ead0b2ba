"""Invoicing tables: invoices and drafts, number series, parties, partner keys, relationships, credits, audit."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from servicekit.messaging_tables import utcnow


def _json(nullable: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_column=Column(sa.JSON, nullable=nullable))


def _moment(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))


def _amount(default: Decimal | None = None) -> Any:
    if default is None:
        return Field(sa_column=Column(sa.Numeric(18, 2), nullable=False))
    return Field(default=default, sa_column=Column(sa.Numeric(18, 2), nullable=False, server_default=str(default)))


class InvoiceRecord(SQLModel, table=True):
    """One invoice or credit note, from draft to archive, with its EN 16931 document and validation report."""

    __tablename__ = "invoice"
    __table_args__ = (sa.UniqueConstraint("seller_company_id", "number"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seller_company_id: str = Field(index=True)
    buyer_company_id: str = Field(index=True)
    number: str | None = None
    type_code: str
    status: str = Field(description="draft | issued | sealed | delivered | sealing_failed | withdrawn")
    currency: str
    payable: Decimal = _amount()
    partner_id: str | None = None
    external_id: str | None = None
    archive_id: str | None = None
    document: dict[str, Any] | None = _json(nullable=True)
    content: dict[str, Any] | None = _json(nullable=True)
    validation_report: dict[str, Any] | None = _json(nullable=True)
    source: str = "partner"
    issue_date: date | None = None
    buyer_status: str | None = None
    buyer_status_reason: str | None = None
    buyer_status_at: datetime | None = _moment(nullable=True)
    corrects_invoice_id: uuid.UUID | None = Field(default=None, index=True)
    credited_amount: Decimal = _amount(Decimal("0"))
    issued_at: datetime | None = _moment(nullable=True)
    sealed_at: datetime | None = _moment(nullable=True)
    delivered_at: datetime | None = _moment(nullable=True)
    withdrawn_at: datetime | None = _moment(nullable=True)
    withdrawn_reason: str | None = None
    retain_until: date | None = None
    created_by: str | None = None
    created_at: datetime = _moment()
    updated_at: datetime = _moment()


class NumberSeries(SQLModel, table=True):
    """The next number of a seller's series; locked row by row while issuing, so no gaps."""

    __tablename__ = "number_series"

    seller_company_id: str = Field(primary_key=True)
    series: str = Field(primary_key=True)
    next_value: int = 1


class InvoiceEvent(SQLModel, table=True):
    """The history of an invoice: every status change, who made it and why."""

    __tablename__ = "invoice_event"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    invoice_id: uuid.UUID = Field(index=True)
    status: str | None = None
    buyer_status: str | None = None
    reason: str | None = None
    changed_by: str = Field(description="seller | buyer | network")
    actor_user_id: str | None = None
    at: datetime = _moment()


class PartyRecord(SQLModel, table=True):
    """Read model of a member company, from identity's company events (the newest version wins)."""

    __tablename__ = "party"

    company_id: str = Field(primary_key=True)
    legal_name: str
    country: str
    vat_id: str | None = None
    tax_id: str | None = None
    address: dict[str, Any] = _json()
    locale: str = "fr"
    contacts: list[dict[str, Any]] = _json()
    version: int
    registered_at: datetime | None = _moment(nullable=True)
    updated_at: datetime = _moment()


class PartnerKeyRecord(SQLModel, table=True):
    """A partner system's Ed25519 public key, from identity's partner-credential events."""

    __tablename__ = "partner_key"

    key_id: str = Field(primary_key=True)
    company_id: str = Field(index=True)
    partner_id: str
    partner_name: str | None = None
    algorithm: str = "Ed25519"
    public_key: str | None = None
    registered_at: datetime | None = _moment(nullable=True)
    revoked_at: datetime | None = _moment(nullable=True)
    revoked_reason: str | None = None


class Relationship(SQLModel, table=True):
    """A trading connection: the supplier may invoice the buyer once it is active."""

    __tablename__ = "relationship"
    __table_args__ = (sa.UniqueConstraint("supplier_company_id", "buyer_company_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    supplier_company_id: str = Field(index=True)
    buyer_company_id: str = Field(index=True)
    status: str = Field(description="requested | active | declined | ended")
    requested_by: str = Field(description="supplier | buyer | invitation | operator")
    message: str | None = None
    created_at: datetime = _moment()
    updated_at: datetime = _moment()
    accepted_at: datetime | None = _moment(nullable=True)


class Invitation(SQLModel, table=True):
    """A buyer's invitation code for a supplier to connect; stored hashed, single use, expiring."""

    __tablename__ = "invitation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    buyer_company_id: str = Field(index=True)
    code_hash: str = Field(unique=True)
    note: str | None = None
    created_by: str | None = None
    created_at: datetime = _moment()
    expires_at: datetime = _moment()
    used_at: datetime | None = _moment(nullable=True)
    used_by_company_id: str | None = None


class CreditAccount(SQLModel, table=True):
    """A company's transaction credits: one is used per invoice or credit note issued."""

    __tablename__ = "credit_account"

    company_id: str = Field(primary_key=True)
    balance: int = 0
    created_at: datetime = _moment()
    updated_at: datetime = _moment()


class CreditMovement(SQLModel, table=True):
    """Every change of a balance: welcome credits, purchases, documents issued."""

    __tablename__ = "credit_movement"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    company_id: str = Field(index=True)
    delta: int
    balance_after: int
    kind: str = Field(description="welcome | purchase | issue")
    invoice_id: uuid.UUID | None = None
    purchase_id: uuid.UUID | None = None
    at: datetime = _moment()


class Purchase(SQLModel, table=True):
    """A purchase of a credit pack, from payment authorisation to receipt."""

    __tablename__ = "purchase"
    __table_args__ = (sa.UniqueConstraint("company_id", "idempotency_key"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    company_id: str = Field(index=True)
    user_id: str | None = None
    idempotency_key: str
    pack_id: str
    credits: int
    net_amount: Decimal = _amount()
    vat_rate: Decimal = Field(sa_column=Column(sa.Numeric(5, 2), nullable=False))
    vat_amount: Decimal = _amount()
    amount: Decimal = _amount()
    currency: str
    payment_method: str
    status: str = Field(description="pending | paid | declined")
    provider_ref: str | None = None
    decline_code: str | None = None
    decline_reason: str | None = None
    receipt_number: str | None = None
    created_at: datetime = _moment()
    completed_at: datetime | None = _moment(nullable=True)


class AuditRecord(SQLModel, table=True):
    """Sensitive actions (withdrawals, purchases): who, what, when, how strongly authenticated."""

    __tablename__ = "audit_log"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    company_id: str = Field(index=True)
    user_id: str | None = None
    action: str
    subject_id: str | None = None
    assurance: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))
    at: datetime = _moment()
