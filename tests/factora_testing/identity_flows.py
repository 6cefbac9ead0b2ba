"""Identity steps a member takes in end-to-end tests: sign up, confirm, enrol TOTP, sign in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx
import pyotp

TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_\-]+)")


def plain_text(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(preferencelist=("plain",)).get_content()


async def link_token(smtp_catcher, recipient: str, subject_words: tuple[str, ...], pattern=TOKEN_IN_LINK) -> str:  # type: ignore[no-untyped-def]
    """The token of the e-mailed link (matching `pattern`) whose subject has one of `subject_words`."""
    message = await smtp_catcher.wait_for(
        lambda m: (
            recipient in m.get("To", "").lower()
            and any(w in m["Subject"].lower() for w in subject_words)
            and pattern.search(plain_text(m)) is not None
        ),
        timeout=90,
    )
    found = pattern.search(plain_text(message))
    assert found, plain_text(message)
    return found.group(1)


def totp_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * 30)


async def sign_up_and_confirm(api: httpx.AsyncClient, smtp_catcher, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """A new company and its administrator, with the e-mail confirmed from the caught link."""
    signed_up = await api.post(
        "/signup",
        json={
            "company": {
                "legal_name": "Atelier Lumière SARL",
                "country": "FR",
                "vat_id": "FR40303265045",
                "address": {"line1": "12 rue des Lilas", "postcode": "69003", "city": "Lyon"},
                "locale": "fr",
            },
            "user": {"email": email, "full_name": "Camille Martin", "password": password},
        },
    )
    assert signed_up.status_code == 202, signed_up.text
    token = await link_token(smtp_catcher, email, ("confirm", "adresse"))
    assert (await api.post("/signup/verify-email", json={"token": token})).status_code == 200


async def sign_in_with_totp(api: httpx.AsyncClient, email: str, password: str, secret: str, step: int) -> dict:
    first = await api.post("/login", json={"email": email, "password": password})
    assert first.status_code == 200 and first.json()["status"] == "mfa_required", first.text
    second = await api.post(
        "/login/mfa/verify", json={"mfa_token": first.json()["mfa_token"], "code": totp_at_step(secret, step)}
    )
    assert second.status_code == 200, second.text
    return second.json()


async def enrol_totp(api: httpx.AsyncClient, email: str, password: str) -> tuple[str, dict, int]:
    """First sign-in: password, choose the authenticator app, confirm with a code. Returns secret, tokens, step."""
    first = await api.post("/login", json={"email": email, "password": password})
    assert first.status_code == 200 and first.json()["status"] == "mfa_enrolment_required", first.text
    mfa_token = first.json()["mfa_token"]
    setup = await api.post("/login/mfa/enrol", json={"mfa_token": mfa_token, "method": "totp"})
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/") and setup.json()["qr_svg"]
    step = int(time.time() // 30)
    done = await api.post("/login/mfa/enrol/confirm", json={"mfa_token": mfa_token, "code": totp_at_step(secret, step)})
    assert done.status_code == 200, done.text
    assert len(done.json()["recovery_codes"]) == 10
    return secret, done.json(), step


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def dev_token(network, company_id: str, *, rights: str = "", acr: str = "aal1") -> str:  # type: ignore[no-untyped-def]
    """An access token minted by identity's operator command (its real signing key, via its database)."""
    command = [sys.executable, "-m", "identity.manage", "dev-token", "--company", company_id, "--acr", acr]
    if rights:
        command += ["--rights", rights]
    out = subprocess.run(
        command, env={**os.environ, **network.env}, capture_output=True, text=True, check=True, timeout=60
    )
    return out.stdout.strip()


def staff_invitation_token(network, email: str, *, role: str = "agent", name: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Operator set-up (no HTTP API exists for it): `identity.manage create-staff`; the token of its printed link."""
    command = [sys.executable, "-m", "identity.manage", "create-staff", "--email", email, "--role", role]
    if name:
        command += ["--name", name]
    out = subprocess.run(
        command, env={**os.environ, **network.env}, capture_output=True, text=True, check=True, timeout=60
    )
    found = TOKEN_IN_LINK.search(out.stdout)
    assert found, out.stdout
    return found.group(1)
