"""Journeys through the gateway: choosing each second factor, and getting back in through support after losing it."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import time
from pathlib import Path

import pyotp
import pytest

from factora_testing.identity_flows import link_token, plain_text
from factora_testing.portal import (
    DEFAULT_PASSWORD,
    Member,
    Portal,
    mail_to,
    new_member,
    new_staff_member,
    sign_up_and_verify,
    unique_email,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CODE_IN_EMAIL = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)
CODE_IN_SMS = re.compile(r"\b(\d{6})\b")
CASE_LINK = re.compile(r"verify\?token=([A-Za-z0-9_\-]+)")


def token_claims(access_token: str) -> dict:
    """The access token's claims as any service reads them (the signature is the services' business)."""
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Handset:
    """The member's phone on the test stack: notifications' local SMS sink (one JSON line per SMS)."""

    def __init__(self, sink: Path, number: str) -> None:
        self.sink = sink
        self.number = number
        self.seen: set[str] = set()

    def _received(self) -> list[dict]:
        if not self.sink.exists():
            return []
        lines = self.sink.read_text(encoding="utf-8").splitlines()
        return [entry for entry in map(json.loads, filter(None, lines)) if entry["to"] == self.number]

    async def next_code(self, timeout: float = 90) -> tuple[str, str]:  # noqa: ASYNC109 - a polling deadline
        """The code of the next SMS not read yet, and its whole text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self._received():
                if entry["idempotency_key"] not in self.seen:
                    self.seen.add(entry["idempotency_key"])
                    found = CODE_IN_SMS.search(entry["text"])
                    assert found, entry
                    return found.group(1), entry["text"]
            await asyncio.sleep(0.3)
        raise AssertionError(f"no new SMS to {self.number} in {self.sink} after {timeout:.0f} s")


class Mailbox:
    """The member's inbox for e-mailed codes, remembering which messages were read."""

    def __init__(self, smtp_catcher, address: str) -> None:  # type: ignore[no-untyped-def]
        self.catcher = smtp_catcher
        self.address = address
        self.seen: set[str] = set()

    async def next_code(self) -> tuple[str, str]:
        message = await self.catcher.wait_for(
            lambda m: (
                self.address in m.get("To", "").lower()
                and "code de vérification" in m["Subject"].lower()
                and m["Message-ID"] not in self.seen
            ),
            timeout=90,
        )
        self.seen.add(message["Message-ID"])
        found = CODE_IN_EMAIL.search(plain_text(message))
        assert found, plain_text(message)
        return found.group(1), plain_text(message)


