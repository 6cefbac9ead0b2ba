"""Ready-made example events, for documentation, the local stack's sample command and tests."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from contracts.v1 import PartnerInvoiceSubmitted

SAMPLE_SELLER_ID = "c-sample-seller"
SAMPLE_BUYER_ID = "c-sample-buyer"


def sample_partner_invoice(
    *,
    buyer_email: str = "comptabilite@brasserie-du-parc.example",
    external_id: str | None = None,
    buyer_locale: str = "fr",
) -> PartnerInvoiceSubmitted:
    """A valid French-to-Belgian invoice with two standard-rated lines."""
    today = date.today()
    return PartnerInvoiceSubmitted.model_validate(
        {
            "partner_id": "sample-erp",
            "external_id": external_id or f"ERP-{uuid.uuid4().hex[:10]}",
            "issue_date": today.isoformat(),
            "due_date": (today + timedelta(days=30)).isoformat(),
            "currency": "EUR",
            "purchase_order": "PO-2026-118",
            "seller": {
                "company_id": SAMPLE_SELLER_ID,
                "name": "Atelier Lumière SARL",
                "vat_id": "FR40303265045",
                "address": {"line1": "12 rue des Lilas", "city": "Lyon", "postcode": "69003", "country": "FR"},
                "email": "factures@atelier-lumiere.example",
                "locale": "fr",
            },
            "buyer": {
                "company_id": SAMPLE_BUYER_ID,
                "name": "Brasserie du Parc SA",
                "vat_id": "BE0477472701",
                "address": {"line1": "Avenue Louise 54", "city": "Bruxelles", "postcode": "1050", "country": "BE"},
                "email": buyer_email,
                "locale": buyer_locale,
            },
            "lines": [
                {
                    "description": "Suspension en laiton brossé",
                    "quantity": "4",
                    "unit_price": "189.90",
                    "vat_category": "S",
                    "vat_rate": "20",
                },
                {
                    "description": "Pose et raccordement",
                    "quantity": "3",
                    "unit_code": "HUR",
                    "unit_price": "65.00",
                    "vat_category": "S",
                    "vat_rate": "20",
                },
            ],
        }
    )


def partner_key(event: PartnerInvoiceSubmitted) -> str:
    """Kafka key of a partner submission: keeps one seller's reference on one partition."""
    return f"{event.seller.company_id}:{event.external_id}"
