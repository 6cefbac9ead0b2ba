"""The part of a stored invoice document that delivering it reads, validated without the rest."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Slim(BaseModel):
    # Stored documents carry many more fields; they are skipped, not validated.
    model_config = ConfigDict(extra="ignore", frozen=True)


class DeliveredParty(_Slim):
    """Seller or buyer as the delivery e-mails name them."""

    company_id: str
    name: str
    # A plain string: the stored document was dumped from a validated InvoiceDocument, whose EmailStr is
    # already normalised (and normalising again returns it unchanged), so checking it again costs for nothing.
    email: str | None = None
    locale: Literal["fr", "en"] = "fr"


class DeliveredTotals(_Slim):
    payable: Decimal


class DeliveredReference(_Slim):
    number: str


class DeliveredDocument(_Slim):
    """The fields of contracts.v1.InvoiceDocument that mark_delivered uses, with the same types."""

    invoice_id: str
    number: str
    type_code: Literal["380", "381"]
    issue_date: date
    due_date: date | None = None
    currency: str
    seller: DeliveredParty
    buyer: DeliveredParty
    totals: DeliveredTotals
    preceding_invoice: DeliveredReference | None = None
