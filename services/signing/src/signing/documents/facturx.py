"""Factur-X: the CII XML embedded in the PDF/A-3b invoice, with the Factur-X XMP metadata."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from xml.sax.saxutils import escape

import facturx as fx_lib
from facturx.facturx import FACTURX_FILENAME, FACTURX_LEVEL2xmp, generate_xmp_object
from fpdf import FPDF
from lxml import etree

from contracts.v1.invoicing import InvoiceDocument
from signing.documents import labels as lx
from signing.documents.cii import build_cii_xml
from signing.documents.labels import Locale
from signing.documents.render import render_invoice

__all__ = [
    "FACTURX_FILENAME",
    "attach_facturx",
    "build_cii_xml",
    "check_xsd",
    "extract_xml",
    "make_invoice_pdf",
    "to_facturx_pdf",
]

LEVEL = "en16931"
_SLOTS = ("title", "author", "subject", "timestamp")
_MARKER = re.compile(r"@@(title|author|subject|timestamp)@@")


@cache
def _xmp_template() -> str:
    # facturx builds its XMP (pdfaid, Factur-X extension schema, fx:* properties) with
    # lxml.objectify, ~1 ms a document; built once with markers, then filled per document.
    meta = {key: f"@@{key}@@" for key in _SLOTS}
    meta.update(
        pdfa3_flavor="B",
        producer="Factora (fpdf2)",
        creator_tool="Factora",
        version="1.0",
        documenttype="INVOICE",
        xml_filename=FACTURX_FILENAME,
        xmp_level=FACTURX_LEVEL2xmp[LEVEL],
        urn="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    )
    return etree.tostring(generate_xmp_object(meta), encoding="unicode")


def facturx_xmp(title: str, author: str, subject: str, when: datetime) -> str:
    """The document's XMP packet body, as facturx writes it, for fpdf2's set_xmp_metadata."""
    values = {
        "title": title,
        "author": author,
        "subject": subject,
        "timestamp": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
    }
    # One pass, so a party name containing a marker cannot be substituted again.
    return _MARKER.sub(lambda m: escape(values[m.group(1)]), _xmp_template())


def attach_facturx(pdf: FPDF, doc: InvoiceDocument, xml: bytes, locale: Locale) -> None:
    """Embed `xml` as factur-x.xml (AFRelationship Data) and set the Factur-X XMP on `pdf`."""
    now = datetime.now(UTC)
    pdf.embed_file(
        bytes=xml,
        basename=FACTURX_FILENAME,
        desc="Factur-X XML file",
        mime_type="text/xml",
        associated_file_relationship="Data",
        modification_date=now,
        compress=True,
    )
    title = f"{lx.label(locale, doc.type_code)} {doc.number}"
    subject = f"{title}, {doc.seller.name} → {doc.buyer.name}"
    pdf.set_xmp_metadata(facturx_xmp(title, doc.seller.name, subject, now))


def make_invoice_pdf(doc: InvoiceDocument, locale: Locale) -> tuple[bytes, bytes]:
    """Render `doc` for `locale` as a Factur-X PDF/A-3b in one pass; returns (pdf, xml)."""
    xml = build_cii_xml(doc)
    pdf = render_invoice(doc, locale, before_output=lambda p: attach_facturx(p, doc, xml, locale))
    return pdf, xml


def to_facturx_pdf(pdf: bytes, xml: bytes, *, validate: bool = False) -> bytes:
    """Embed `xml` into a PDF made elsewhere with the facturx library (re-writes it, ~4 ms).

    The result is PDF/A-3 only if `pdf` already was PDF/A (fonts embedded, output intent).
    """
    return fx_lib.generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level=LEVEL,
        check_xsd=validate,
        # An uncompressed XMP stays readable to tools that inspect a signed file's metadata.
        xmp_compression=False,
    )


def check_xsd(xml: bytes) -> None:
    """Raise if `xml` is not valid against the Factur-X EN 16931 XSD shipped with facturx."""
    fx_lib.xml_check_xsd(xml, flavor="factur-x", level=LEVEL)


def extract_xml(pdf: bytes) -> bytes | None:
    """The embedded Factur-X XML of `pdf`, or None when it has none."""
    filename, xml = fx_lib.get_xml_from_pdf(pdf, check_xsd=False)
    return xml if filename else None
