"""Ready-made example events, for documentation, the local stack's sample command and tests."""

from __future__ import annotations

import base64
import uuid
from datetime import date, timedelta
from typing import Protocol

from contracts.envelope import TENANT_HEADER, Envelope
from contracts.v1 import PartnerInvoiceSubmitted
from contracts.v1.identity import KEY_ID_HEADER, SIGNATURE_HEADER, partner_signing_input

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


class Ed25519Signer(Protocol):
    """What signing needs of a private key: `cryptography`'s Ed25519PrivateKey fits."""

    def sign(self, data: bytes) -> bytes: ...


def signed_partner_headers(
    payload: bytes, envelope: Envelope, *, private_key: Ed25519Signer, key_id: str
) -> dict[str, str]:
    """Kafka headers of a partner record signed with scheme factora-partner-signature-v1.

    `payload` is the exact record value that will be sent; the envelope must carry the tenant
    (the company the partner publishes for). See `contracts.v1.identity` for the scheme.
    """
    headers = envelope.to_headers()
    if TENANT_HEADER not in headers:
        raise ValueError("a signed partner record needs the tenant (factora_tenant) in its envelope")
    signing_input = partner_signing_input(
        payload=payload,
        ce_type=headers["ce_type"],
        ce_id=headers["ce_id"],
        ce_time=headers["ce_time"],
        tenant=headers[TENANT_HEADER],
    )
    signature = private_key.sign(signing_input)
    headers[SIGNATURE_HEADER] = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    headers[KEY_ID_HEADER] = key_id
    return headers


def signed_sample_record(
    event: PartnerInvoiceSubmitted,
    *,
    private_key: Ed25519Signer,
    key_id: str,
    source: str = "/partners/sample-erp",
    event_id: str | None = None,
) -> tuple[str, dict[str, str], bytes]:
    """(key, headers, value) of a signed submission, ready for a Kafka producer's send."""
    from contracts.topics.invoicing import PARTNER_INVOICE_SUBMITTED

    key = partner_key(event)
    envelope = Envelope.new(
        source=source,
        type=PARTNER_INVOICE_SUBMITTED.schema_name,
        subject=key,
        tenant=event.seller.company_id,
        id=event_id,
    )
    payload = event.model_dump_json().encode()
    return key, signed_partner_headers(payload, envelope, private_key=private_key, key_id=key_id), payload
