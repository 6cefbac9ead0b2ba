"""Journey through the gateway: a company manages its contacts, which no other company can see or touch."""

from __future__ import annotations

import pytest

from factora_testing.portal import Portal, french_company, new_member

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_a_company_manages_its_contacts_and_another_company_cannot_reach_them(gateway, smtp_catcher):
    portal = Portal(gateway.url)
    atelier = await new_member(portal, smtp_catcher)
    rival = await new_member(
        portal, smtp_catcher, company=french_company("Menuiserie Dubois SAS"), full_name="Paul Dubois"
    )
    async with portal.client("identity") as identity:
        # Create: the phone typed the French way is kept in international form, the roles sorted.
        created = await identity.post(
            "/company/contacts",
            json={
                "name": " Service comptabilité fournisseurs ",
                "email": "compta@atelier-lumiere.example",
                "phone": "04 78 12 34 56",
                "roles": ["invoice_recipient", "accounts_payable"],
            },
            headers=atelier.headers,
        )
        assert created.status_code == 201, created.text
        contact = created.json()
        assert contact["name"] == "Service comptabilité fournisseurs"
        assert contact["phone"] == "+33478123456"
        assert contact["roles"] == ["accounts_payable", "invoice_recipient"] and contact["locale"] == "fr"
        path = f"/company/contacts/{contact['id']}"

        # A contact without a role, or with a number that is not a phone, is refused naming the field.
        no_role = await identity.post("/company/contacts", json={"name": "X", "roles": []}, headers=atelier.headers)
        assert no_role.status_code == 422 and no_role.json()["field"] == "roles", no_role.text
        bad_phone = await identity.post(
            "/company/contacts", json={"name": "X", "phone": "12", "roles": ["other"]}, headers=atelier.headers
        )
        assert bad_phone.status_code == 422 and bad_phone.json()["field"] == "phone", bad_phone.text

        # List and read.
        listed = await identity.get("/company/contacts", headers=atelier.headers)
        assert listed.status_code == 200 and [c["id"] for c in listed.json()] == [contact["id"]], listed.text
        read = await identity.get(path, headers=atelier.headers)
        assert read.status_code == 200 and read.json() == contact, read.text

        # Update: the new e-mail and language are kept, the rest unchanged.
        updated = await identity.patch(
            path, json={"email": "factures@atelier-lumiere.example", "locale": "en"}, headers=atelier.headers
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["email"] == "factures@atelier-lumiere.example" and updated.json()["locale"] == "en"
        assert updated.json()["phone"] == contact["phone"] and updated.json()["roles"] == contact["roles"]

        # Another company sees nothing: its list is empty and the contact's id answers 404 to every verb.
        theirs = await identity.get("/company/contacts", headers=rival.headers)
        assert theirs.status_code == 200 and theirs.json() == [], theirs.text
        for verb, kwargs in (("GET", {}), ("PATCH", {"json": {"name": "Piraté"}}), ("DELETE", {})):
            answer = await identity.request(verb, path, headers=rival.headers, **kwargs)
            assert answer.status_code == 404 and answer.json()["error"] == "not_found", (verb, answer.text)
        unchanged = await identity.get(path, headers=atelier.headers)
        assert unchanged.json()["name"] == "Service comptabilité fournisseurs", unchanged.text

        # Delete: gone from the list and from its address.
        deleted = await identity.delete(path, headers=atelier.headers)
        assert deleted.status_code == 204, deleted.text
        assert (await identity.get(path, headers=atelier.headers)).status_code == 404
        assert (await identity.get("/company/contacts", headers=atelier.headers)).json() == []
