"""A supplier connects with several buyers through the gateway, and invoices reach only the connected ones."""

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


async def test_a_supplier_connects_with_three_buyers_and_invoices_only_those_still_connected(gateway, smtp_catcher):
    portal = Portal(gateway.url)
    supplier = await join(portal, smtp_catcher, company("Atelier Lumière SARL", "FR", vat_id="FR40303265045"))
    bistro = await join(portal, smtp_catcher, company("Bistrot des Canuts SAS", "FR", vat_id="FR83404833048"))
    galerie = await join(portal, smtp_catcher, company("Galerie Royale SPRL", "BE", vat_id="BE0403170701"))
    hotel = await join(portal, smtp_catcher, company("Hôtel du Parc SA", "FR", vat_id="FR03552081317"))

    # The bistro gives the supplier a one-time invitation code: entering it connects them at once.
    invitation = await bistro.post("invoicing", "/relationships/invitations", json={"note": "Atelier Lumière"})
    assert invitation.status_code == 201, invitation.text
    code = invitation.json()["code"]
    redeemed = await supplier.post("invoicing", "/relationships/invitations/redeem", json={"code": code})
    assert redeemed.status_code == 200, redeemed.text
    assert (redeemed.json()["status"], redeemed.json()["requested_by"]) == ("active", "invitation")
    # The code works once.
    again = await supplier.post("invoicing", "/relationships/invitations/redeem", json={"code": code})
    assert again.status_code == 404 and "already used" in again.json()["detail"]

    # The supplier asks the gallery and the hotel; the gallery accepts, the hotel declines.
    to_galerie = await request_connection(supplier, galerie, "Nos luminaires pour vos salles")
    to_hotel = await request_connection(supplier, hotel, "Nos luminaires pour vos chambres")
    assert to_galerie["status"] == to_hotel["status"] == "requested"
    pending = await galerie.get("invoicing", "/relationships", params={"role": "buyer", "status": "requested"})
    assert [(r["id"], r["supplier_name"]) for r in pending.json()] == [(to_galerie["id"], supplier.name)]
    accepted = await galerie.post("invoicing", f"/relationships/{to_galerie['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "active", accepted.text
    declined = await hotel.post("invoicing", f"/relationships/{to_hotel['id']}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined", declined.text
    # Only the buyer answers a request.
    assert (await supplier.post("invoicing", f"/relationships/{to_hotel['id']}/accept")).status_code == 403

    mine = await supplier.get("invoicing", "/relationships", params={"role": "supplier"})
    assert {r["buyer_name"]: r["status"] for r in mine.json()} == {
        bistro.name: "active",
        galerie.name: "active",
        hotel.name: "declined",
    }

    # Invoicing the hotel, which declined, is refused with what to do.
    refused = await start_draft(supplier, invoice_form(hotel, line("Applique murale", "4", "89.00")))
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "buyer_not_connected"
    assert "not connected" in refused.json()["detail"] and "POST /relationships" in refused.json()["detail"]

    # The connected buyers get their invoices, and their accounts teams the e-mail.
    to_bistro = await draft_and_issue(supplier, bistro, invoice_form(bistro, line("Suspension laiton", "3", "240.00")))
    to_galerie_first = await draft_and_issue(
        supplier, galerie, invoice_form(galerie, line("Lampadaire", "2", "310.00"))
    )
    assert to_bistro["payable"] == "864.00" and to_galerie_first["payable"] == "744.00"
    for buyer, invoice in ((bistro, to_bistro), (galerie, to_galerie_first)):
        mail = await mail_about(smtp_catcher, buyer.invoice_email, invoice["number"])
        assert supplier.name in mail.get_body(preferencelist=("plain",)).get_content()

    # The gallery ends the relationship while the supplier has another draft for it.
    unsent = await start_draft(supplier, invoice_form(galerie, line("Abat-jour", "6", "45.00")))
    assert unsent.status_code == 201, unsent.text
    ended = await galerie.post("invoicing", f"/relationships/{to_galerie['id']}/end")
    assert ended.status_code == 200 and ended.json()["status"] == "ended", ended.text

    blocked = await supplier.post("invoicing", f"/invoices/{unsent.json()['id']}/issue")
    assert blocked.status_code == 409 and blocked.json()["code"] == "buyer_not_connected", blocked.text
    assert "no longer connected" in blocked.json()["detail"]
    assert (await start_draft(supplier, invoice_form(galerie, line("Abat-jour", "6", "45.00")))).status_code == 409
    # What was issued before stays, for both sides.
    kept = await galerie.get("invoicing", f"/invoices/{to_galerie_first['id']}")
    assert kept.status_code == 200 and kept.json()["number"] == to_galerie_first["number"]
    received = await galerie.get("invoicing", "/invoices", params={"role": "received"})
    assert [i["number"] for i in received.json()["items"]] == [to_galerie_first["number"]]
    # The hotel received nothing.
    assert (await hotel.get("invoicing", "/invoices", params={"role": "received"})).json()["total"] == 0
