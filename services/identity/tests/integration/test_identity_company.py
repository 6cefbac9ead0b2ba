"""Company profile, contacts and partner credentials, and the events invoicing builds its read model from."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.envelope import Envelope
from contracts.v1.identity import partner_signing_input

pytestmark = pytest.mark.integration


async def events_of(driver, topic: str, company_id: str) -> list[tuple[dict, Envelope]]:
    return [
        (payload, Envelope.from_headers(headers))
        for payload, headers in await driver.outbox(topic)
        if headers.get("factora_tenant") == company_id
    ]


async def test_profile_changes_are_checked_and_published_with_a_new_version(driver):
    admin = await driver.new_company(country="BE", vat_id="BE0477472701")
    bad = await driver.client.patch("/company", json={"vat_id": "FR40303265045"}, headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["field"] == "company.vat_id"

    changed = await driver.client.patch(
        "/company",
        json={
            "legal_name": "Brasserie du Parc SA",
            "address": {"line1": "Avenue Louise 54", "postcode": "1050", "city": "Bruxelles"},
            "locale": "en",
        },
        headers=admin.headers,
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    [(update, envelope)] = await events_of(driver, "identity.company-updated.v1", admin.company_id)
    assert update["changed"] == ["address_line1", "city", "legal_name", "locale", "postcode"]
    assert update["company"]["legal_name"] == "Brasserie du Parc SA" and update["company"]["locale"] == "en"
    assert update["company"]["address"] == {
        "line1": "Avenue Louise 54",
        "line2": None,
        "postcode": "1050",
        "city": "Bruxelles",
        "region": None,
        "country": "BE",
    }
    assert envelope.subject == admin.company_id and envelope.type == "identity.company-updated.v1"


async def test_contacts_are_managed_apart_from_users_and_each_change_republishes_the_profile(driver):
    admin = await driver.new_company()
    created = await driver.post(
        "/company/contacts",
        {
            "name": "Comptabilité",
            "email": "compta@example.com",
            "phone": "01 23 45 67 89",
            "roles": ["invoice_recipient", "accounts_payable"],
        },
        headers=admin.headers,
    )
    assert created.status_code == 201 and created.json()["phone"] == "+33123456789"
    contact_id = created.json()["id"]
    patched = await driver.client.patch(
        f"/company/contacts/{contact_id}", json={"roles": ["invoice_recipient"]}, headers=admin.headers
    )
    assert patched.json()["roles"] == ["invoice_recipient"]
    bad = await driver.post("/company/contacts", {"name": "X", "roles": ["cook"]}, headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["field"] == "roles.0"
    assert (await driver.client.delete(f"/company/contacts/{contact_id}", headers=admin.headers)).status_code == 204
    assert (await driver.client.get(f"/company/contacts/{contact_id}", headers=admin.headers)).status_code == 404

    updates = [p for p, _ in await events_of(driver, "identity.company-updated.v1", admin.company_id)]
    assert [len(u["company"]["contacts"]) for u in updates] == [1, 1, 0]
    assert updates[0]["company"]["contacts"][0]["email"] == "compta@example.com"
    assert updates[1]["company"]["contacts"][0]["roles"] == ["invoice_recipient"]
    assert [u["company"]["version"] for u in updates] == [2, 3, 4]
    users = [u["email"] for u in (await driver.client.get("/company/users", headers=admin.headers)).json()]
    assert "compta@example.com" not in users


async def test_a_generated_partner_key_is_shown_once_published_and_signs_messages_invoicing_can_verify(driver):
    admin = await driver.new_company()
    registered = await driver.post("/company/partners", {"name": "Our SAP ERP"}, headers=admin.headers)
    assert registered.status_code == 201
    body = registered.json()
    private = serialization.load_pem_private_key(body["private_key_pem"].encode(), password=None)
    listed = (await driver.client.get("/company/partners", headers=admin.headers)).json()
    assert "private_key_pem" not in str(listed) and listed[0]["keys"][0]["key_id"] == body["key"]["key_id"]

    [(event, envelope)] = await events_of(driver, "identity.partner-credential-registered.v1", admin.company_id)
    assert event["partner_id"] == body["partner"]["partner_id"] and event["algorithm"] == "Ed25519"
    assert envelope.subject == body["key"]["key_id"]

    headers = {"ce_type": "invoicing.partner-invoice-submitted.v1", "ce_id": "e-1", "ce_time": "2026-03-02T10:00:00Z"}
    data = partner_signing_input(payload=b'{"x":1}', tenant=admin.company_id, **headers)
    signature = private.sign(data)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    published = base64.urlsafe_b64decode(event["public_key"] + "==")
    Ed25519PublicKey.from_public_bytes(published).verify(signature, data)

    revoked = await driver.post(
        f"/company/partners/{body['partner']['partner_id']}/keys/{body['key']['key_id']}/revoke", headers=admin.headers
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    [(gone, _)] = await events_of(driver, "identity.partner-credential-revoked.v1", admin.company_id)
    assert gone["key_id"] == body["key"]["key_id"]


async def test_a_partner_may_bring_its_own_public_key_and_only_the_administrator_registers_partners(driver):
    admin = await driver.new_company()
    own = Ed25519PrivateKey.generate().public_key()
    pem = own.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    registered = await driver.post(
        "/company/partners", {"name": "Billing tool", "public_key": pem}, headers=admin.headers
    )
    assert registered.status_code == 201 and registered.json()["private_key_pem"] is None
    bad = await driver.post("/company/partners", {"name": "X", "public_key": "bm90IGEga2V5"}, headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["field"] == "public_key"

    partner_manager = await driver.colleague(admin, ["partners"])
    assert (await driver.client.get("/company/partners", headers=partner_manager.headers)).status_code == 200
    refused = await driver.post("/company/partners", {"name": "Mine"}, headers=partner_manager.headers)
    assert refused.status_code == 403
