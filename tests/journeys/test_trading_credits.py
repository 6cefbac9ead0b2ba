"""Transaction credits through the gateway: out of credits, a declined card, a pack bought, an invoice issued."""

from __future__ import annotations

import pytest

from factora_testing.portal import Portal
from factora_testing.trading import (
    balance_of,
    company,
    idempotency_key,
    invoice_form,
    join,
    line,
    mail_about,
    request_connection,
    start_draft,
    until_delivered,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_a_supplier_out_of_credits_buys_a_pack_and_issues_while_a_declined_card_adds_nothing(
    gateway, smtp_catcher
):
    portal = Portal(gateway.url)
    supplier = await join(portal, smtp_catcher, company("Atelier Lumière SARL", "FR", vat_id="FR40303265045"))
    # No invoice-recipient contact: the supplier addresses its invoice to a buyer contact on the form.
    buyer = await join(
        portal, smtp_catcher, company("Brasserie du Parc SAS", "FR", vat_id="FR83404833048"), invoice_recipient=False
    )
    buyer_contact = f"achats-{buyer.company_id[:8]}@brasserie.example"
    asked = await request_connection(supplier, buyer)
    assert (await buyer.post("invoicing", f"/relationships/{asked['id']}/accept")).status_code == 200

    # Every member starts with welcome credits. Members have no way to give credits back, so the
    # supplier spends them the only way there is: one small invoice each.
    welcome = await balance_of(supplier)
    assert welcome > 0
    for _ in range(welcome):
        draft = await start_draft(supplier, invoice_form(buyer, line("Ampoule LED", "1", "4.00")))
        assert draft.status_code == 201, draft.text
        issued = await supplier.post("invoicing", f"/invoices/{draft.json()['id']}/issue")
        assert issued.status_code == 200, issued.text
    assert await balance_of(supplier) == 0

    # With no credit left, issuing is refused, says what to do, and uses nothing.
    form = invoice_form(buyer, line("Lustre à pampilles", "1", "1450.00"), buyer_contact_email=buyer_contact)
    draft = await supplier.post("invoicing", "/invoices", json=form)
    assert draft.status_code == 201, draft.text
    refused = await supplier.post("invoicing", f"/invoices/{draft.json()['id']}/issue")
    assert refused.status_code == 402, refused.text
    assert refused.json()["code"] == "no_credits_left"
    assert "no transaction credits left" in refused.json()["detail"]
    assert "/billing/purchases" in refused.json()["detail"]
    still = await supplier.get("invoicing", f"/invoices/{draft.json()['id']}")
    assert (still.json()["status"], still.json()["number"]) == ("draft", None)

    # The Billing page offers packs (French VAT for a French company).
    packs = await supplier.get("invoicing", "/billing/packs")
    assert packs.status_code == 200, packs.text
    pack = next(p for p in packs.json() if p["id"] == "pack-10")
    assert (pack["credits"], pack["price"], pack["vat_rate"], pack["total"]) == (10, "9.00", "20", "10.80")

    # A declined card: 402 with the processor's reason, no credits, nothing charged.
    declined = await supplier.post(
        "invoicing",
        "/billing/purchases",
        json={"pack_id": "pack-10", "payment_method": "pm_card_declined"},
        headers={"Idempotency-Key": idempotency_key()},
    )
    assert declined.status_code == 402, declined.text
    assert declined.json()["code"] == "payment_declined" and declined.json()["decline_code"]
    assert "No credits were added" in declined.json()["detail"]
    assert await balance_of(supplier) == 0

    # A good card: the pack is paid, the balance goes up by its credits, a receipt is numbered.
    key = idempotency_key()
    bought = await supplier.post(
        "invoicing",
        "/billing/purchases",
        json={"pack_id": "pack-10", "payment_method": "pm_card_visa"},
        headers={"Idempotency-Key": key},
    )
    assert bought.status_code == 201, bought.text
    assert (bought.json()["status"], bought.json()["credits"], bought.json()["amount"]) == ("paid", 10, "10.80")
    # The same request again (a retry after a lost answer) is the same purchase, not a second charge.
    retried = await supplier.post(
        "invoicing",
        "/billing/purchases",
        json={"pack_id": "pack-10", "payment_method": "pm_card_visa"},
        headers={"Idempotency-Key": key},
    )
    assert retried.status_code == 201 and retried.json()["id"] == bought.json()["id"], retried.text
    assert await balance_of(supplier) == 10
    receipt = await supplier.get("invoicing", f"/billing/purchases/{bought.json()['id']}/receipt")
    assert receipt.status_code == 200 and receipt.json()["total"] == "10.80", receipt.text
    history = await supplier.get("invoicing", "/billing/purchases")
    assert [p["status"] for p in history.json()] == ["paid", "declined"]

    # Now the invoice goes out, and uses exactly one credit.
    issued = await supplier.post("invoicing", f"/invoices/{draft.json()['id']}/issue")
    assert issued.status_code == 200, issued.text
    assert issued.json()["payable"] == "1740.00"
    balance = await supplier.get("invoicing", "/billing/balance")
    assert balance.json()["balance"] == 9
    assert [(m["kind"], m["delta"]) for m in balance.json()["movements"][:2]] == [("issue", -1), ("purchase", 10)]

    # It is sealed and delivered, and the buyer's contact named on the form gets the e-mail.
    await until_delivered(buyer, issued.json()["id"])
    await mail_about(smtp_catcher, buyer_contact, issued.json()["number"])
