"""The invoicing HTTP API on the real app (Kafka consumers and relay running, real PostgreSQL, local JWKS)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select

from contracts import catalogue
from contracts.v1 import InvoiceStatusChanged, SendRequested
from invoicing.adapters.tables import CreditAccount
from servicekit.messaging_tables import OutboxMessage

pytestmark = pytest.mark.integration

LINE = {"description": "Design workshop", "quantity": "2", "unit_code": "DAY", "unit_price": "650.00", "vat_rate": "20"}


def draft(buyer: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "buyer_company_id": buyer,
        "due_date": (date.today() + timedelta(days=30)).isoformat(),
        "currency": "EUR",
        "payment_terms": "30 days net",
        "payment_means": {"code": "58", "account_id": "FR7630006000011234567890189", "bank_id": "AGRIFRPP"},
        "purchase_order": "PO-77",
        "note": "Thank you",
        "lines": [
            {**LINE, "allowances": [{"percent": "10", "reason": "Loyalty discount", "reason_code": "95"}]},
            {"description": "Travel", "quantity": "1", "unit_price": "120", "vat_rate": "20"},
        ],
        "charges": [{"amount": "25", "reason": "Handling", "vat_category": "S", "vat_rate": "20"}],
        "allowances": [{"amount": "50", "reason": "Early order", "vat_category": "S", "vat_rate": "20"}],
    }
    body.update(changes)
    return body


async def issue_one(api, seller: str, buyer: str, **changes: Any) -> dict[str, Any]:
    created = await api.call("POST", "/invoices", seller, json=draft(buyer, **changes))
    assert created.status_code == 201, created.text
    issued = await api.call("POST", f"/invoices/{created.json()['id']}/issue", seller)
    assert issued.status_code == 200, issued.text
    return issued.json()


async def sends_for(api, invoice_id: str, template: str) -> list[SendRequested]:
    async with api.world.sessions() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.topic == catalogue.SEND_REQUESTED.name))
        ).all()
    found = [SendRequested.model_validate_json(r.payload) for r in rows]
    return [s for s in found if s.template == template and invoice_id in s.idempotency_key]


# --------------------------------------------------------------------------- relationships


async def test_a_supplier_connects_with_several_buyers_by_request_and_by_invitation_code(api):
    supplier, first, second = (
        await api.world.company("FR"),
        await api.world.company("BE"),
        await api.world.company("DE"),
    )

    asked = await api.call("POST", "/relationships", supplier, json={"buyer_company_id": first, "message": "Hello"})
    assert asked.status_code == 201 and asked.json()["status"] == "requested"
    # Not connected yet: the form refuses this buyer.
    refused = await api.call("POST", "/invoices", supplier, json=draft(first))
    assert refused.status_code == 409 and refused.json()["code"] == "buyer_not_connected"
    # Only the buyer answers.
    assert (await api.call("POST", f"/relationships/{asked.json()['id']}/accept", supplier)).status_code == 403
    accepted = await api.call("POST", f"/relationships/{asked.json()['id']}/accept", first)
    assert accepted.json()["status"] == "active"

    invitation = await api.call("POST", "/relationships/invitations", second, json={"note": "for our printer"})
    assert invitation.status_code == 201
    code = invitation.json()["code"]
    redeemed = await api.call("POST", "/relationships/invitations/redeem", supplier, json={"code": code.lower()})
    assert redeemed.status_code == 200 and redeemed.json()["status"] == "active"
    again = await api.call("POST", "/relationships/invitations/redeem", await api.world.company(), json={"code": code})
    assert again.status_code == 404, "an invitation code works once"

    listed = await api.call("GET", "/relationships?role=supplier&status=active", supplier)
    assert {r["buyer_company_id"] for r in listed.json()} == {first, second}
    assert all(r["buyer_name"] for r in listed.json())
    assert (await api.call("POST", "/invoices", supplier, json=draft(second))).status_code == 201


async def test_relationship_endpoints_need_the_partners_right(api):
    supplier, buyer = await api.world.company(), await api.world.company("BE")
    answer = await api.call(
        "POST", "/relationships", supplier, rights={"invoices:create"}, json={"buyer_company_id": buyer}
    )
    assert answer.status_code == 403 and "partners" in answer.json()["detail"]
    unknown = await api.call("POST", "/relationships", supplier, json={"buyer_company_id": "c-nobody"})
    assert unknown.status_code == 404


# --------------------------------------------------------------------------- drafts, validation, issuing


async def test_a_draft_is_computed_validated_edited_and_issued_with_one_credit(api):
    seller, buyer = await api.world.trading_pair()

    created = await api.call("POST", "/invoices", seller, json=draft(buyer, payment_terms=None, due_date=None))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["number"], body["role"]) == ("draft", None, "seller")
    totals = body["document"]["totals"]
    # 2 x 650 - 10 % = 1170 ; + 120 = 1290 lines ; - 50 + 25 = 1265 ; VAT 20 % = 253 ; 1518 due.
    assert (totals["line_total"], totals["tax_exclusive"], totals["tax_total"], totals["payable"]) == (
        "1290.00",
        "1265.00",
        "253.00",
        "1518.00",
    )
    report = body["validation_report"]
    assert report["valid"] is False
    assert {(f["rule"], f["field"]) for f in report["findings"]} >= {("BR-CO-25", "due_date")}

    fixed = await api.call("PUT", f"/invoices/{body['id']}", seller, json=draft(buyer))
    assert fixed.status_code == 200 and fixed.json()["validation_report"]["valid"] is True

    issued = await api.call("POST", f"/invoices/{body['id']}/issue", seller)
    assert issued.status_code == 200, issued.text
    invoice = issued.json()
    assert invoice["status"] == "issued" and invoice["number"].startswith("F")
    assert invoice["payable"] == "1518.00" and invoice["remaining_to_credit"] == "1518.00"
    balance = await api.call("GET", "/billing/balance", seller)
    assert balance.json()["balance"] == api.world.ctx.welcome_credits - 1
    assert [m["kind"] for m in balance.json()["movements"]][:2] == ["issue", "welcome"]
    # Issued documents never change.
    assert (await api.call("PUT", f"/invoices/{body['id']}", seller, json=draft(buyer))).status_code == 409


async def test_validation_reasons_are_given_in_the_readers_language(api):
    seller, buyer = await api.world.trading_pair()
    bad = draft(buyer, currency="eur", lines=[{**LINE, "vat_rate": "7"}])

    french = await api.call("POST", "/invoices", seller, json=bad, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    english = await api.call("POST", "/invoices", seller, json=bad, headers={"Accept-Language": "en"})

    fr_findings = {f["rule"]: f for f in french.json()["validation_report"]["findings"]}
    en_findings = {f["rule"]: f for f in english.json()["validation_report"]["findings"]}
    assert set(fr_findings) >= {"BR-5", "CTRY-FR-RATE"}
    assert fr_findings["BR-5"]["message"].startswith("Indiquez la devise")
    assert en_findings["BR-5"]["message"].startswith("Give the currency")
    # Cross-border within the EU: the seller's rates and the buyer's (distance sales) are accepted.
    assert "20" in en_findings["CTRY-FR-RATE"]["message"] and "5.5" in en_findings["CTRY-FR-RATE"]["message"]
    assert fr_findings["CTRY-FR-RATE"]["field"] == "lines[0].vat_rate"
    issue = await api.call("POST", f"/invoices/{french.json()['id']}/issue", seller, headers={"Accept-Language": "fr"})
    assert issue.status_code == 422 and issue.json()["code"] == "invalid_invoice"
    assert {f["rule"] for f in issue.json()["validation_report"]["findings"]} >= {"BR-5", "CTRY-FR-RATE"}


async def test_reverse_charge_without_the_buyers_vat_id_is_refused_with_br_ae_02(api):
    seller = await api.world.company("FR")
    buyer = await api.world.company("BE", vat_id=None)
    await api.world.connect(seller, buyer)
    body = draft(
        buyer,
        lines=[{**LINE, "vat_category": "AE", "vat_rate": "0"}],
        charges=[],
        allowances=[],
    )

    created = await api.call("POST", "/invoices", seller, json=body)
    issued = await api.call("POST", f"/invoices/{created.json()['id']}/issue", seller)

    assert issued.status_code == 422
    findings = issued.json()["validation_report"]["findings"]
    assert ("BR-AE-02", "buyer.vat_id") in {(f["rule"], f["field"]) for f in findings}
    assert (await api.call("GET", "/billing/balance", seller)).json()["balance"] == api.world.ctx.welcome_credits


async def test_issuing_with_no_credit_left_fails_clearly_and_uses_nothing(api):
    seller, buyer = await api.world.trading_pair()
    created = await api.call("POST", "/invoices", seller, json=draft(buyer))
    async with api.world.sessions() as session, session.begin():
        (await session.get(CreditAccount, seller)).balance = 0

    refused = await api.call("POST", f"/invoices/{created.json()['id']}/issue", seller)

    assert refused.status_code == 402
    assert refused.json()["code"] == "no_credits_left" and "nothing was used" in refused.json()["detail"]
    still = await api.call("GET", f"/invoices/{created.json()['id']}", seller)
    assert (still.json()["status"], still.json()["number"]) == ("draft", None)
    assert (await api.call("GET", "/billing/balance", seller)).json()["balance"] == 0


async def test_invoice_endpoints_check_rights(api):
    seller, buyer = await api.world.trading_pair()
    viewer_only = {"invoices:view"}
    assert (await api.call("POST", "/invoices", seller, rights=viewer_only, json=draft(buyer))).status_code == 403
    assert (await api.call("GET", "/invoices", seller, rights={"billing"})).status_code == 403
    assert (await api.call("GET", "/billing/balance", seller, rights=viewer_only)).status_code == 403
    assert (await api.client.get("/invoices")).status_code == 401


# --------------------------------------------------------------------------- credit notes


async def test_a_credit_note_references_its_invoice_has_its_own_series_and_never_exceeds_the_remainder(api):
    seller, buyer = await api.world.trading_pair()
    invoice = await issue_one(api, seller, buyer)
    travel_line = invoice["document"]["lines"][1]["line_id"]

    partial = await api.call(
        "POST",
        f"/invoices/{invoice['id']}/credit-notes",
        seller,
        json={"lines": [{"line_id": travel_line}], "reason": "Travel not due", "issue": True},
    )
    assert partial.status_code == 201, partial.text
    credit_note = partial.json()
    assert credit_note["type_code"] == "381" and credit_note["number"].startswith("C")
    assert credit_note["payable"] == "144.00"  # 120 + 20 % VAT
    assert credit_note["document"]["preceding_invoice"]["number"] == invoice["number"]

    too_much = await api.call("POST", f"/invoices/{invoice['id']}/credit-notes", seller, json={"full": True})
    assert too_much.status_code == 409 and too_much.json()["code"] == "credit_exceeds_remainder"
    assert too_much.json()["remaining"] == "1374.00"

    seen = (await api.call("GET", f"/invoices/{invoice['id']}", seller)).json()
    assert (seen["credited_amount"], seen["remaining_to_credit"]) == ("144.00", "1374.00")
    assert [cn["number"] for cn in seen["credit_notes"]] == [credit_note["number"]]
    # The buyer sees both, linked.
    as_buyer = (await api.call("GET", f"/invoices/{invoice['id']}", buyer)).json()
    assert [cn["id"] for cn in as_buyer["credit_notes"]] == [credit_note["id"]]
    linked = (await api.call("GET", f"/invoices/{credit_note['id']}", buyer)).json()
    assert linked["corrects"]["number"] == invoice["number"] and linked["role"] == "buyer"


async def test_two_credit_notes_racing_for_the_same_remainder_cannot_both_be_issued(api):
    seller, buyer = await api.world.trading_pair()
    invoice = await issue_one(api, seller, buyer)
    drafts = []
    for _ in range(2):
        created = await api.call("POST", f"/invoices/{invoice['id']}/credit-notes", seller, json={"full": True})
        assert created.status_code == 201
        drafts.append(created.json()["id"])

    results = await asyncio.gather(*(api.call("POST", f"/invoices/{d}/issue", seller) for d in drafts))

    assert sorted(r.status_code for r in results) == [200, 409]
    assert (await api.call("GET", f"/invoices/{invoice['id']}", seller)).json()["remaining_to_credit"] == "0.00"


# --------------------------------------------------------------------------- withdrawal


async def test_withdrawing_warns_then_needs_confirmation_and_a_recent_second_factor(api):
    seller, buyer = await api.world.trading_pair()
    invoice = await issue_one(api, seller, buyer)
    path = f"/invoices/{invoice['id']}"

    warned = await api.call("DELETE", path, seller)
    assert warned.status_code == 428
    assert warned.json()["recommendation"] == "credit_note" and "credit note" in warned.json()["detail"]
    weak = await api.call("DELETE", path, seller, params={"confirm": "true"})
    assert weak.status_code == 401 and "insufficient_user_authentication" in weak.headers["www-authenticate"]
    stale = await api.call("DELETE", path, seller, params={"confirm": "true"}, acr="aal2", auth_age_s=3600)
    assert stale.status_code == 401
    assert (await api.call("DELETE", path, buyer, params={"confirm": "true"}, acr="aal2")).status_code == 403

    done = await api.call("DELETE", path, seller, json={"confirm": True, "reason": "Sent twice"}, acr="aal2")
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["withdrawn_reason"]) == ("withdrawn", "Sent twice")

    for company in (seller, buyer):
        working = (await api.call("GET", "/invoices", company)).json()
        assert invoice["id"] not in {i["id"] for i in working["items"]}
        archive = (await api.call("GET", "/invoices?include_withdrawn=true", company)).json()
        assert invoice["id"] in {i["id"] for i in archive["items"]}
    assert len(await sends_for(api, invoice["id"], "invoice-withdrawn")) >= 1
    alerts = await sends_for(api, invoice["id"], "security-alert")
    assert alerts and alerts[0].params["event"] == "invoice_withdrawn"


# --------------------------------------------------------------------------- buyer statuses and lists


async def test_the_buyer_sets_statuses_the_supplier_sees_them_and_each_change_is_told(api):
    seller, buyer = await api.world.trading_pair()
    invoice = await issue_one(api, seller, buyer)
    path = f"/invoices/{invoice['id']}/buyer-status"

    assert (await api.call("PUT", path, seller, json={"status": "approved"})).status_code == 403
    no_reason = await api.call("PUT", path, buyer, json={"status": "rejected"})
    assert no_reason.status_code == 409 and "why" in no_reason.json()["detail"]
    for status in ("received", "on_hold", "approved"):
        answer = await api.call("PUT", path, buyer, json={"status": status, "reason": "checking PO"})
        assert answer.status_code == 200 and answer.json()["buyer_status"] == status
    assert (await api.call("PUT", path, buyer, json={"status": "received"})).status_code == 409

    seen = (await api.call("GET", f"/invoices/{invoice['id']}", seller)).json()
    assert seen["buyer_status"] == "approved"
    assert [h["buyer_status"] for h in seen["history"] if h["buyer_status"]] == ["received", "on_hold", "approved"]
    told = await sends_for(api, invoice["id"], "invoice-status-changed")
    assert {s.params["status"] for s in told} == {"in_review", "approved"}
    async with api.world.sessions() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.topic == catalogue.INVOICE_STATUS_CHANGED.name)
            )
        ).all()
    published = [InvoiceStatusChanged.model_validate_json(r.payload) for r in rows if r.key == invoice["id"]]
    published.sort(key=lambda e: e.occurred_at)  # type: ignore[arg-type,return-value]
    assert [(e.status, e.buyer_status, e.changed_by) for e in published] == [
        ("issued", None, "seller"),
        ("issued", "received", "buyer"),
        ("issued", "on_hold", "buyer"),
        ("issued", "approved", "buyer"),
    ]


async def test_lists_filter_by_status_counterparty_dates_and_amount_and_paginate(api):
    seller, buyer = await api.world.trading_pair()
    other_buyer = await api.world.company("DE")
    await api.world.connect(seller, other_buyer)
    small = await issue_one(api, seller, buyer, lines=[{**LINE, "quantity": "1"}], charges=[], allowances=[])
    await issue_one(api, seller, buyer)
    await issue_one(api, seller, other_buyer)
    await api.call("POST", "/invoices", seller, json=draft(buyer))  # a draft

    async def listed(company: str, query: str) -> dict[str, Any]:
        answer = await api.call("GET", f"/invoices?{query}", company)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert (await listed(seller, "role=sent"))["total"] == 4
    assert (await listed(seller, "status=draft"))["total"] == 1
    assert (await listed(buyer, "role=received"))["total"] == 2, "the buyer never sees drafts"
    assert (await listed(seller, f"counterparty={other_buyer}"))["total"] == 1
    cheap = await listed(seller, "status=issued&amount_max=1000")
    assert [i["id"] for i in cheap["items"]] == [small["id"]]
    today = date.today().isoformat()
    assert (await listed(seller, f"status=issued&issued_from={today}&issued_to={today}"))["total"] == 3
    assert (await listed(seller, "status=issued&issued_to=2000-01-01"))["total"] == 0
    first = await listed(seller, "limit=2&offset=0")
    second = await listed(seller, "limit=2&offset=2")
    assert first["total"] == second["total"] == 4 and len(first["items"]) == len(second["items"]) == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    await api.call("PUT", f"/invoices/{small['id']}/buyer-status", buyer, json={"status": "approved"})
    assert [i["id"] for i in (await listed(seller, "buyer_status=approved"))["items"]] == [small["id"]]


async def test_issued_documents_download_as_ubl_and_cii_for_both_parties_only(api):
    seller, buyer = await api.world.trading_pair()
    invoice = await issue_one(api, seller, buyer)
    stranger = await api.world.company("DE")

    for fmt, root in (("ubl", "Invoice"), ("cii", "CrossIndustryInvoice")):
        for company in (seller, buyer):
            answer = await api.call("GET", f"/invoices/{invoice['id']}/{fmt}", company)
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
            assert f"{root} " in answer.text and invoice["number"] in answer.text
        assert (await api.call("GET", f"/invoices/{invoice['id']}/{fmt}", stranger)).status_code == 404
    a_draft = (await api.call("POST", "/invoices", seller, json=draft(buyer))).json()
    assert (await api.call("GET", f"/invoices/{a_draft['id']}/ubl", seller)).status_code == 409


# --------------------------------------------------------------------------- billing


async def test_buying_a_pack_adds_credits_gives_a_receipt_and_a_retry_is_never_charged_twice(api):
    company = await api.world.company("FR")
    packs = (await api.call("GET", "/billing/packs", company)).json()
    assert {p["id"] for p in packs} >= {"pack-50"} and all(p["vat_rate"] == "20" for p in packs)
    provider = api.app.state.payment_provider
    before = provider.authorisations
    body = {"pack_id": "pack-50", "payment_method": "pm_card_visa"}

    bought = await api.call("POST", "/billing/purchases", company, json=body, headers={"Idempotency-Key": "buy-0001"})
    retried = await api.call("POST", "/billing/purchases", company, json=body, headers={"Idempotency-Key": "buy-0001"})

    assert bought.status_code == retried.status_code == 201, bought.text
    assert bought.json()["id"] == retried.json()["id"] and provider.authorisations == before + 1
    purchase = bought.json()
    assert (purchase["status"], purchase["amount"], purchase["receipt_number"][:1]) == ("paid", "48.00", "R")
    assert (await api.call("GET", "/billing/balance", company)).json()["balance"] == api.world.ctx.welcome_credits + 50
    receipt = (await api.call("GET", f"/billing/purchases/{purchase['id']}/receipt", company)).json()
    assert (receipt["net_amount"], receipt["vat_amount"], receipt["total"]) == ("40.00", "8.00", "48.00")
    assert receipt["receipt_number"] == purchase["receipt_number"]
    history = (await api.call("GET", "/billing/purchases", company)).json()
    assert [p["id"] for p in history] == [purchase["id"]]
    assert await sends_for(api, purchase["id"], "purchase-receipt")
    other_pack = await api.call(
        "POST",
        "/billing/purchases",
        company,
        json={**body, "pack_id": "pack-10"},
        headers={"Idempotency-Key": "buy-0001"},
    )
    assert other_pack.status_code == 409


async def test_a_declined_payment_adds_nothing_and_says_why(api):
    company = await api.world.company("FR")

    declined = await api.call(
        "POST",
        "/billing/purchases",
        company,
        json={"pack_id": "pack-10", "payment_method": "pm_card_insufficient_funds"},
        headers={"Idempotency-Key": "buy-declined-1"},
    )

    assert declined.status_code == 402
    assert declined.json()["decline_code"] == "insufficient_funds"
    assert (await api.call("GET", "/billing/balance", company)).json()["balance"] == api.world.ctx.welcome_credits
    (purchase,) = (await api.call("GET", "/billing/purchases", company)).json()
    assert purchase["status"] == "declined"
    assert (await api.call("GET", f"/billing/purchases/{purchase['id']}/receipt", company)).status_code == 409


async def test_the_low_credits_notice_goes_out_when_the_balance_reaches_the_threshold(api):
    seller, buyer = await api.world.trading_pair()
    threshold = api.world.ctx.low_credits_threshold
    async with api.world.sessions() as session, session.begin():
        (await session.get(CreditAccount, seller)).balance = threshold + 1

    await issue_one(api, seller, buyer)

    async with api.world.sessions() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.topic == catalogue.SEND_REQUESTED.name))
        ).all()
    notices = [SendRequested.model_validate_json(r.payload) for r in rows]
    mine = [n for n in notices if n.template == "low-credits" and n.tenant == seller]
    assert len(mine) == 1 and mine[0].params["credits_remaining"] == threshold
