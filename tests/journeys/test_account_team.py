"""Journeys through the gateway: inviting a collaborator with chosen rights, and handing over the administrator role."""

from __future__ import annotations

import pytest

from factora_testing.identity_flows import bearer, link_token, plain_text
from factora_testing.portal import Member, Portal, accept_invitation_and_enrol, mail_to, new_member, unique_email

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def invite(portal: Portal, admin: Member, email: str, full_name: str, rights: list[str], locale: str) -> dict:
    """My account > Users > Invite: the new user as the users page lists them."""
    async with portal.client("identity") as identity:
        invited = await identity.post(
            "/company/users",
            json={"email": email, "full_name": full_name, "rights": rights, "locale": locale},
            headers=admin.headers,
        )
    assert invited.status_code == 201, invited.text
    return invited.json()


async def test_an_invited_collaborator_has_exactly_the_rights_the_administrator_granted(gateway, smtp_catcher):
    portal = Portal(gateway.url)
    admin = await new_member(portal, smtp_catcher, full_name="Camille Martin")
    email = unique_email("compta", "atelier-lumiere.example")

    # The administrator invites a bookkeeper who may view invoices and manage contacts, nothing else.
    listed = await invite(portal, admin, email, "Jordan Lee", ["invoices:view", "contacts"], "en")
    assert listed["status"] == "invited" and listed["rights"] == ["contacts", "invoices:view"]
    async with portal.client("identity") as identity:
        # "admin" is never granted like a right: the error names the field and the way to do it.
        refused = await identity.post(
            "/company/users",
            json={"email": unique_email(), "full_name": "Nope", "rights": ["admin"]},
            headers=admin.headers,
        )
        assert refused.status_code == 422 and refused.json()["field"] == "rights", refused.text
        assert "admin-transfer" in refused.json()["detail"]

    # The invitation arrives in English (the language chosen for the invitee), naming the inviter and company.
    token = await link_token(smtp_catcher, email, ("has invited you",))
    invitation = await mail_to(smtp_catcher, email, ("has invited you",))
    assert invitation["Subject"] == "Camille Martin has invited you to join Atelier Lumière SARL on Factora"

    # The collaborator chooses a password and enrols an authenticator app at the first sign-in.
    colleague = await accept_invitation_and_enrol(portal, token=token, email=email, full_name="Jordan Lee")
    assert colleague.company_id == admin.company_id
    assert sorted(colleague.tokens["rights"]) == ["contacts", "invoices:view"]

    async with portal.client("identity") as identity, portal.client("invoicing") as invoicing:
        me = await identity.get("/me", headers=colleague.headers)
        assert me.status_code == 200 and me.json()["is_admin"] is False, me.text
        assert me.json()["rights"] == ["contacts", "invoices:view"]

        # Rights they lack: managing users (identity) and buying credits (invoicing) answer 403 naming the right.
        users = await identity.get("/company/users", headers=colleague.headers)
        assert users.status_code == 403 and users.json()["error"] == "missing_right", users.text
        assert "manage_users" in users.json()["detail"]
        billing = await invoicing.get("/billing/balance", headers=colleague.headers)
        assert billing.status_code == 403 and "billing" in billing.text, billing.text
        create = await invoicing.post("/invoices", json={}, headers=colleague.headers)
        assert create.status_code == 403 and "invoices:create" in create.text, create.text

        # Rights they hold: viewing invoices and adding a contact work.
        invoices = await invoicing.get("/invoices", headers=colleague.headers)
        assert invoices.status_code == 200, invoices.text
        contact = await identity.post(
            "/company/contacts",
            json={
                "name": "Service comptabilité fournisseurs",
                "email": "ap@atelier-lumiere.example",
                "roles": ["accounts_payable"],
            },
            headers=colleague.headers,
        )
        assert contact.status_code == 201, contact.text

        # The administrator sees the collaborator active, with those rights and their second factor.
        team = await identity.get("/company/users", headers=admin.headers)
        assert team.status_code == 200, team.text
        row = next(u for u in team.json() if u["email"] == email)
        assert row["status"] == "active" and row["rights"] == ["contacts", "invoices:view"]
        assert row["mfa_methods"] == ["totp"]


async def test_the_administrator_hands_the_role_to_a_colleague_and_both_are_told(gateway, smtp_catcher):
    portal = Portal(gateway.url)
    admin = await new_member(portal, smtp_catcher, full_name="Camille Martin")
    email = unique_email("associee", "atelier-lumiere.example")
    await invite(portal, admin, email, "Louise Bernard", ["invoices:create"], "fr")
    token = await link_token(smtp_catcher, email, ("vous invite",))
    successor = await accept_invitation_and_enrol(portal, token=token, email=email, full_name="Louise Bernard")

    async with portal.client("identity") as identity, portal.client("invoicing") as invoicing:
        # Before: only the administrator reads the audit log.
        denied = await identity.get("/company/audit-log", headers=successor.headers)
        assert denied.status_code == 403 and denied.json()["error"] == "not_admin", denied.text

        # The administrator (signed in moments ago with the second factor) transfers the role,
        # keeping the right to view invoices.
        moved = await identity.post(
            "/company/admin-transfer",
            json={"new_admin_user_id": successor.user_id, "former_admin_rights": ["invoices:view"]},
            headers=admin.headers,
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["id"] == successor.user_id and moved.json()["is_admin"] is True

        # Identity applies it at once, whatever the tokens say.
        former = await identity.get("/me", headers=admin.headers)
        assert former.json()["is_admin"] is False and former.json()["rights"] == ["invoices:view"], former.text
        for path in ("/company/audit-log", "/company/users"):
            refused = await identity.get(path, headers=admin.headers)
            assert refused.status_code == 403, (path, refused.text)
        again = await identity.post(
            "/company/admin-transfer", json={"new_admin_user_id": admin.user_id}, headers=admin.headers
        )
        assert again.status_code == 403 and again.json()["error"] == "not_admin", again.text

        # The other services see it at the next token refresh.
        old_tokens = await identity.post("/token/refresh", json={"refresh_token": admin.tokens["refresh_token"]})
        new_tokens = await identity.post("/token/refresh", json={"refresh_token": successor.tokens["refresh_token"]})
        assert old_tokens.status_code == new_tokens.status_code == 200, (old_tokens.text, new_tokens.text)
        assert old_tokens.json()["rights"] == ["invoices:view"]
        assert {"admin", "manage_users", "billing"} <= set(new_tokens.json()["rights"])
        former_billing = await invoicing.get("/billing/balance", headers=bearer(old_tokens.json()))
        assert former_billing.status_code == 403, former_billing.text
        new_billing = await invoicing.get("/billing/balance", headers=bearer(new_tokens.json()))
        assert new_billing.status_code == 200, new_billing.text

        # The new administrator reads the audit log, which records the transfer.
        log = await identity.get("/company/audit-log", headers=bearer(new_tokens.json()))
        assert log.status_code == 200, log.text
        transfer = next(e for e in log.json() if e["event"] == "admin.transferred")
        assert transfer["actor_id"] == admin.user_id and transfer["user_id"] == successor.user_id

    # Both are told by e-mail, in French.
    for person in (admin, successor):
        alert = await mail_to(smtp_catcher, person.email, ("alerte de sécurité",), body_contains="administration")
        assert "Les droits d'administration de votre société ont été transférés" in plain_text(alert)
