"""A migrated invoicing database on the test PostgreSQL (one per test module) and a world of companies in it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlmodel import select

import invoicing
from contracts.envelope import Envelope
from contracts.examples import sample_partner_invoice, signed_sample_record
from contracts.v1 import PartnerInvoiceSubmitted
from contracts.v1.identity import (
    CompanyAddress,
    CompanyContact,
    CompanyProfile,
    CompanyRegistered,
    PartnerCredentialRegistered,
)
from devstack.local_jwks import LocalJwks
from invoicing.adapters.signatures import RawRecord
from invoicing.adapters.tables import InvoiceRecord
from invoicing.service import handlers, relationships
from invoicing.service.context import Context
from servicekit.db import make_engine, make_session_factory
from servicekit.messaging_tables import OutboxMessage
from servicekit.migrations import upgrade_to_head

MIGRATIONS = Path(invoicing.__file__).parent / "migrations"
CTX = Context(source="/factora/invoicing", signing_base_url="http://127.0.0.1:8003", welcome_credits=20)

COUNTRIES: dict[str, dict[str, Any]] = {
    "FR": {"vat_id": "FR40303265045", "city": "Lyon", "postcode": "69003"},
    "BE": {"vat_id": "BE0477472701", "city": "Bruxelles", "postcode": "1050"},
    "DE": {"vat_id": "DE123456789", "city": "Berlin", "postcode": "10115"},
    "US": {"vat_id": None, "city": "Austin", "postcode": "73301"},
    "GB": {"vat_id": "GB123456789", "city": "London", "postcode": "EC1A 1BB"},
}


@pytest.fixture(scope="module")
async def invoicing_sessions(fresh_database):
    """Session factory on a brand-new database brought to the newest migration."""
    url = await fresh_database("invoicing")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    # Room for the concurrent transactions of the numbering tests (the rest queue on the pool).
    engine = make_engine(url, pool_size=12)
    yield make_session_factory(engine)
    await engine.dispose()


class World:
    """Companies, connections and partner keys made through the real handlers, plus submission helpers."""

    def __init__(self, sessions, ctx: Context = CTX) -> None:
        self.sessions = sessions
        self.ctx = ctx

    async def company(
        self,
        country: str = "FR",
        *,
        name: str | None = None,
        vat_id: str | bool | None = True,
        locale: str = "fr",
        email: str | bool | None = None,
        roles: tuple[str, ...] = ("invoice_recipient", "accounts_payable", "accounts_receivable"),
        region: str | None = None,
    ) -> str:
        """Register a company as identity would announce it; returns its id."""
        facts = COUNTRIES.get(country, {"vat_id": None, "city": "Capital", "postcode": "1000"})
        company_id = str(uuid.uuid4())
        contacts = []
        if email is not False:
            contacts.append(
                CompanyContact(
                    contact_id=str(uuid.uuid4()),
                    name="Accounts",
                    email=email or f"accounts-{company_id[:8]}@example.com",
                    roles=list(roles),  # type: ignore[arg-type]
                    locale=locale,  # type: ignore[arg-type]
                )
            )
        profile = CompanyProfile(
            company_id=company_id,
            legal_name=name or f"Company {company_id[:6]} ({country})",
            country=country,
            vat_id=facts["vat_id"] if vat_id is True else (vat_id or None),
            address=CompanyAddress(
                line1="1 Main Street", postcode=facts["postcode"], city=facts["city"], region=region, country=country
            ),
            locale=locale,  # type: ignore[arg-type]
            contacts=contacts,
            version=1,
            updated_at=datetime.now(UTC),
        )
        event = CompanyRegistered(company=profile, registered_at=datetime.now(UTC))
        async with self.sessions() as session, session.begin():
            await handlers.on_company_registered(self.ctx, event, envelope(), session)
        return company_id

    async def connect(self, supplier: str, buyer: str) -> None:
        async with self.sessions() as session, session.begin():
            await relationships.connect(session, supplier, buyer)

    async def trading_pair(self, seller_country: str = "FR", buyer_country: str = "BE") -> tuple[str, str]:
        seller, buyer = await self.company(seller_country), await self.company(buyer_country)
        await self.connect(seller, buyer)
        return seller, buyer

    async def partner_key(self, company_id: str, partner_id: str = "sample-erp") -> tuple[Ed25519PrivateKey, str]:
        """Register a partner system key as identity would announce it; returns the private key and key id."""
        private_key = Ed25519PrivateKey.generate()
        raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        import base64

        key_id = f"pk-{uuid.uuid4().hex[:12]}"
        event = PartnerCredentialRegistered(
            company_id=company_id,
            partner_id=partner_id,
            partner_name="Sample ERP",
            key_id=key_id,
            public_key=base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
            registered_at=datetime.now(UTC),
        )
        async with self.sessions() as session, session.begin():
            await handlers.on_key_registered(self.ctx, event, envelope(), session)
        return private_key, key_id

    @staticmethod
    def submission(seller: str, buyer: str, **changes: Any) -> PartnerInvoiceSubmitted:
        event = sample_partner_invoice()
        return event.model_copy(
            update={
                "seller": event.seller.model_copy(update={"company_id": seller}),
                "buyer": event.buyer.model_copy(update={"company_id": buyer}),
                **changes,
            }
        )

    @staticmethod
    def signed(
        event: PartnerInvoiceSubmitted, private_key: Ed25519PrivateKey, key_id: str, event_id: str | None = None
    ) -> tuple[Envelope, RawRecord]:
        _, headers, value = signed_sample_record(event, private_key=private_key, key_id=key_id, event_id=event_id)
        return Envelope.from_headers(headers), RawRecord(headers=headers, value=value)

    async def submit(self, event: PartnerInvoiceSubmitted, envelope_: Envelope, record: RawRecord | None) -> None:
        async with self.sessions() as session, session.begin():
            await handlers.accept_partner_invoice(self.ctx, event, envelope_, session, record)

    async def outbox_ids(self) -> set[uuid.UUID]:
        async with self.sessions() as session:
            return set((await session.exec(select(OutboxMessage.id))).all())

    async def outbox_since(self, before: set[uuid.UUID]) -> list[OutboxMessage]:
        async with self.sessions() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.created_at))).all()
        return [row for row in rows if row.id not in before]

    async def invoices_of(self, seller: str) -> list[InvoiceRecord]:
        async with self.sessions() as session:
            query = select(InvoiceRecord).where(InvoiceRecord.seller_company_id == seller)
            return list((await session.exec(query.order_by(InvoiceRecord.created_at))).all())  # type: ignore[arg-type]


def envelope(subject: str | None = None, tenant: str | None = None) -> Envelope:
    return Envelope.new(source="/factora/identity", type="test", subject=subject, tenant=tenant)


@pytest.fixture(scope="module")
def world(invoicing_sessions) -> World:
    return World(invoicing_sessions)


# --------------------------------------------------------------------------- the whole app over HTTP


JwksServer = LocalJwks  # identity's JWKS with the key the tests sign tokens with


ALL_RIGHTS = frozenset({"invoices:create", "invoices:view", "billing", "partners", "contacts", "manage_users", "admin"})


class Api:
    """The running app, an HTTP client, and helpers to act as a user of a company."""

    def __init__(self, app, client, jwks: JwksServer, world: World) -> None:
        self.app = app
        self.client = client
        self.jwks = jwks
        self.world = world

    def auth(self, company_id: str, rights=ALL_RIGHTS, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.jwks.token(company_id, rights, **kwargs)}"}

    async def call(self, method: str, path: str, company_id: str, rights=ALL_RIGHTS, **kwargs: Any):
        headers = {**self.auth(company_id, rights, **{k: kwargs.pop(k) for k in ("acr", "auth_age_s") if k in kwargs})}
        headers.update(kwargs.pop("headers", {}))
        return await self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
async def api(fresh_database, kafka_broker):
    """The invoicing app with its lifespan (Kafka consumers, relay) on a fresh database, behind httpx.

    Module scope, not package: without __init__.py a "package" fixture lives for the whole session, and
    this app's partner-intake consumer would then answer the end-to-end tests' submissions too.
    """
    import httpx
    from asgi_lifespan import LifespanManager
    from pydantic import SecretStr

    from invoicing.bootstrap import build_app
    from invoicing.settings import Settings
    from servicekit.settings import KafkaSettings

    url = await fresh_database("invoicing")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    jwks = JwksServer()
    # A service name of its own: its consumer groups never share partitions with a running invoicing.
    settings = Settings(
        database_url=SecretStr(url),
        service_name=f"invoicing-it-{uuid.uuid4().hex[:8]}",
        kafka=KafkaSettings(bootstrap_servers=kafka_broker.bootstrap, retry_attempts=2, retry_base_delay_s=0.05),
        welcome_credits=20,
        db_pool_size=8,
        outbox_poll_interval_s=0.2,
        **{"IDENTITY_JWKS_URL": jwks.url},
    )
    app = build_app(settings)
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://invoicing.test") as client:
                ctx = app.state.invoicing_context
                yield Api(app, client, jwks, World(app.state.runtime.sessions, ctx))
    finally:
        jwks.close()
