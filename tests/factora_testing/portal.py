"""A member's view of Factora through the gateway: API clients per service, and a signed-up member with MFA."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from factora_testing.identity_flows import (
    bearer,
    enrol_totp,
    link_token,
    plain_text,
    staff_invitation_token,
    totp_at_step,
)

DEFAULT_PASSWORD = "la barque verte du lac d'Annecy"


def french_company(legal_name: str = "Atelier Lumière SARL") -> dict[str, Any]:
    """A valid French company profile for POST /signup (VAT ids need not be unique)."""
    return {
        "legal_name": legal_name,
        "country": "FR",
        "vat_id": "FR40303265045",
        "address": {"line1": "12 rue des Lilas", "postcode": "69003", "city": "Lyon"},
        "locale": "fr",
    }


class Portal:
    """What a browser or the portal's front end reaches: every service only at {gateway}/api/<service>."""

    def __init__(self, gateway_url: str) -> None:
        self.url = gateway_url.rstrip("/")

    def base_url(self, service: str) -> str:
        """Where the gateway exposes a service's API."""
        return f"{self.url}/api/{service}"

    def client(self, service: str, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx.AsyncClient for one service behind the gateway (use it in `async with`)."""
        kwargs.setdefault("timeout", 60)
        # A developer's HTTP(S)_PROXY must not divert local calls.
        kwargs.setdefault("trust_env", False)
        return httpx.AsyncClient(base_url=self.base_url(service), **kwargs)


@dataclass
class Member:
    """A company administrator (or collaborator) who can sign in with password and authenticator app."""

    email: str
    password: str
    full_name: str
    company_id: str
    user_id: str
    totp_secret: str
    tokens: dict[str, Any]
    recovery_codes: list[str] = field(default_factory=list)
    last_totp_step: int = 0

    @classmethod
    def enrolled(
        cls, email: str, password: str, full_name: str, *, secret: str, tokens: dict[str, Any], step: int
    ) -> Member:
        """The member as identity sees them right after enrolling their authenticator app."""
        return cls(
            email=email,
            password=password,
            full_name=full_name,
            company_id=tokens["company_id"],
            user_id=tokens["user_id"],
            totp_secret=secret,
            tokens=tokens,
            recovery_codes=list(tokens.get("recovery_codes") or []),
            last_totp_step=step,
        )

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header with the current access token."""
        return bearer(self.tokens)

    async def next_totp_code(self) -> str:
        """A code the authenticator shows now that identity has not seen yet (it refuses a replayed step)."""
        step = max(int(time.time() // 30), self.last_totp_step + 1)
        # Identity accepts one step of drift ahead; past that, wait for the clock to catch up.
        wait = (step - 1) * 30 - time.time()
        if wait > 0:
            await asyncio.sleep(wait + 0.5)
        self.last_totp_step = step
        return totp_at_step(self.totp_secret, step)

    async def sign_in(self, portal: Portal) -> dict[str, Any]:
        """A fresh sign-in (password, then a TOTP code); the new tokens replace the old ones."""
        async with portal.client("identity") as identity:
            first = await identity.post("/login", json={"email": self.email, "password": self.password})
            assert first.status_code == 200 and first.json()["status"] == "mfa_required", first.text
            second = await identity.post(
                "/login/mfa/verify",
                json={"mfa_token": first.json()["mfa_token"], "code": await self.next_totp_code()},
            )
            assert second.status_code == 200, second.text
        self.tokens = second.json()
        return self.tokens


async def mail_to(
    smtp_catcher,  # type: ignore[no-untyped-def]
    recipient: str,
    subject_words: tuple[str, ...],
    *,
    body_contains: str = "",
    timeout: float = 90,  # noqa: ASYNC109 - the catcher's polling deadline
):  # type: ignore[no-untyped-def]
    """The first caught e-mail to `recipient` with one of `subject_words` in its subject (and `body_contains`)."""
    return await smtp_catcher.wait_for(
        lambda m: (
            recipient.lower() in m.get("To", "").lower()
            and any(w.lower() in m["Subject"].lower() for w in subject_words)
            and body_contains in plain_text(m)
        ),
        timeout=timeout,
    )


def unique_email(prefix: str = "gerant", domain: str = "atelier-lumiere.example") -> str:
    """An address no earlier test used (the catcher's mailbox is shared by the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}@{domain}"


async def sign_up_and_verify(
    portal: Portal,
    smtp_catcher,  # type: ignore[no-untyped-def]
    *,
    email: str,
    password: str = DEFAULT_PASSWORD,
    full_name: str = "Camille Martin",
    company: dict[str, Any] | None = None,
    locale: str | None = None,
    phone: str | None = None,
) -> None:
    """POST /signup, then confirm the address from the link e-mailed to it."""
    user: dict[str, Any] = {"email": email, "full_name": full_name, "password": password}
    if locale:
        user["locale"] = locale
    if phone:
        user["phone"] = phone
    async with portal.client("identity") as identity:
        signed_up = await identity.post("/signup", json={"company": company or french_company(), "user": user})
        assert signed_up.status_code == 202, signed_up.text
        token = await link_token(smtp_catcher, email.lower(), ("confirm", "adresse", "address"))
        verified = await identity.post("/signup/verify-email", json={"token": token})
        assert verified.status_code == 200, verified.text


async def new_member(
    portal: Portal,
    smtp_catcher,  # type: ignore[no-untyped-def]
    *,
    company: dict[str, Any] | None = None,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    full_name: str = "Camille Martin",
    locale: str | None = None,
    phone: str | None = None,
) -> Member:
    """A new company whose administrator signed up, confirmed the e-mail and enrolled an authenticator app.

    Every call goes through the gateway; the confirmation link is read from the SMTP catcher.
    """
    email = email or unique_email()
    await sign_up_and_verify(
        portal,
        smtp_catcher,
        email=email,
        password=password,
        full_name=full_name,
        company=company,
        locale=locale,
        phone=phone,
    )
    async with portal.client("identity") as identity:
        secret, tokens, step = await enrol_totp(identity, email, password)
    return Member.enrolled(email, password, full_name, secret=secret, tokens=tokens, step=step)


async def accept_invitation_and_enrol(
    portal: Portal, *, token: str, email: str, full_name: str, password: str = DEFAULT_PASSWORD
) -> Member:
    """An invited person chooses a password from the link, then enrols an authenticator app at first sign-in."""
    async with portal.client("identity") as identity:
        accepted = await identity.post("/invitations/accept", json={"token": token, "password": password})
        assert accepted.status_code == 200 and accepted.json()["status"] == "active", accepted.text
        secret, tokens, step = await enrol_totp(identity, email, password)
    return Member.enrolled(email, password, full_name, secret=secret, tokens=tokens, step=step)


async def new_staff_member(portal: Portal, network, *, role: str = "agent", full_name: str = "Sam Agent") -> Member:  # type: ignore[no-untyped-def]
    """A Factora support agent (or operator) signed in with a second factor (acr aal2).

    Creating staff has no HTTP API: an operator runs `identity.manage create-staff` (a subprocess
    with the stack's environment). Everything after that goes through the gateway.
    """
    email = unique_email(role, "factora.example")
    token = staff_invitation_token(network, email, role=role, name=full_name)
    return await accept_invitation_and_enrol(portal, token=token, email=email, full_name=full_name)
