"""A member who lost every factor gets back in through support, on the real stack.

identity, support and notifications run as processes on a real Kafka broker, PostgreSQL and SMTP
catcher: the case is opened without signing in, confirmed from the e-mailed link, approved by an
agent after identity checks; identity consumes the approval, and the member enrols again.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest

from factora_testing.identity_flows import (
    bearer,
    dev_token,
    enrol_totp,
    link_token,
    sign_in_with_totp,
    sign_up_and_confirm,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "la barque verte du lac d'Annecy"
CASE_LINK = re.compile(r"verify\?token=([A-Za-z0-9_\-]+)")


async def test_lost_factors_are_reset_by_an_agent_and_the_member_enrols_again(running_network, smtp_catcher):
    email = f"gerant-{uuid.uuid4().hex[:8]}@atelier-lumiere.example"
    identity = httpx.AsyncClient(base_url=running_network.service_url("identity"), timeout=30)
    support = httpx.AsyncClient(base_url=running_network.service_url("support"), timeout=30)
    async with identity, support:
        await sign_up_and_confirm(identity, smtp_catcher, email, PASSWORD)
        secret, _, step = await enrol_totp(identity, email, PASSWORD)
        await sign_in_with_totp(identity, email, PASSWORD, secret, step + 1)

        # The phone is lost: the member cannot sign in, so they open a case with their e-mail only.
        opened = await support.post(
            "/cases/by-email",
            json={
                "category": "mfa-reset",
                "subject": "Téléphone perdu, plus d'accès",
                "description": "J'ai perdu le téléphone qui porte mon application d'authentification et je "
                "n'ai plus mes codes de secours.",
                "name": "Camille Martin",
                "email": email,
                "locale": "fr",
            },
        )
        assert opened.status_code == 202, opened.text
        reference = opened.json()["reference"]
        case_token = await link_token(smtp_catcher, email, (reference.lower(), "confirm", "vérif"), CASE_LINK)
        confirmed = await support.post(f"/cases/{reference}/confirm", headers={"X-Case-Token": case_token})
        assert confirmed.status_code == 200, confirmed.text

        # An agent (staff, signed in with a second factor) records two checks, then approves.
        agent = {
            "Authorization": f"Bearer {dev_token(running_network, 'factora-staff', rights='support:agent', acr='aal2')}"
        }
        too_early = await support.post(f"/desk/cases/{reference}/mfa-reset/approve", headers=agent)
        assert too_early.status_code == 409, too_early.text
        checks = await support.post(
            f"/desk/cases/{reference}/identity-checks",
            json={
                "checks": [
                    {"kind": "callback-known-phone", "note": "Rappel au numéro du standard connu, identité confirmée."},
                    {
                        "kind": "account-details",
                        "note": "Raison sociale, SIREN et dernière facture cités correctement.",
                    },
                ]
            },
            headers=agent,
        )
        assert checks.status_code == 201, checks.text
        approved = await support.post(f"/desk/cases/{reference}/mfa-reset/approve", headers=agent)
        assert approved.status_code == 200, approved.text

        # Identity consumes support.mfa-reset-approved.v1: the next sign-in asks for a new factor.
        for _ in range(120):
            first = await identity.post("/login", json={"email": email, "password": PASSWORD})
            if first.status_code == 200 and first.json()["status"] == "mfa_enrolment_required":
                break
            await asyncio.sleep(0.5)
        else:
            pytest.fail(f"the factors were not reset: last answer {first.status_code} {first.text}")
        new_secret, tokens, _ = await enrol_totp(identity, email, PASSWORD)
        assert new_secret != secret
        assert (await identity.get("/me", headers=bearer(tokens))).status_code == 200
