"""Deleting versus crediting through the gateway: drafts go, issued invoices are corrected by credit notes."""

from __future__ import annotations

import pytest

from factora_testing.portal import Portal
from factora_testing.trading import (
    company,
    draft_and_issue,
    invoice_form,
    join,
    line,
    mail_about,
    request_connection,
    start_draft,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_a_draft_is_deleted_but_an_issued_invoice_is_corrected_by_credit_notes_up_to_its_amount(
    gateway, smtp_catcher
):
    portal = Portal(gateway.url)
    supplier = await join(portal, smtp_catcher, company("Atelier Lumière SARL", "FR", vat_id="FR40303265045"))
    buyer = await join(portal, smtp_catcher, company("Brasserie du Parc SAS", "FR", vat_id="FR83404833048"))
    asked = await request_connection(supplier, buyer)
    assert (await buyer.post("invoicing", f"/relationships/{asked['id']}/accept")).status_code == 200

    # A draft started by mistake is simply deleted: it is gone.
    mistake = await start_draft(supplier, invoice_form(buyer, line("Lustre (doublon)", "1", "990.00")))
    assert mistake.status_code == 201, mistake.text
    deleted = await supplier.delete("invoicing", f"/invoices/{mistake.json()['id']}")
    assert deleted.status_code == 204, deleted.text
    assert (await supplier.get("invoicing", f"/invoices/{mistake.json()['id']}")).status_code == 404
    drafts = await supplier.get("invoicing", "/invoices", params={"status": "draft"})
    assert drafts.json()["total"] == 0

    # An issued invoice: 4 wall lamps and their installation, 960.00 with VAT.
    invoice = await draft_and_issue(
        supplier,
        buyer,
        invoice_form(buyer, line("Applique murale", "4", "150.00"), line("Pose", "1", "200.00")),
    )
    assert invoice["payable"] == "960.00"
    lamps, fitting = (ln["line_id"] for ln in invoice["document"]["lines"])

    # "Deleting" it answers 428: a credit note is recommended; nothing changed.
    warned = await supplier.delete("invoicing", f"/invoices/{invoice['id']}")
    assert warned.status_code == 428, warned.text
    assert warned.json()["code"] == "confirmation_required"
    assert warned.json()["recommendation"] == "credit_note" and "credit note" in warned.json()["detail"]
    still = await supplier.get("invoicing", f"/invoices/{invoice['id']}")
    assert still.json()["status"] != "withdrawn" and still.json()["withdrawn_at"] is None

    # One lamp came back broken: a credit note for it.
    first = await supplier.post(
        "invoicing",
        f"/invoices/{invoice['id']}/credit-notes",
        json={"lines": [{"line_id": lamps, "quantity": "1"}], "reason": "Applique livrée cassée", "issue": True},
    )
    assert first.status_code == 201, first.text
    assert (first.json()["type_code"], first.json()["payable"], first.json()["status"]) == ("381", "180.00", "issued")

    # Crediting the whole invoice again would take back more than is left: refused, with the remainder.
    too_much = await supplier.post(
        "invoicing", f"/invoices/{invoice['id']}/credit-notes", json={"full": True, "issue": True}
    )
    assert too_much.status_code == 409, too_much.text
    assert too_much.json()["code"] == "credit_exceeds_remainder"
    assert (too_much.json()["remaining"], too_much.json()["requested"]) == ("780.00", "960.00")

    # The order is cancelled: the rest is credited.
    rest = await supplier.post(
        "invoicing",
        f"/invoices/{invoice['id']}/credit-notes",
        json={
            "lines": [{"line_id": lamps, "quantity": "3"}, {"line_id": fitting}],
            "reason": "Commande annulée",
            "issue": True,
        },
    )
    assert rest.status_code == 201, rest.text
    assert rest.json()["payable"] == "780.00"
    # Nothing is left to credit, and a credited invoice can no longer be withdrawn at all.
    nothing_left = await supplier.post(
        "invoicing",
        f"/invoices/{invoice['id']}/credit-notes",
        json={"extra_lines": [line("Geste commercial", "1", "1.00")], "issue": True},
    )
    assert nothing_left.status_code == 409 and nothing_left.json()["remaining"] == "0.00", nothing_left.text
    confirmed = await supplier.delete("invoicing", f"/invoices/{invoice['id']}", params={"confirm": "true"})
    assert confirmed.status_code == 409 and "credit notes" in confirmed.json()["detail"].lower(), confirmed.text

    # The buyer sees both credit notes on the invoice, and the invoice on each credit note.
    seen = await buyer.get("invoicing", f"/invoices/{invoice['id']}")
    assert seen.status_code == 200, seen.text
    assert {cn["number"] for cn in seen.json()["credit_notes"]} == {first.json()["number"], rest.json()["number"]}
    assert (seen.json()["credited_amount"], seen.json()["remaining_to_credit"]) == ("960.00", "0.00")
    for note in (first.json(), rest.json()):
        as_buyer = await buyer.get("invoicing", f"/invoices/{note['id']}")
        assert as_buyer.json()["corrects"]["number"] == invoice["number"], as_buyer.text
        assert as_buyer.json()["document"]["preceding_invoice"]["number"] == invoice["number"]
    received = await buyer.get("invoicing", "/invoices", params={"role": "received", "type_code": "381"})
    assert {i["corrects_invoice_id"] for i in received.json()["items"]} == {invoice["id"]}

    # The accounts team got the invoice, then each credit note naming the invoice it corrects.
    await mail_about(smtp_catcher, buyer.invoice_email, invoice["number"])
    for note in (first.json(), rest.json()):
        mail = await mail_about(smtp_catcher, buyer.invoice_email, note["number"])
        assert invoice["number"] in mail.get_body(preferencelist=("plain",)).get_content()

    # An invoice sent twice by mistake is withdrawn after all: confirmed, by an administrator whose
    # sign-in used the second factor a moment ago (acr aal2). It leaves the working lists.
    duplicate = await draft_and_issue(supplier, buyer, invoice_form(buyer, line("Pose", "1", "200.00")))
    assert supplier.member.tokens["acr"] == "aal2"
    withdrawn = await supplier.delete(
        "invoicing", f"/invoices/{duplicate['id']}", json={"confirm": True, "reason": "Facture envoyée en double"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["withdrawn_reason"]) == (
        "withdrawn",
        "Facture envoyée en double",
    )
    working = await buyer.get("invoicing", "/invoices", params={"role": "received", "type_code": "380"})
    assert [i["id"] for i in working.json()["items"]] == [invoice["id"]]
    archive_view = await buyer.get(
        "invoicing", "/invoices", params={"role": "received", "type_code": "380", "include_withdrawn": "true"}
    )
    assert {i["id"] for i in archive_view.json()["items"]} == {invoice["id"], duplicate["id"]}
    told = await mail_about(smtp_catcher, buyer.invoice_email, duplicate["number"], "retirée")
    assert "Facture envoyée en double" in told.get_body(preferencelist=("plain",)).get_content()
