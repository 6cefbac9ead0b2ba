"""The support app on a migrated database of the test PostgreSQL and the test Kafka broker, with test tokens.

Tokens are ES256 JWTs signed by a key of ours and served as a JWKS from a loopback HTTP server,
exactly as identity would. The app's clock is replaceable, so SLA tests choose the time.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlmodel import col, select

import support
from devstack.local_jwks import LocalJwks
from servicekit.auth import ISSUER, Right
from servicekit.messaging_tables import OutboxMessage
from servicekit.migrations import upgrade_to_head
from servicekit.settings import KafkaSettings
from support.bootstrap import build_app
from support.settings import Settings

MIGRATIONS = Path(support.__file__).parent / "migrations"


def JwksServer(key: ECKey) -> LocalJwks:
    """Identity's JWKS endpoint, played by a loopback server holding one P-256 key."""
    return LocalJwks([key])


@dataclass
class Tokens:
    """Signs access tokens the way identity does."""

    key: ECKey

    def issue(self, user_id: str, company_id: str, rights: tuple[str, ...] = (), acr: str = "aal1") -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user_id,
            "company_id": company_id,
            "rights": list(rights),
            "acr": acr,
            "iat": now,
            "exp": now + 600,
        }
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)

    def bearer(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issue(*args, **kwargs)}"}


@pytest.fixture(scope="session")
def tokens() -> Iterator[Tokens]:
    key = ECKey.generate_key("P-256", parameters={"kid": "identity-test", "alg": "ES256", "use": "sig"}, private=True)
    server = JwksServer(key)
    tokens = Tokens(key)
    tokens.jwks_url = server.url  # type: ignore[attr-defined]
    yield tokens
    server.close()


class SettableClock:
    """The app's notion of now: real time unless a test sets it."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)


@dataclass
class SupportStack:
    """The running app, a client on it, and handles the tests use."""

    app: Any
    client: httpx.AsyncClient
    clock: SettableClock
    tokens: Tokens

    @property
    def ctx(self):  # type: ignore[no-untyped-def]
        return self.app.state.support

    def member(self, company_id: str | None = None, *, admin: bool = False) -> dict[str, str]:
        """Headers of a fresh member of `company_id` (a fresh company by default)."""
        rights = (Right.ADMIN,) if admin else (Right.VIEW_INVOICES,)
        return self.tokens.bearer(f"u-{uuid.uuid4().hex[:10]}", company_id or new_company(), rights)

    def agent(self, *, acr: str = "aal2", user_id: str | None = None) -> dict[str, str]:
        return self.tokens.bearer(user_id or f"agent-{uuid.uuid4().hex[:8]}", "c-factora", (Right.SUPPORT_AGENT,), acr)

    def operator(self) -> dict[str, str]:
        return self.tokens.bearer(f"op-{uuid.uuid4().hex[:8]}", "c-factora", (Right.OPERATOR,), "aal2")

    new_company = staticmethod(lambda: new_company())
    case_body = staticmethod(lambda **overrides: case_body(**overrides))

    async def open_case(self, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
        """Open a case as a member; returns the case page."""
        response = await self.client.post("/cases", json=case_body(**overrides), headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def outbox(self, topic: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """Headers and payload of every outbox row of `topic`, oldest first."""
        async with self.ctx.sessions() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(col(OutboxMessage.created_at))
                )
            ).all()
        return [(row.headers, json.loads(row.payload)) for row in rows]

    async def emails_to(self, address: str) -> list[dict[str, Any]]:
        """notifications.send-requested.v1 payloads addressed to `address`."""
        return [p for _, p in await self.outbox("notifications.send-requested.v1") if p["recipient"] == address]

    async def link_token(self, address: str, template: str = "email-verification") -> str:
        """The token of the newest link e-mailed to `address` with `template`."""
        mails = [m for m in await self.emails_to(address) if m["template"] == template]
        assert mails, f"no {template} e-mail to {address}"
        params = mails[-1]["params"]
        url = params.get("verification_url") or params["case_url"]
        return parse_qs(urlsplit(url).query)["token"][0]


def new_company() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def case_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "category": "invoicing",
        "subject": "Invoice F2026-000042 refused",
        "description": "My invoice F2026-000042 to Brasserie du Parc was refused with rule BR-CO-15 this morning.",
        "name": "Ada Lovelace",
        "email": f"ada.{uuid.uuid4().hex[:8]}@atelier.example",
        "locale": "en",
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="session")
async def support_stack(fresh_database, kafka_broker, tokens) -> AsyncIterator[SupportStack]:
    url = await fresh_database("support")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    settings = Settings(
        database_url=url,
        IDENTITY_JWKS_URL=tokens.jwks_url,  # type: ignore[attr-defined]  # the field's alias
        portal_url="https://portal.factora.test",
        outbox_poll_interval_s=0.2,
        sla_sweep_interval_s=3600,
        kafka=KafkaSettings(bootstrap_servers=kafka_broker.bootstrap, send_timeout_s=10),
    )
    app = build_app(settings)
    clock = SettableClock()
    app.state.support.clock = clock
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://support.test") as client:
            yield SupportStack(app=app, client=client, clock=clock, tokens=tokens)


@pytest.fixture
async def stack(support_stack: SupportStack) -> AsyncIterator[SupportStack]:
    """The shared stack, with the clock back to real time after each test."""
    yield support_stack
    support_stack.clock.fixed = None
