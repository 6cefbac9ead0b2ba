"""Journeys through the gateway: a member who forgot the password, and one who forgot the login."""

from __future__ import annotations

import random

import pytest

from factora_testing.identity_flows import link_token, plain_text
from factora_testing.portal import Portal, mail_to, new_member, unique_email

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NEW_PASSWORD = "un héron gris pêche sous le pont de Saône"


async def test_a_member_who_forgot_the_password_chooses_a_new_one_from_the_emailed_link(gateway, smtp_catcher):
    portal = Portal(gateway.url)
    member = await new_member(portal, smtp_catcher)
    stranger = unique_email("inconnu")
    async with portal.client("identity") as identity:
        # The sign-in page's "forgotten password": a known and an unknown address get the same answer.
        known = await identity.post("/password/forgot", json={"email": member.email})
        unknown = await identity.post("/password/forgot", json={"email": stranger})
        assert known.status_code == unknown.status_code == 202, (known.text, unknown.text)
        assert known.json() == unknown.json()

        # The link arrives in the member's mailbox, in French (the company's language).
        token = await link_token(smtp_catcher, member.email, ("réinitialisation de votre mot de passe",))

        # A password from the common list is refused, naming the field and the rule; the link stays usable.
        weak = await identity.post("/password/reset", json={"token": token, "new_password": "motdepasse2024!"})
        assert weak.status_code == 422, weak.text
        assert weak.json()["field"] == "new_password" and weak.json()["error"] == "common_password", weak.text

        reset = await identity.post("/password/reset", json={"token": token, "new_password": NEW_PASSWORD})
        assert reset.status_code == 200 and reset.json()["status"] == "password_changed", reset.text
        # The link is single-use.
        again = await identity.post("/password/reset", json={"token": token, "new_password": NEW_PASSWORD + "!"})
        assert again.status_code == 400 and again.json()["error"] == "invalid_or_expired_link", again.text

        # Every session ended: the refresh token of the earlier sign-in no longer works.
        refreshed = await identity.post("/token/refresh", json={"refresh_token": member.tokens["refresh_token"]})
        assert refreshed.status_code == 401, refreshed.text

        # The old password is refused like any wrong password; the new one still needs the second factor.
        old = await identity.post("/login", json={"email": member.email, "password": member.password})
        assert old.status_code == 401 and old.json()["error"] == "invalid_credentials", old.text
    member.password = NEW_PASSWORD
    tokens = await member.sign_in(portal)
    assert tokens["acr"] == "aal2" and tokens["user_id"] == member.user_id

    # The member is told their password changed; nobody wrote to the unknown address.
    alert = await mail_to(smtp_catcher, member.email, ("alerte de sécurité",), body_contains="mot de passe")
    assert "Le mot de passe de votre compte a été modifié" in plain_text(alert)
    assert not [m for m in smtp_catcher.messages() if stranger in m.get("To", "").lower()]


async def test_a_member_who_forgot_the_login_gets_a_reminder_from_the_phone_number(gateway, smtp_catcher):
    portal = Portal(gateway.url)
    national = f"06 12 {random.randint(10, 99)} {random.randint(10, 99)} {random.randint(10, 99)}"
    member = await new_member(portal, smtp_catcher, phone=national.replace(" ", ""), full_name="Inès Garnier")
    async with portal.client("identity") as identity:
        # Only the phone number is remembered, typed the French way; an unknown number gets the same answer.
        asked = await identity.post("/username/forgot", json={"phone": national, "country": "FR"})
        nobody = await identity.post("/username/forgot", json={"phone": "06 99 00 00 01", "country": "FR"})
        assert asked.status_code == nobody.status_code == 202, (asked.text, nobody.text)
        assert asked.json() == nobody.json()

        # Neither an address nor a phone: the error names what to give.
        empty = await identity.post("/username/forgot", json={})
        assert empty.status_code == 422 and empty.json()["field"] == "email", empty.text

    # The reminder goes to the account's own address, in its language, and names the login.
    reminder = await mail_to(smtp_catcher, member.email, ("votre identifiant factora",))
    text = plain_text(reminder)
    assert "Bonjour Inès Garnier" in text
    assert member.email in text
    # The member can sign in with the login they were reminded of.
    assert (await member.sign_in(portal))["user_id"] == member.user_id
