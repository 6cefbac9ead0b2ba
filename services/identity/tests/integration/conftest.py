"""The identity app on a real PostgreSQL and Kafka, driven through its HTTP API like a portal would."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

import identity
from identity.bootstrap import build_app
from identity.settings import Argon2Settings, Settings, ThrottleSettings
from servicekit.migrations import upgrade_to_head
from servicekit.settings import KafkaSettings

MIGRATIONS = Path(identity.__file__).parent / "migrations"
PORTAL = "https://portal.factora.test"
PASSWORD = "a long passphrase nobody guesses 42"
_ips = itertools.count(1)


def settings_for_tests(database_url: str, bootstrap: str, **overrides: Any) -> Settings:
    """Production logic with cheap argon2 and short waits, so the suite stays fast."""
    values: dict[str, Any] = {
        "database_url": database_url,
        # Its own consumer group: a running identity service on the same broker keeps its partitions.
        "service_name": f"identity-test-{uuid.uuid4().hex[:8]}",
        "kafka": KafkaSettings(bootstrap_servers=bootstrap),
        "argon2": Argon2Settings(time_cost=1, memory_kib=1024, parallelism=1, max_concurrent=4),
        "login_min_duration_s": 0.06,
        "recovery_min_duration_s": 0.04,
        "portal_url": PORTAL,
        "outbox_poll_interval_s": 0.2,
        "throttle": ThrottleSettings(
            window_s=60,
            pair_free_failures=3,
            account_free_failures=6,
            base_delay_s=0.4,
            max_delay_s=1.5,
            source_max_failures=12,
            recovery_per_account=3,
            recovery_per_source=40,
            signups_per_source=40,
        ),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
async def identity_database_url(fresh_database) -> str:
    url = await fresh_database("identity")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    return url


@pytest.fixture(scope="session")
async def identity_app(identity_database_url, kafka_broker):
    app = build_app(settings_for_tests(identity_database_url, kafka_broker.bootstrap))
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60) as manager:
        yield manager.app, app


@pytest.fixture(scope="session")
async def driver(identity_app):
    asgi, app = identity_app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://identity.test") as client:
        yield Driver(client, app)


class Account:
    """A signed-in user as a test knows them: credentials, TOTP secret, tokens, device."""

    def __init__(self, email: str, password: str, ip: str) -> None:
        self.email, self.password, self.ip = email, password, ip
        self.secret: str | None = None
        self.tokens: dict[str, Any] = {}
        self.device_token: str | None = None
        self.recovery_codes: list[str] = []
        self.company_id: str | None = None
        self.user_id: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}", "X-Forwarded-For": self.ip}


class Driver:
    """Journeys through the identity API, reading what identity asked notifications to send from its outbox."""

    def __init__(self, client: httpx.AsyncClient, app) -> None:
        self.client = client
        self.app = app
        self.ctx = app.state.identity
        self._last_step: dict[str, int] = {}

    # ------------------------------------------------------------------ plumbing

    @staticmethod
    def new_ip() -> str:
        n = next(_ips)
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    @staticmethod
    def new_email(tag: str = "user") -> str:
        return f"{tag}-{uuid.uuid4().hex[:10]}@Example.COM"

    async def post(self, path: str, body: Any = None, *, ip: str | None = None, headers: dict | None = None):
        merged = {"X-Forwarded-For": ip or "10.255.255.1", **(headers or {})}
        return await self.client.post(path, json=body, headers=merged)

    async def sql(self, query: str, **params: Any) -> list[Any]:
        async with self.ctx.sessions() as s, s.begin():
            conn = await s.connection()
            result = await conn.execute(text(query), params)
            return list(result.all()) if result.returns_rows else []

    async def outbox(self, topic: str) -> list[tuple[dict, dict]]:
        rows = await self.sql("SELECT payload, headers FROM outbox WHERE topic = :t ORDER BY created_at", t=topic)
        return [(json.loads(bytes(p)), h) for p, h in rows]

    async def messages(self, recipient: str, template: str | None = None) -> list[dict]:
        """notifications.send-requested.v1 payloads identity wrote for this recipient (oldest first)."""
        found = await self.outbox("notifications.send-requested.v1")
        return [
            m for m, _ in found if m["recipient"].lower() == recipient.lower() and template in (None, m["template"])
        ]

    async def last_message(self, recipient: str, template: str) -> dict:
        found = await self.messages(recipient, template)
        assert found, f"no {template} message for {recipient}"
        return found[-1]

    async def link_token(self, recipient: str, template: str, param: str) -> str:
        url = (await self.last_message(recipient, template))["params"][param]
        assert url.startswith(PORTAL) and "#token=" in url, url
        return url.split("#token=", 1)[1]

    def totp(self, secret: str) -> str:
        """A valid code of a time step not used yet: identity accepts the previous, current and next step.

        The previous step is only taken with 2 s of the current one left, so the code cannot
        age out of the window on its way to identity.
        """
        while True:
            now = time.time()
            current = int(now // 30)
            candidates = [current, current + 1]
            if 30 - now % 30 > 2:
                candidates.insert(0, current - 1)
            last = self._last_step.get(secret, current - 3)
            step = next((c for c in candidates if c > last), None)
            if step is not None:
                self._last_step[secret] = step
                return pyotp.TOTP(secret).at(step * 30)
            # Every usable step is spent (three sign-ins within 30 s): the next step opens one more.
            time.sleep(30 - now % 30 + 0.1)

    # ------------------------------------------------------------------ journeys

    def signup_body(self, email: str, password: str = PASSWORD, **company: Any) -> dict:
        return {
            "company": {
                "legal_name": company.pop("legal_name", f"Atelier {uuid.uuid4().hex[:6]} SARL"),
                "country": company.pop("country", "FR"),
                "vat_id": company.pop("vat_id", "FR40303265045"),
                "address": {"line1": "12 rue des Lilas", "postcode": "69003", "city": "Lyon"},
                "locale": company.pop("locale", "fr"),
                **company,
            },
            "user": {"email": email, "full_name": "Camille Martin", "password": password},
        }

    async def sign_up(self, email: str | None = None, *, ip: str | None = None, **company: Any) -> str:
        email = email or self.new_email("admin")
        response = await self.post("/signup", self.signup_body(email, **company), ip=ip or self.new_ip())
        assert response.status_code == 202, response.text
        return email

    async def verified_admin(self, **company: Any) -> str:
        email = await self.sign_up(**company)
        token = await self.link_token(email, "email-verification", "verification_url")
        response = await self.post("/signup/verify-email", {"token": token})
        assert response.status_code == 200, response.text
        return email

    async def login_password(self, account: Account, **extra: Any) -> httpx.Response:
        body = {"email": account.email, "password": account.password, **extra}
        if account.device_token and "device_token" not in extra:
            body["device_token"] = account.device_token
        return await self.post("/login", body, ip=account.ip)

    async def enrol_totp(self, email: str, password: str = PASSWORD, ip: str | None = None) -> Account:
        """First sign-in: password, choose TOTP, confirm with a code."""
        account = Account(email, password, ip or self.new_ip())
        step = await self.login_password(account)
        assert step.status_code == 200 and step.json()["status"] == "mfa_enrolment_required", step.text
        mfa_token = step.json()["mfa_token"]
        setup = await self.post("/login/mfa/enrol", {"mfa_token": mfa_token, "method": "totp"}, ip=account.ip)
        assert setup.status_code == 200, setup.text
        account.secret = setup.json()["secret"]
        done = await self.post(
            "/login/mfa/enrol/confirm", {"mfa_token": mfa_token, "code": self.totp(account.secret)}, ip=account.ip
        )
        assert done.status_code == 200, done.text
        self.remember(account, done.json())
        account.recovery_codes = done.json()["recovery_codes"]
        return account

    def remember(self, account: Account, tokens: dict) -> None:
        account.tokens = tokens
        account.device_token = tokens.get("device_token") or account.device_token
        account.company_id, account.user_id = tokens["company_id"], tokens["user_id"]

    async def login_totp(self, account: Account, **extra: Any) -> httpx.Response:
        """A full sign-in with password and TOTP; returns the last response, tokens remembered on success."""
        step = await self.login_password(account, **extra)
        if step.status_code != 200:
            return step
        assert account.secret
        done = await self.post(
            "/login/mfa/verify",
            {"mfa_token": step.json()["mfa_token"], "code": self.totp(account.secret)},
            ip=account.ip,
        )
        if done.status_code == 200:
            self.remember(account, done.json())
        return done

    async def refresh(self, account: Account) -> httpx.Response:
        response = await self.post("/token/refresh", {"refresh_token": account.tokens["refresh_token"]}, ip=account.ip)
        if response.status_code == 200:
            self.remember(account, response.json())
        return response

    async def age_sign_in(self, account: Account, seconds: int) -> None:
        """Pretend the account's sign-in happened `seconds` ago (then refresh, so the token says so)."""
        await self.sql(
            "UPDATE auth_session SET auth_time = auth_time - make_interval(secs => :s) WHERE id = CAST(:sid AS uuid)",
            s=seconds,
            sid=account.tokens["session_id"],
        )
        assert (await self.refresh(account)).status_code == 200

    async def new_company(self, **company: Any) -> Account:
        """A signed-up, verified company whose administrator has enrolled TOTP and is signed in."""
        return await self.enrol_totp(await self.verified_admin(**company))

    async def colleague(self, admin: Account, rights: list[str], email: str | None = None) -> Account:
        """Invite a colleague, accept the invitation, enrol TOTP: a signed-in active user."""
        email = email or self.new_email("colleague")
        invited = await self.post(
            "/company/users", {"email": email, "full_name": "Alex Dupont", "rights": rights}, headers=admin.headers
        )
        assert invited.status_code == 201, invited.text
        token = await self.link_token(email, "invitation", "invitation_url")
        accepted = await self.post("/invitations/accept", {"token": token, "password": PASSWORD})
        assert accepted.status_code == 200, accepted.text
        return await self.enrol_totp(email)
