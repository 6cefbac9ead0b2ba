"""Hostile PDFs for the verification tests, crafted once per session."""

from __future__ import annotations

import io
import zlib

import pytest
from pypdf import PdfReader, PdfWriter

from signing.documents import make_invoice_pdf
from signing.documents.samples import standard_invoice

MiB = 1024 * 1024


def _deflate_repeated(prefix: bytes, filler: bytes, megabytes: int) -> bytes:
    compressor = zlib.compressobj(9)
    chunk = filler * (MiB // len(filler))
    parts = [compressor.compress(prefix)]
    parts += [compressor.compress(chunk) for _ in range(megabytes)]
    parts.append(compressor.flush())
    return b"".join(parts)


def object_stream_bomb(megabytes: int) -> bytes:
    """A PDF whose catalog sits in an object stream that inflates to `megabytes` MB (Flate applied twice).

    Opening the document means decoding that stream: a reader without limits allocates it all.
    """
    head = b"2 0 "
    inner = _deflate_repeated(head + b"<< /Type /Catalog /Pages 3 0 R >>", b" ", megabytes)
    data = zlib.compress(inner, 9)
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    objstm_at = out.tell()
    out.write(
        b"1 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter [/FlateDecode /FlateDecode] /Length %d >>\nstream\n"
        % (len(head), len(data))
    )
    out.write(data + b"\nendstream\nendobj\n")
    pages_at = out.tell()
    out.write(b"3 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
    xref_at = out.tell()
    # Cross-reference stream entries, /W [1 4 2]: free; in file at offset; in object stream 1.
    rows = [
        b"\x00" + bytes(4) + b"\xff\xff",
        b"\x01" + objstm_at.to_bytes(4, "big") + bytes(2),
        b"\x02" + (1).to_bytes(4, "big") + bytes(2),
        b"\x01" + pages_at.to_bytes(4, "big") + bytes(2),
        b"\x01" + xref_at.to_bytes(4, "big") + bytes(2),
    ]
    table = b"".join(rows)
    out.write(b"4 0 obj\n<< /Type /XRef /Size 5 /W [1 4 2] /Root 2 0 R /Length %d >>\nstream\n" % len(table))
    out.write(table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at)
    return out.getvalue()


def encrypted(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="", owner_password="owner-secret")  # opens without a password, still encrypted
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def broken_cross_reference(pdf: bytes) -> bytes:
    """The classic table with its entries overwritten by garbage, and startxref pointing at it."""
    at = pdf.rindex(b"\nxref\n") + 1
    table_end = pdf.index(b"trailer", at)
    garbage = b"xref\n0 9\n" + b"zz-not-an-offset\n" * ((table_end - at - 9) // 17)
    return pdf[:at] + garbage.ljust(table_end - at, b"z") + pdf[table_end:]


@pytest.fixture(scope="session")
def plain_invoice_pdf() -> bytes:
    return make_invoice_pdf(standard_invoice(), "fr")[0]


@pytest.fixture(scope="session")
def hostile_pdfs(plain_invoice_pdf) -> dict[str, bytes]:
    """name -> file: each must be refused with the code of the same name, quickly."""
    return {
        "not_a_pdf": b"<html><body>This is not an invoice</body></html>\n" * 20,
        "encrypted_pdf": encrypted(plain_invoice_pdf),
        "malformed_pdf": broken_cross_reference(plain_invoice_pdf),
        "decompression_bomb": object_stream_bomb(96),
    }
