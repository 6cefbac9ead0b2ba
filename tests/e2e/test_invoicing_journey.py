"""The invoicing journeys on the real stack: partner invoice to the buyer's approval, and invoice to credit note.

Identity's side (company profiles, partner keys) is published here as identity publishes it, on
its own topics, so invoicing builds its party read model and partner-key table from real events;
the trading relationship is made with invoicing's operator command.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from contracts import catalogue
from contracts.examples import sample_partner_invoice, signed_sample_record
from contracts.topics import identity as identity_topics
from contracts.v1.identity import (
    PartnerCredentialRegistered,
)
from factora_testing.companies import register_company
from factora_testing.kafka_io import publish_event, publish_raw
from factora_testing.operator import run_manage
from factora_testing.records import wait_for_row

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SELLER_RIGHTS = "invoices:create,invoices:view,partners"
BUYER_RIGHTS = "invoices:view"


def token(network, company_id: str, rights: str) -> dict[str, str]:
    minted = run_manage(network, "identity.manage", "dev-token", "--company", company_id, "--rights", rights)
    return {"Authorization": f"Bearer {minted}"}


async def register_partner_key(bootstrap: str, company_id: str, partner_id: str) -> tuple[Ed25519PrivateKey, str]:
    """identity.partner-credential-registered.v1 for a fresh Ed25519 key; the private half stays here."""
    private_key = Ed25519PrivateKey.generate()
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = f"pk-{uuid.uuid4().hex[:16]}"
    event = PartnerCredentialRegistered(
        company_id=company_id,
        partner_id=partner_id,
        partner_name="E2E ERP",
        key_id=key_id,
        public_key=base64.urlsafe_b64encode(public).rstrip(b"=").decode(),
        registered_at=datetime.now(UTC),
    )
    await publish_event(bootstrap, identity_topics.PARTNER_CREDENTIAL_REGISTERED, event, key=key_id, tenant=company_id)
    return private_key, key_id


async def trading_pair(network, bootstrap: str) -> tuple[str, str, str]:
    buyer_email = f"ap-{uuid.uuid4().hex[:8]}@example.com"
    seller = await register_company(bootstrap, "Atelier Lumière SARL", "FR40303265045", "ar@atelier.example")
    buyer = await register_company(bootstrap, "Brasserie du Parc SAS", "FR83404833048", buyer_email)
    for company in (seller, buyer):
        await wait_for_row(network, "SELECT company_id FROM party WHERE company_id = $1", company)
    run_manage(network, "invoicing.manage", "connect", "--supplier", seller, "--buyer", buyer)
    return seller, buyer, buyer_email


async def test_a_partner_invoice_is_issued_sealed_delivered_approved_and_the_supplier_sees_it(
    running_network, kafka_broker, smtp_catcher
):
    bootstrap = kafka_broker.bootstrap
    seller, buyer, buyer_email = await trading_pair(running_network, bootstrap)
    private_key, key_id = await register_partner_key(bootstrap, seller, "e2e-erp")
    await wait_for_row(running_network, "SELECT key_id FROM partner_key WHERE key_id = $1", key_id)
    event = sample_partner_invoice()
    event = event.model_copy(
        update={
            "partner_id": "e2e-erp",
            "seller": event.seller.model_copy(update={"company_id": seller}),
            "buyer": event.buyer.model_copy(
                update={"company_id": buyer, "email": None, "address": event.seller.address}
            ),
        }
    )
    key, headers, value = signed_sample_record(event, private_key=private_key, key_id=key_id)

    await publish_raw(bootstrap, catalogue.PARTNER_INVOICE_SUBMITTED.name, value, key, headers)

    invoice = await wait_for_row(
        running_network,
        "SELECT id, number FROM invoice WHERE external_id = $1 AND status = 'delivered'",
        event.external_id,
    )
    mail = await smtp_catcher.wait_for(lambda m: buyer_email in m.get("To", ""), timeout=90)
    assert invoice["number"] in mail["Subject"]
    base = running_network.service_url("invoicing")
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        path = f"/invoices/{invoice['id']}"
        seen_by_buyer = await client.get(path, headers=token(running_network, buyer, BUYER_RIGHTS))
        assert seen_by_buyer.status_code == 200 and seen_by_buyer.json()["status"] == "delivered"
        history = [h["status"] for h in seen_by_buyer.json()["history"] if h["status"]]
        assert history == ["issued", "sealed", "delivered"]
        approved = await client.put(
            f"{path}/buyer-status",
            json={"status": "approved"},
            headers=token(running_network, buyer, BUYER_RIGHTS),
        )
        assert approved.status_code == 200, approved.text
        seen_by_seller = await client.get(path, headers=token(running_network, seller, SELLER_RIGHTS))
    assert (seen_by_seller.json()["role"], seen_by_seller.json()["buyer_status"]) == ("seller", "approved")


async def test_an_issued_invoice_and_its_credit_note_are_seen_linked_by_the_buyer(
    running_network, kafka_broker, smtp_catcher
):
    seller, buyer, buyer_email = await trading_pair(running_network, kafka_broker.bootstrap)
    seller_auth = token(running_network, seller, SELLER_RIGHTS)
    buyer_auth = token(running_network, buyer, BUYER_RIGHTS)
    line = {"description": "Luminaire", "quantity": "2", "unit_price": "150.00", "vat_rate": "20"}
    async with httpx.AsyncClient(base_url=running_network.service_url("invoicing"), timeout=30) as client:
        created = await client.post(
            "/invoices",
            json={"buyer_company_id": buyer, "payment_terms": "30 jours", "lines": [line]},
            headers=seller_auth,
        )
        assert created.status_code == 201, created.text
        issued = await client.post(f"/invoices/{created.json()['id']}/issue", headers=seller_auth)
        assert issued.status_code == 200, issued.text
        invoice = issued.json()
        credited = await client.post(
            f"/invoices/{invoice['id']}/credit-notes",
            json={"full": True, "reason": "Commande annulée", "issue": True},
            headers=seller_auth,
        )
        assert credited.status_code == 201, credited.text
        credit_note = credited.json()

        as_buyer = (await client.get(f"/invoices/{invoice['id']}", headers=buyer_auth)).json()
        note_as_buyer = (await client.get(f"/invoices/{credit_note['id']}", headers=buyer_auth)).json()
        received = (await client.get("/invoices?role=received", headers=buyer_auth)).json()

    assert [cn["number"] for cn in as_buyer["credit_notes"]] == [credit_note["number"]]
    assert as_buyer["credited_amount"] == invoice["payable"] == "360.00"
    assert note_as_buyer["corrects"]["number"] == invoice["number"] and note_as_buyer["type_code"] == "381"
    assert {i["id"] for i in received["items"]} == {invoice["id"], credit_note["id"]}
    mail = await smtp_catcher.wait_for(
        lambda m: buyer_email in m.get("To", "") and credit_note["number"] in m.get("Subject", ""), timeout=90
    )
    assert invoice["number"] in mail.get_body(preferencelist=("plain",)).get_content()