@pytest.mark.parametrize("method", ["totp", "email", "sms"])
async def test_a_new_member_chooses_a_second_factor_and_signs_in_with_it(
    method, gateway, running_network, smtp_catcher
):
    portal = Portal(gateway.url)
    email = unique_email(f"mfa-{method}")
    await sign_up_and_verify(portal, smtp_catcher, email=email)
    national = f"06 12 {random.randint(10, 99)} {random.randint(10, 99)} {random.randint(10, 99)}"
    handset = Handset(running_network.state_dir / "sms" / "outbox.jsonl", "+33" + national.replace(" ", "")[1:])
    mailbox = Mailbox(smtp_catcher, email)

    async with portal.client("identity") as identity:
        # First sign-in: the password is right, and the member is asked to choose a second factor.
        first = await identity.post("/login", json={"email": email, "password": DEFAULT_PASSWORD})
        assert first.status_code == 200 and first.json()["status"] == "mfa_enrolment_required", first.text
        assert set(first.json()["methods"]) == {"totp", "sms", "email"}
        mfa_token = first.json()["mfa_token"]

        chosen = {"mfa_token": mfa_token, "method": method}
        if method == "sms":
            # A number that is not a phone is refused, naming the field.
            bad = await identity.post("/login/mfa/enrol", json={**chosen, "phone": "12"})
            assert bad.status_code == 422 and bad.json()["field"] == "phone", bad.text
            chosen["phone"] = national
        setup = await identity.post("/login/mfa/enrol", json=chosen)
        assert setup.status_code == 200 and setup.json()["method"] == method, setup.text

        # The member reads the code where the method puts it: the app, the mailbox or the phone.
        if method == "totp":
            secret = setup.json()["secret"]
            assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")
            assert setup.json()["qr_svg"].startswith("data:image/svg+xml")
            code = pyotp.TOTP(secret).now()
        elif method == "email":
            assert setup.json()["code_sent_to"] and "@" in setup.json()["code_sent_to"]
            code, text = await mailbox.next_code()
            assert "Voici votre code de vérification" in text
        else:
            assert setup.json()["code_sent_to"].endswith(handset.number[-4:])
            code, text = await handset.next_code()
            assert text.startswith("Factora : votre code de vérification est")

        # A wrong code is refused; the right one completes the first sign-in with ten recovery codes.
        wrong = await identity.post(
            "/login/mfa/enrol/confirm", json={"mfa_token": mfa_token, "code": f"{(int(code) + 1) % 1000000:06d}"}
        )
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_code", wrong.text
        done = await identity.post("/login/mfa/enrol/confirm", json={"mfa_token": mfa_token, "code": code})
        assert done.status_code == 200, done.text
        tokens = done.json()
        assert tokens["acr"] == "aal2" and len(tokens["recovery_codes"]) == 10
        assert method in token_claims(tokens["access_token"])["amr"]
        security = await identity.get("/me/mfa", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert security.status_code == 200, security.text
        assert [(f["method"], f["confirmed"]) for f in security.json()["factors"]] == [(method, True)]
        assert security.json()["recovery_codes_left"] == 10
        signed_out = await identity.post("/logout", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert signed_out.status_code == 204, signed_out.text

        # Next sign-in: the chosen method is asked for (an SMS or e-mail code is sent at once).
        again = await identity.post("/login", json={"email": email, "password": DEFAULT_PASSWORD})
        assert again.status_code == 200 and again.json()["status"] == "mfa_required", again.text
        assert again.json()["methods"] == [method, "recovery_code"]
        if method == "totp":
            # The enrolment code's time step was spent: take the next one (identity allows one step of drift).
            code = pyotp.TOTP(secret).at(time.time() + 30)
        elif method == "email":
            code, _ = await mailbox.next_code()
        else:
            code, _ = await handset.next_code()
        verified = await identity.post("/login/mfa/verify", json={"mfa_token": again.json()["mfa_token"], "code": code})
        assert verified.status_code == 200, verified.text
        assert verified.json()["acr"] == "aal2"
        me = await identity.get("/me", headers={"Authorization": f"Bearer {verified.json()['access_token']}"})
        assert me.status_code == 200 and me.json()["email"] == email, me.text


async def test_a_member_who_lost_every_factor_is_reset_by_an_agent_and_enrols_again(
    gateway, running_network, smtp_catcher
):
    portal = Portal(gateway.url)
    member: Member = await new_member(portal, smtp_catcher)
    # Operator set-up: the agent is created with `identity.manage create-staff` (no HTTP API for staff).
    agent = await new_staff_member(portal, running_network)
    agent_headers = agent.headers
    assert token_claims(agent.tokens["access_token"])["acr"] == "aal2"
    assert "support:agent" in agent.tokens["rights"]

    async with portal.client("identity") as identity, portal.client("support") as support:
        # The phone is lost: the member cannot sign in, so they open a case with their e-mail only.
        opened = await support.post(
            "/cases/by-email",
            json={
                "category": "mfa-reset",
                "subject": "Téléphone perdu, plus d'accès",
                "description": "J'ai perdu le téléphone qui porte mon application d'authentification et je "
                "n'ai plus mes codes de secours.",
                "name": member.full_name,
                "email": member.email,
                "locale": "fr",
            },
        )
        assert opened.status_code == 202, opened.text
        reference = opened.json()["reference"]
        assert opened.json()["confirmation_sent_to"] == member.email

        # The case reaches the desk only once the member opens the link e-mailed to that address.
        case_token = await link_token(smtp_catcher, member.email, (reference.lower(), "confirm"), CASE_LINK)
        confirmed = await support.post(f"/cases/{reference}/confirm", headers={"X-Case-Token": case_token})
        assert confirmed.status_code == 200, confirmed.text
        queue = await support.get("/desk/queue", params={"category": "mfa-reset"}, headers=agent_headers)
        assert queue.status_code == 200, queue.text
        assert reference in [c["reference"] for c in queue.json()]

        # The agent cannot approve before recording two identity checks.
        too_early = await support.post(f"/desk/cases/{reference}/mfa-reset/approve", headers=agent_headers)
        assert too_early.status_code == 409, too_early.text
        checks = await support.post(
            f"/desk/cases/{reference}/identity-checks",
            json={
                "checks": [
                    {"kind": "callback-known-phone", "note": "Rappel au numéro du standard connu, identité confirmée."},
                    {"kind": "account-details", "note": "Raison sociale, SIREN et dernière facture cités."},
                ]
            },
            headers=agent_headers,
        )
        assert checks.status_code == 201, checks.text
        approved = await support.post(f"/desk/cases/{reference}/mfa-reset/approve", headers=agent_headers)
        assert approved.status_code == 200, approved.text

        # Identity consumes support.mfa-reset-approved.v1: the next sign-in asks for a new factor.
        for _ in range(120):
            first = await identity.post("/login", json={"email": member.email, "password": member.password})
            if first.status_code == 200 and first.json()["status"] == "mfa_enrolment_required":
                break
            await asyncio.sleep(0.5)
        else:
            pytest.fail(f"the factors were not reset: last answer {first.status_code} {first.text}")
        # The earlier session ended with the reset.
        old = await identity.post("/token/refresh", json={"refresh_token": member.tokens["refresh_token"]})
        assert old.status_code == 401, old.text

        # The member is told by e-mail, and the case page explains the next steps in French.
        alert = await mail_to(smtp_catcher, member.email, ("alerte de sécurité",), body_contains="réinitialisée")
        assert "réinitialisée par notre assistance" in plain_text(alert)
        page = await support.get(f"/cases/{reference}", headers={"X-Case-Token": confirmed.json()["access_token"]})
        assert page.status_code == 200, page.text
        assert page.json()["state"] == "resolved" and page.json()["mfa_reset_approved_at"]
        assert any(m["author"] == "system" for m in page.json()["messages"])

        # The member enrols a new authenticator app and is in again.
        setup = await identity.post("/login/mfa/enrol", json={"mfa_token": first.json()["mfa_token"], "method": "totp"})
        assert setup.status_code == 200, setup.text
        new_secret = setup.json()["secret"]
        assert new_secret != member.totp_secret
        done = await identity.post(
            "/login/mfa/enrol/confirm",
            json={"mfa_token": first.json()["mfa_token"], "code": pyotp.TOTP(new_secret).now()},
        )
        assert done.status_code == 200 and len(done.json()["recovery_codes"]) == 10, done.text
        me = await identity.get("/me", headers={"Authorization": f"Bearer {done.json()['access_token']}"})
        assert me.status_code == 200 and me.json()["id"] == member.user_id, me.text
