"""Attachments are judged by their bytes: disguised programs and markup are refused, names are made safe."""

from __future__ import annotations

import pytest

from support.domain.attachments import content_disposition, safe_filename, screen, sniff
from support.domain.errors import Invalid, UnsupportedType

pytestmark = pytest.mark.unit

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 30
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
INVOICE_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
    b"<cbc:ID>F2026-000042</cbc:ID><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode></Invoice>\n"
)
CSV = "numéro;montant\nF2026-000042;1145,52\n".encode()


@pytest.mark.parametrize(
    ("content", "name", "declared", "expected"),
    [
        (PDF, "facture.pdf", "application/pdf", "application/pdf"),
        (PNG, "capture.png", "image/png", "image/png"),
        (JPEG, "photo.JPG", "image/jpeg", "image/jpeg"),
        (CSV, "export.csv", "text/csv", "text/plain"),
        (b"ERROR 42 at 10:02 while sending\n", "trace.log", None, "text/plain"),
        (INVOICE_XML, "F2026-000042.xml", "application/xml", "application/xml"),
        (PDF, "facture.pdf", "application/octet-stream", "application/pdf"),
    ],
)
def test_files_whose_content_is_on_the_allow_list_are_accepted(content, name, declared, expected):
    screened = screen(content, name, declared)
    assert screened.media_type == expected
    assert screened.filename == name


def test_a_windows_program_renamed_pdf_is_refused():
    with pytest.raises(UnsupportedType, match="Windows program") as refused:
        screen(WINDOWS_EXE, "facture.pdf", "application/pdf")
    assert refused.value.code == "file-type-not-allowed"


@pytest.mark.parametrize(("content", "what"), [(ELF, "program"), (ZIP, "ZIP archive")])
def test_programs_and_archives_are_refused_whatever_they_are_called(content, what):
    with pytest.raises(UnsupportedType, match=what):
        screen(content, "scan.png", "image/png")


def test_an_html_page_declared_as_a_png_image_is_refused():
    with pytest.raises(UnsupportedType, match="HTML or script"):
        screen(HTML, "screenshot.png", "image/png")


@pytest.mark.parametrize(
    "content", [HTML, SVG, b"see <a href='javascript:alert(1)'>here</a>", b"<img src=x onerror=1>"]
)
def test_markup_a_browser_would_render_or_run_is_refused_even_as_text(content):
    assert sniff(content) == "text/html"
    with pytest.raises(UnsupportedType):
        screen(content, "notes.txt", "text/plain")


def test_a_real_png_named_pdf_is_refused_as_a_disguise():
    with pytest.raises(UnsupportedType, match=r"rename it with \.png") as refused:
        screen(PNG, "invoice.pdf", "application/octet-stream")
    assert refused.value.code == "file-disguised"


def test_a_real_pdf_declared_as_an_image_is_refused_as_a_disguise():
    with pytest.raises(UnsupportedType, match="sent as 'image/png'"):
        screen(PDF, "facture.pdf", "image/png")


def test_binary_data_of_no_known_kind_is_refused():
    with pytest.raises(UnsupportedType, match="unknown kind"):
        screen(bytes(range(256)) * 4, "data.bin", None)


def test_an_empty_file_is_refused():
    with pytest.raises(Invalid, match="empty"):
        screen(b"", "empty.pdf", "application/pdf")


def test_xml_that_merely_contains_words_like_format_or_information_is_not_taken_for_html():
    xml = b"<?xml version='1.0'?><Report><format>A4</format><information>ok</information></Report>"
    assert screen(xml, "report.xml", "text/xml").media_type == "application/xml"


def test_a_file_without_extension_gets_the_one_of_its_real_type():
    assert screen(PDF, "scan", None).filename == "scan.pdf"
    assert screen(PNG, None, None).filename == "attachment.png"


def test_names_lose_their_path_and_characters_that_could_break_headers_or_shells():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\ada\\facture mars.pdf") == "facture mars.pdf"
    assert safe_filename('a"b;c\r\nd.pdf') == "a_b_c_d.pdf"
    assert safe_filename("x" * 300 + ".pdf").endswith(".pdf")
    assert len(safe_filename("x" * 300 + ".pdf")) == 120


def test_the_download_header_is_an_attachment_with_an_ascii_fallback_and_the_exact_utf8_name():
    header = content_disposition("relevé d'août.pdf")
    assert header.startswith('attachment; filename="relev_ d\'ao_t.pdf"')
    assert "filename*=UTF-8''relev%C3%A9%20d%27ao%C3%BBt.pdf" in header
