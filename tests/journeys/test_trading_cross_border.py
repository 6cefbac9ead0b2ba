"""Cross-border invoices through the gateway: intra-EU reverse charge (AE) and an export outside the EU (G)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factora_testing.portal import Portal
from factora_testing.trading import (
    balance_of,
    company,
    finding_message,
    findings,
    invoice_form,
    join,
    line,
    mail_about,
    mails_to,
    request_connection,
    start_draft,
    until_delivered,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def connected(supplier, buyer) -> None:  # type: ignore[no-untyped-def]
    """The supplier asks, the buyer accepts."""
    asked = await request_connection(supplier, buyer)
    accepted = await buyer.post("invoicing", f"/relationships/{asked['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "active", accepted.text


async def test_a_reverse_charge_invoice_to_germany_needs_the_buyers_vat_id_and_carries_the_mention(
    gateway, smtp_catcher
):
    portal = Portal(gateway.url)
    supplier = await join(portal, smtp_catcher, company("Atelier Lumière SARL", "FR", vat_id="FR40303265045"))
    # The German buyer signed up with its tax number only: no VAT id yet.
    buyer = await join(portal, smtp_catcher, company("Brauhaus Licht GmbH", "DE", tax_id="27/815/08155", locale="en"))
    await connected(supplier, buyer)
    credits_before = await balance_of(supplier)
    form = invoice_form(
        buyer,
        line("Pendelleuchte Messing", "5", "180.00", vat_rate="0", category="AE"),
        line("Montage", "1", "250.00", vat_rate="0", category="AE"),
        currency="EUR",
    )

    # Reverse charge without the buyer's VAT id: the draft is kept, issuing is refused naming the rule and field.
    draft = await start_draft(supplier, form, until=mails_to(buyer))
    assert draft.status_code == 201, draft.text
    assert ("BR-AE-02", "buyer.vat_id") in findings(draft)
    refused = await supplier.post(
        "invoicing", f"/invoices/{draft.json()['id']}/issue", headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_invoice", refused.text
    assert findings(refused) == {("BR-AE-02", "buyer.vat_id")}
    assert "buyer's VAT identifier" in finding_message(refused, "BR-AE-02")
    assert await balance_of(supplier) == credits_before

    # The buyer adds its VAT id to its company profile; it reaches invoicing, and the draft picks it up.
    patched = await buyer.call("PATCH", "identity", "/company", json={"vat_id": "DE129273398"})
    assert patched.status_code == 200 and patched.json()["vat_id"] == "DE129273398", patched.text
    draft = await start_draft(
        supplier,
        form,
        until=lambda d: d["document"]["buyer"].get("vat_id") == "DE129273398",
        what="the buyer's new VAT id in invoicing's party read model",
    )
    assert findings(draft) == set() and findings(draft, "warning") == set()
    issued = await supplier.post("invoicing", f"/invoices/{draft.json()['id']}/issue")
    assert issued.status_code == 200, issued.text
    invoice = issued.json()
    document = invoice["document"]

    # 0 % VAT, category AE, the reverse-charge mention, both VAT ids; totals without VAT.
    assert {(ln["vat_category"], Decimal(ln["vat_rate"])) for ln in document["lines"]} == {("AE", Decimal(0))}
    assert document["vat_breakdown"] == [
        {
            "category": "AE",
            "rate": "0",
            "taxable_amount": "1150.00",
            "tax_amount": "0.00",
            "exemption_reason": "Reverse charge",
        }
    ]
    assert (document["seller"]["vat_id"], document["buyer"]["vat_id"]) == ("FR40303265045", "DE129273398")
    totals = document["totals"]
    assert (totals["tax_exclusive"], totals["tax_total"], totals["payable"]) == ("1150.00", "0.00", "1150.00")
    assert await balance_of(supplier) == credits_before - 1

    # The sealed Factur-X XML in the archive says the same, with the VATEX code.
    delivered = await until_delivered(supplier, invoice["id"])
    xml = await buyer.get("signing", f"/archive/documents/{delivered['archive_id']}/xml")
    assert xml.status_code == 200, xml.text
    for mention in ("<ram:CategoryCode>AE</ram:CategoryCode>", "VATEX-EU-AE", "Reverse charge", "DE129273398"):
        assert mention in xml.text
    mail = await mail_about(smtp_catcher, buyer.invoice_email, invoice["number"])
    assert "1,150.00" in mail.get_body(preferencelist=("plain",)).get_content()


async def test_an_export_to_the_united_states_is_invoiced_without_vat_under_category_g(gateway, smtp_catcher):
    portal = Portal(gateway.url)
    supplier = await join(portal, smtp_catcher, company("Atelier Lumière SARL", "FR", vat_id="FR40303265045"))
    buyer = await join(portal, smtp_catcher, company("Hudson Lighting Inc", "US", tax_id="12-3456789", locale="en"))
    await connected(supplier, buyer)

    # French VAT on an export is flagged (a warning), with the way out.
    taxed = await start_draft(
        supplier,
        invoice_form(buyer, line("Chandelier, handmade", "2", "1200.00", vat_rate="20"), currency="USD"),
        until=mails_to(buyer),
    )
    assert taxed.status_code == 201, taxed.text
    assert findings(taxed, "warning") == {("EU-EXP-02", "lines[0].vat_category")}

    # The supplier invoices the export under G: no VAT, no VAT id needed from the American buyer.
    export = invoice_form(
        buyer,
        line("Chandelier, handmade", "2", "1200.00", vat_rate="0", category="G"),
        line("Crating and export paperwork", "1", "150.00", vat_rate="0", category="G"),
        currency="USD",
    )
    saved = await supplier.put("invoicing", f"/invoices/{taxed.json()['id']}", json=export)
    assert saved.status_code == 200, saved.text
    assert findings(saved) == set() and findings(saved, "warning") == set()
    issued = await supplier.post("invoicing", f"/invoices/{saved.json()['id']}/issue")
    assert issued.status_code == 200, issued.text
    invoice = issued.json()
    document = invoice["document"]
    assert document["currency"] == "USD" and document["buyer"]["address"]["country"] == "US"
    assert document["vat_breakdown"] == [
        {
            "category": "G",
            "rate": "0",
            "taxable_amount": "2550.00",
            "tax_amount": "0.00",
            "exemption_reason": "Export outside the EU",
        }
    ]
    totals = document["totals"]
    assert (totals["line_total"], totals["tax_total"], totals["tax_inclusive"], totals["payable"]) == (
        "2550.00",
        "0.00",
        "2550.00",
        "2550.00",
    )

    # Sealed, archived and delivered; the buyer gets its e-mail and can open the sealed XML.
    delivered = await until_delivered(buyer, invoice["id"])
    assert [h["status"] for h in delivered["history"] if h["status"]] == ["issued", "sealed", "delivered"]
    xml = await buyer.get("signing", f"/archive/documents/{delivered['archive_id']}/xml")
    assert xml.status_code == 200 and "VATEX-EU-G" in xml.text and "<ram:CategoryCode>G</ram:CategoryCode>" in xml.text
    mail = await mail_about(smtp_catcher, buyer.invoice_email, invoice["number"])
    assert "2,550.00" in mail.get_body(preferencelist=("plain",)).get_content()
