"""Tenant scoping on real PostgreSQL: a company sees the invoices it sent or received, never anyone else's."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from contracts.examples import sample_partner_invoice
from invoicing.adapters import repository
from invoicing.adapters.tables import InvoiceRecord
from invoicing.domain.model import build_invoice
from invoicing.entrypoints import http
from servicekit.auth import Principal, current_principal

pytestmark = pytest.mark.integration


def company() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


async def store_invoice(sessions, seller: str, buyer: str) -> InvoiceRecord:
    event = sample_partner_invoice()
    event = event.model_copy(
        update={
            "seller": event.seller.model_copy(update={"company_id": seller}),
            "buyer": event.buyer.model_copy(update={"company_id": buyer}),
        }
    )
    invoice_id = uuid.uuid4()
    document = build_invoice(event, invoice_id=str(invoice_id), number=f"F-{invoice_id.hex[:8]}")
    record = InvoiceRecord(
        id=invoice_id,
        seller_company_id=seller,
        buyer_company_id=buyer,
        number=document.number,
        type_code=document.type_code,
        status="issued",
        currency=document.currency,
        payable=document.totals.payable,
        document=document.model_dump(mode="json"),
    )
    async with sessions() as session, session.begin():
        session.add(record)
    return record


@pytest.fixture(scope="module")
async def two_trades(invoicing_sessions):
    """Invoice A from seller_a to buyer_a, invoice B between two other companies."""
    parties = {name: company() for name in ("seller_a", "buyer_a", "seller_b", "buyer_b", "outsider")}
    a = await store_invoice(invoicing_sessions, parties["seller_a"], parties["buyer_a"])
    b = await store_invoice(invoicing_sessions, parties["seller_b"], parties["buyer_b"])
    return parties, a, b


async def test_the_seller_and_the_buyer_see_their_invoice(invoicing_sessions, two_trades):
    parties, a, _ = two_trades
    async with invoicing_sessions() as session:
        for who in ("seller_a", "buyer_a"):
            found = await repository.invoice_visible_to(session, parties[who], a.id)
            assert found is not None and found.id == a.id, who


async def test_no_other_company_sees_an_invoice_it_is_not_party_to(invoicing_sessions, two_trades):
    parties, a, _ = two_trades
    async with invoicing_sessions() as session:
        for who in ("seller_b", "buyer_b", "outsider"):
            assert await repository.invoice_visible_to(session, parties[who], a.id) is None, who


async def test_a_company_lists_only_the_invoices_it_sent_or_received(invoicing_sessions, two_trades):
    parties, a, b = two_trades
    async with invoicing_sessions() as session:
        assert [r.id for r in await repository.invoices_visible_to(session, parties["buyer_a"])] == [a.id]
        assert [r.id for r in await repository.invoices_visible_to(session, parties["seller_b"])] == [b.id]
        assert await repository.invoices_visible_to(session, parties["outsider"]) == []


def api(sessions, company_id: str) -> httpx.AsyncClient:
    """The invoices router with the caller's verified company fixed and our database behind it."""
    app = FastAPI()
    app.include_router(http.router)

    async def session_override():
        async with sessions() as session:
            yield session

    app.dependency_overrides[http.session] = session_override
    app.dependency_overrides[current_principal] = lambda: Principal("u-1", company_id, frozenset())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://invoicing.test")


async def test_the_http_api_answers_404_to_a_company_that_is_not_a_party(invoicing_sessions, two_trades):
    parties, a, _ = two_trades

    async with api(invoicing_sessions, parties["buyer_a"]) as client:
        own = await client.get(f"/invoices/{a.id}")
        listed = await client.get("/invoices")
    async with api(invoicing_sessions, parties["seller_b"]) as client:
        foreign = await client.get(f"/invoices/{a.id}")
        foreign_list = await client.get("/invoices")

    assert own.status_code == 200 and own.json()["number"] == a.number
    assert [item["id"] for item in listed.json()] == [str(a.id)]
    assert foreign.status_code == 404
    assert str(a.id) not in foreign_list.text
