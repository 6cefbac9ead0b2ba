"""Rendering invoices as readable PDF/A pages in French and English."""

from io import BytesIO

import fpdf
import pytest
from pypdf import PdfReader

from signing.documents import render_invoice
from signing.documents.fonts import shared_fonts
from signing.documents.samples import (
    BUYER,
    long_invoice,
    reverse_charge_invoice,
    standard_invoice,
)

pytestmark = pytest.mark.unit


def _text(pdf: bytes) -> str:
    reader = PdfReader(BytesIO(pdf))
    # No-break spaces become plain ones, line breaks too: compare words, not layout.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture(scope="module")
def invoice():
    return standard_invoice()


def test_french_invoice_shows_parties_lines_vat_and_totals(invoice):
    text = _text(render_invoice(invoice, "fr"))
    for expected in [
        "FACTURE",
        "F2025-000123",
        "Atelier Lumière SARL",
        "N° TVA FR40303265045",
        "12 rue des Écoles",
        "Brasserie Dupont & Fils SA",
        "N° TVA BE0123456749",
        "1040 Bruxelles (BE)",
        "15 janvier 2025",
        "Votre commande PO-7781",
        "Désignation",
        "Prix unit. HT",
        "189,00 €",
        "2,5 h",
        "5,5 %",
        "Détail de la TVA",
        "968,50 € 193,70 €",
        "Total HT 1 064,50 €",
        "Total TVA 198,98 €",
        "Net à payer 1 263,48 €",
        "À régler au plus tard le 14 février 2025.",
        "Merci pour votre confiance.",
        "Page 1/1",
    ]:
        assert expected in text, expected


def test_english_invoice_uses_english_labels_and_number_format(invoice):
    text = _text(render_invoice(invoice, "en"))
    for expected in [
        "INVOICE",
        "Issue date 15 January 2025",
        "Bill to",
        "VAT no. BE0123456749",
        "Unit price",
        "€189.00",
        "5.5%",
        "VAT summary",
        "Total excl. VAT €1,064.50",
        "Amount due €1,263.48",
        "Please pay by 14 February 2025.",
    ]:
        assert expected in text, expected
    assert "Facture" not in text


@pytest.mark.parametrize(
    ("locale", "mention"),
    [("fr", "Autoliquidation : la TVA est due par le preneur"), ("en", "Reverse charge: VAT")],
)
def test_reverse_charge_invoice_carries_the_legal_mention(locale, mention):
    text = _text(render_invoice(reverse_charge_invoice(), locale))
    assert mention in text


def test_credit_note_is_titled_as_such(invoice):
    credit = invoice.model_copy(update={"type_code": "381"})
    assert "AVOIR" in _text(render_invoice(credit, "fr"))
    assert "CREDIT NOTE" in _text(render_invoice(credit, "en"))


def test_long_invoice_breaks_pages_and_numbers_them():
    pdf = render_invoice(long_invoice(60), "fr")
    reader = PdfReader(BytesIO(pdf))
    pages = len(reader.pages)
    assert pages > 1
    last = " ".join(reader.pages[-1].extract_text().split())
    assert f"Page {pages}/{pages}" in last
    assert "Net à payer" in last
    # The table header is repeated on every page that continues the lines.
    assert "Désignation" in reader.pages[1].extract_text()


def test_characters_outside_the_embedded_font_become_question_marks(invoice):
    buyer = BUYER.model_copy(update={"name": "Kanji 漢字 Trading"})
    text = _text(render_invoice(invoice.model_copy(update={"buyer": buyer}), "en"))
    assert "Kanji ?? Trading" in text


def test_fonts_are_parsed_once_per_process(invoice, monkeypatch):
    shared_fonts()  # loaded by earlier renders or now, once

    def forbidden(*args, **kwargs):
        raise AssertionError("a font was parsed again for a document")

    monkeypatch.setattr(fpdf.FPDF, "add_font", forbidden)
    monkeypatch.setattr(fpdf.fonts.TTFFont, "__init__", forbidden)
    render_invoice(invoice, "fr")
    render_invoice(invoice, "en")


def test_pdf_declares_pdfa3b_and_embeds_its_fonts(invoice):
    pdf = render_invoice(invoice, "fr")
    reader = PdfReader(BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp
    assert b"<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        descendant = ref.get_object()["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"]


def test_words_wider_than_the_column_are_cut_not_overflowing(invoice):
    code = "REF-" + "X" * 120
    line = invoice.lines[0].model_copy(update={"description": f"Pièce {code}"})
    text = " ".join(
        PdfReader(BytesIO(render_invoice(invoice.model_copy(update={"lines": [line]}), "fr")))
        .pages[0]
        .extract_text()
        .split()
    )
    assert "Pièce" in text and "REF-" in text
    assert code not in text  # it was split across lines


def test_first_documents_rendered_in_parallel_threads_share_one_font_load(invoice, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from signing.documents import fonts

    monkeypatch.setattr(fonts, "_fonts", None)
    with ThreadPoolExecutor(4) as threads:
        pdfs = list(threads.map(lambda _: render_invoice(invoice, "fr"), range(8)))
    assert all(pdf.startswith(b"%PDF-1.7") for pdf in pdfs)
