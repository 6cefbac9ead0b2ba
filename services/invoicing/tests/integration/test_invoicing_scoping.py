"""Tenant scoping over HTTP: a company reaches the invoices it sent or received, never anyone else's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

LINE = {"description": "Consulting", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}


async def make_trades(api):
    a, c = await api.world.trading_pair("FR", "DE")
    d, b = await api.world.trading_pair("FR", "BE")
    body = {"buyer_company_id": c, "payment_terms": "30 days", "lines": [LINE]}
    issued = (await api.call("POST", "/invoices", a, json=body)).json()
    assert (await api.call("POST", f"/invoices/{issued['id']}/issue", a)).status_code == 200
    draft = (await api.call("POST", "/invoices", a, json=body)).json()
    other = (await api.call("POST", "/invoices", d, json={**body, "buyer_company_id": b})).json()
    assert (await api.call("POST", f"/invoices/{other['id']}/issue", d)).status_code == 200
    return a, b, c, issued["id"], draft["id"]


async def test_a_buyer_of_company_b_reading_company_as_invoice_to_company_c_gets_zero_successes(api):
    a, b, c, invoice_id, draft_id = await make_trades(api)
    attempts = [
        ("GET", f"/invoices/{invoice_id}", {}),
        ("GET", f"/invoices/{invoice_id}/ubl", {}),
        ("GET", f"/invoices/{invoice_id}/cii", {}),
        ("PUT", f"/invoices/{invoice_id}/buyer-status", {"json": {"status": "approved"}}),
        ("PUT", f"/invoices/{invoice_id}/buyer-status", {"json": {"status": "rejected", "reason": "x"}}),
        ("POST", f"/invoices/{invoice_id}/credit-notes", {"json": {"full": True}}),
        ("DELETE", f"/invoices/{invoice_id}", {"json": {"confirm": True}, "acr": "aal2"}),
        ("POST", f"/invoices/{invoice_id}/issue", {}),
        ("PUT", f"/invoices/{invoice_id}", {"json": {"buyer_company_id": c, "lines": [LINE]}}),
        ("GET", f"/invoices/{draft_id}", {}),
        ("POST", f"/invoices/{draft_id}/issue", {}),
        ("DELETE", f"/invoices/{draft_id}", {}),
    ]

    answers = [await api.call(method, path, b, **kwargs) for method, path, kwargs in attempts]

    successes = [(m, p, r.status_code) for (m, p, _), r in zip(attempts, answers, strict=True) if r.status_code < 400]
    assert successes == []
    assert all(r.status_code == 404 for r in answers), [r.status_code for r in answers]
    for query in ("", "?include_withdrawn=true", f"?counterparty={a}", "?role=received", "?status=draft"):
        listed = await api.call("GET", f"/invoices{query}", b)
        assert listed.status_code == 200 and invoice_id not in listed.text and draft_id not in listed.text


async def test_the_seller_and_the_buyer_see_the_invoice_and_only_the_seller_sees_the_draft(api):
    a, _, c, invoice_id, draft_id = await make_trades(api)

    assert (await api.call("GET", f"/invoices/{invoice_id}", a)).json()["role"] == "seller"
    assert (await api.call("GET", f"/invoices/{invoice_id}", c)).json()["role"] == "buyer"
    assert (await api.call("GET", f"/invoices/{draft_id}", a)).status_code == 200
    assert (await api.call("GET", f"/invoices/{draft_id}", c)).status_code == 404
    received = (await api.call("GET", "/invoices?role=received", c)).json()
    assert [i["id"] for i in received["items"]] == [invoice_id]


async def test_the_buyer_cannot_act_as_the_seller_on_an_invoice_it_received(api):
    _, _, c, invoice_id, _ = await make_trades(api)

    assert (await api.call("POST", f"/invoices/{invoice_id}/credit-notes", c, json={"full": True})).status_code == 403
    withdraw = await api.call("DELETE", f"/invoices/{invoice_id}", c, json={"confirm": True}, acr="aal2")
    assert withdraw.status_code == 403
    assert (await api.call("POST", f"/invoices/{invoice_id}/issue", c)).status_code == 404
