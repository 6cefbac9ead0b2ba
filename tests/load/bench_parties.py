"""The benchmark's trading pairs: companies and partner keys from identity's events, relationships, credits."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel

from contracts.catalogue import TopicSpec
from contracts.envelope import Envelope
from contracts.topics import identity as identity_topics
from contracts.v1.identity import (
    CompanyAddress,
    CompanyContact,
    CompanyProfile,
    CompanyRegistered,
    PartnerCredentialRegistered,
)

PARTNER_ID = "load-bench-erp"


@dataclass
class TradingPair:
    """A supplier whose ERP publishes signed invoices to one connected buyer."""

    seller_id: str
    buyer_id: str
    buyer_email: str
    key_id: str
    private_key: Ed25519PrivateKey


def company(name: str, vat_id: str, email: str) -> CompanyProfile:
    return CompanyProfile(
        company_id=str(uuid.uuid4()),
        legal_name=name,
        country="FR",
        vat_id=vat_id,
        address=CompanyAddress(line1="1 rue de la Paix", postcode="75002", city="Paris", country="FR"),
        locale="fr",
        contacts=[
            CompanyContact(contact_id=str(uuid.uuid4()), name="Comptabilité", email=email, roles=["invoice_recipient"])
        ],
        version=1,
        updated_at=datetime.now(UTC),
    )


async def publish(producer: AIOKafkaProducer, spec: TopicSpec, event: BaseModel, key: str, tenant: str) -> None:
    """An identity event exactly as identity's outbox would publish it."""
    envelope = Envelope.new(source="/factora/identity", type=spec.schema_name, subject=key, tenant=tenant)
    await producer.send(
        spec.name,
        event.model_dump_json().encode(),
        key=key.encode(),
        headers=[(k, v.encode()) for k, v in envelope.to_headers().items()],
    )


async def wait_for_count(dsn: str, query: str, args: list, expected: int, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        conn = await asyncpg.connect(dsn)
        try:
            found = await conn.fetchval(query, args)
        finally:
            await conn.close()
        if found >= expected:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"invoicing has {found} of {expected} rows for {query}")
        await asyncio.sleep(0.5)


async def make_trading_pairs(bootstrap: str, invoicing_dsn: str, count: int, credits: int) -> list[TradingPair]:
    """`count` suppliers, each connected to its own buyer, with a partner key and `credits` transaction credits."""
    pairs: list[TradingPair] = []
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for i in range(count):
            email = f"ap-{i}-{uuid.uuid4().hex[:6]}@buyer.example"
            seller = company(f"Fournisseur {i} SARL", "FR40303265045", f"ar-{i}@seller.example")
            buyer = company(f"Client {i} SAS", "FR83404833048", email)
            for profile in (seller, buyer):
                event = CompanyRegistered(company=profile, registered_at=datetime.now(UTC))
                await publish(
                    producer, identity_topics.COMPANY_REGISTERED, event, profile.company_id, profile.company_id
                )
            private_key = Ed25519PrivateKey.generate()
            public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            key_id = f"pk-{uuid.uuid4().hex[:16]}"
            credential = PartnerCredentialRegistered(
                company_id=seller.company_id,
                partner_id=PARTNER_ID,
                partner_name="Load bench ERP",
                key_id=key_id,
                public_key=base64.urlsafe_b64encode(public).rstrip(b"=").decode(),
                registered_at=datetime.now(UTC),
            )
            await publish(
                producer, identity_topics.PARTNER_CREDENTIAL_REGISTERED, credential, key_id, seller.company_id
            )
            pairs.append(TradingPair(seller.company_id, buyer.company_id, email, key_id, private_key))
        await producer.flush()
    finally:
        await producer.stop()
    companies = [p.seller_id for p in pairs] + [p.buyer_id for p in pairs]
    await wait_for_count(
        invoicing_dsn, "SELECT count(*) FROM party WHERE company_id = ANY($1::text[])", companies, len(companies)
    )
    await wait_for_count(
        invoicing_dsn, "SELECT count(*) FROM partner_key WHERE key_id = ANY($1::text[])", [p.key_id for p in pairs],
        len(pairs),
    )  # fmt: skip
    await connect_and_credit(invoicing_dsn, pairs, credits)
    return pairs


async def connect_and_credit(invoicing_dsn: str, pairs: list[TradingPair], credits: int) -> None:
    """The operator commands of `python -m invoicing.manage` (connect, credits), run in this process."""
    from invoicing.adapters.tables import CreditMovement
    from invoicing.service import credits as credit_accounts
    from invoicing.service import relationships
    from invoicing.service.context import Context
    from servicekit.db import make_engine, make_session_factory

    engine = make_engine(invoicing_dsn.replace("postgresql://", "postgresql+asyncpg://"), pool_size=1)
    ctx = Context(source="/factora/invoicing", signing_base_url="", welcome_credits=20)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            for pair in pairs:
                await relationships.connect(session, pair.seller_id, pair.buyer_id)
                account = await credit_accounts.locked_account(ctx, session, pair.seller_id)
                account.balance += credits
                session.add(account)
                session.add(
                    CreditMovement(
                        company_id=pair.seller_id, delta=credits, balance_after=account.balance, kind="operator"
                    )
                )
    finally:
        await engine.dispose()
