"""The sealed PDF through the gateway: both trading partners download it from the archive and verify the seal."""

from __future__ import annotations

import hashlib

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
    until_delivered,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def one_byte_flipped(pdf: bytes) -> bytes:
    """The same file with one bit changed deep inside the embedded font program, which the seal covers."""
    at = pdf.index(b"stream", pdf.index(b"/FontFile2")) + 300
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


async def test_both_partners_download_the_sealed_pdf_and_verification_tells_a_copy_from_a_forgery(
    gateway, smtp_catcher
):
    portal = Portal(gateway.url)
    supplier = await join(portal, smtp_catcher, company("Atelier Lumière SARL", "FR", vat_id="FR40303265045"))
    buyer = await join(portal, smtp_catcher, company("Brasserie du Parc SAS", "FR", vat_id="FR83404833048"))
    stranger = await join(
        portal, smtp_catcher, company("Curieux Conseil SAS", "FR", vat_id="FR03552081317"), invoice_recipient=False
    )
    asked = await request_connection(supplier, buyer)
    assert (await buyer.post("invoicing", f"/relationships/{asked['id']}/accept")).status_code == 200

    invoice = await draft_and_issue(supplier, buyer, invoice_form(buyer, line("Lanterne de jardin", "3", "75.00")))
    delivered = await until_delivered(supplier, invoice["id"])
    archive_id = delivered["archive_id"]
    assert archive_id
    mail = await mail_about(smtp_catcher, buyer.invoice_email, invoice["number"])
    assert f"/archive/documents/{archive_id}" in mail.get_body(preferencelist=("plain",)).get_content()

    # Buyer and supplier download the same sealed PDF; its Digest header is its SHA-256.
    path = f"/archive/documents/{archive_id}"
    copies = {}
    for party in (buyer, supplier):
        got = await party.get("signing", path)
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "application/pdf" and got.content.startswith(b"%PDF-")
        assert invoice["number"] in got.headers["content-disposition"]
        assert got.headers["digest"] == f"sha-256={hashlib.sha256(got.content).hexdigest()}"
        copies[party.name] = got.content
    assert copies[buyer.name] == copies[supplier.name]
    pdf = copies[buyer.name]

    # Another member company cannot read it (nor learn that it exists).
    hidden = await stranger.get("signing", path)
    assert hidden.status_code == 404, hidden.text
    assert (await stranger.get("signing", f"{path}/xml")).status_code == 404

    # The genuine copy: intact, sealed by Factora's trusted seal, and the buyer's archive entry.
    checked = await buyer.post("signing", "/verify", content=pdf, headers={"Content-Type": "application/pdf"})
    assert checked.status_code == 200, checked.text
    report = checked.json()
    assert (report["integrity"], report["valid"], report["trust"]["trusted"]) == ("intact", True, True), report
    assert report["coverage"] == "ENTIRE_FILE" and report["signer"]["subject"]
    assert (report["archive"]["matched"], report["archive"]["kind"]) == (True, "exact")
    assert (report["archive"]["archive_id"], report["archive"]["invoice_number"]) == (archive_id, invoice["number"])
    assert report["document"]["sha256"] == hashlib.sha256(pdf).hexdigest()

    # The same file checked by the stranger: the seal holds, but no archive entry is visible to it.
    as_stranger = await stranger.post("signing", "/verify", files={"file": ("facture.pdf", pdf, "application/pdf")})
    assert as_stranger.status_code == 200, as_stranger.text
    assert as_stranger.json()["integrity"] == "intact" and as_stranger.json()["archive"]["matched"] is False

    # One flipped bit and the copy is reported modified.
    forged = await supplier.post(
        "signing", "/verify", content=one_byte_flipped(pdf), headers={"Content-Type": "application/pdf"}
    )
    assert forged.status_code == 200, forged.text
    assert (forged.json()["integrity"], forged.json()["valid"]) == ("modified", False), forged.json()
    assert forged.json()["archive"]["matched"] is False and forged.json()["problem"]
