"""PAdES seal: intact and trusted seals, tampering detected, key and size prepared once."""

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers import Signer
from pyhanko.sign.signers import pdf_signer as pyhanko_pdf_signer
from pyhanko.sign.timestamps import DummyTimeStamper
from pypdf import PdfReader

from signing.documents import PadesSealer, ensure_dev_pki, make_invoice_pdf, verify_pdf
from signing.documents.facturx import extract_xml
from signing.documents.samples import reverse_charge_invoice, standard_invoice
from signing.documents.sealer import KeyObjectSigner

pytestmark = pytest.mark.unit

PASSPHRASE = "test-seal-passphrase"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ensure_dev_pki(tmp_path_factory.mktemp("pki"), PASSPHRASE)


@pytest.fixture(scope="module")
def sealer(pki):
    return PadesSealer.from_pkcs12(pki.seal_p12, PASSPHRASE)


@pytest.fixture(scope="module")
def invoice_pdf():
    return make_invoice_pdf(standard_invoice(), "fr")


@pytest.fixture(scope="module")
def sealed(sealer, invoice_pdf):
    return sealer.seal(invoice_pdf[0])


def _flip_byte_in_font_program(pdf: bytes) -> bytes:
    # Deep inside a compressed stream that the signature covers: the structure stays
    # readable, only the content changes.
    at = pdf.index(b"stream", pdf.index(b"/FontFile2")) + 500
    return pdf[:at] + bytes([pdf[at] ^ 0xFF]) + pdf[at + 1 :]


def test_sealed_invoice_is_intact_trusted_and_covers_the_whole_file(pki, sealer, sealed):
    report = verify_pdf(sealed, [pki.ca_cert])
    assert report.signed and report.intact and report.trusted and report.entire_file
    assert report.coverage == "ENTIRE_FILE"
    assert report.bottom_line and report.problem is None
    assert "Factora Development Seal" in report.signer
    assert abs(report.signing_time - datetime.now(UTC)) < timedelta(minutes=5)
    assert not report.timestamped and sealer.level == "B-B"


def test_a_byte_changed_inside_the_signed_range_is_detected(pki, sealed):
    report = verify_pdf(_flip_byte_in_font_program(sealed), [pki.ca_cert])
    assert report.signed and not report.intact and not report.bottom_line
    assert "altered" in report.problem


def test_bytes_added_after_the_seal_are_reported(pki, sealed):
    report = verify_pdf(sealed + b"\n%%tampered\n", [pki.ca_cert])
    assert report.intact and not report.entire_file and not report.bottom_line
    assert report.coverage == "ENTIRE_REVISION"


def test_unsigned_pdf_reports_no_signature(pki, invoice_pdf):
    report = verify_pdf(invoice_pdf[0], [pki.ca_cert])
    assert not report.signed and report.problem == "the document carries no signature"


def test_not_a_pdf_is_reported_not_raised(pki):
    report = verify_pdf(b"hello", [pki.ca_cert])
    assert not report.signed and "not a readable PDF" in report.problem


def test_seal_from_an_unknown_authority_is_not_trusted(sealed, tmp_path):
    stranger = ensure_dev_pki(tmp_path, PASSPHRASE)
    report = verify_pdf(sealed, [stranger.ca_cert])
    assert report.intact and not report.trusted and not report.bottom_line


def test_seal_is_pades_with_the_certificate_chain_embedded(sealed):
    signature = PdfFileReader(BytesIO(sealed)).embedded_signatures[0]
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    signed_data = signature.signed_data
    subjects = {c.chosen.subject.human_friendly for c in signed_data["certificates"]}
    assert any("Factora Development Seal" in s for s in subjects)
    assert any("Root CA" in s for s in subjects)
    attrs = {a["type"].native for a in signed_data["signer_infos"][0]["signed_attrs"]}
    assert attrs == {"content_type", "message_digest", "signing_certificate_v2"}


def test_facturx_xml_and_pdfa_metadata_survive_the_seal(sealed, invoice_pdf):
    assert extract_xml(sealed) == invoice_pdf[1]
    xmp = PdfReader(BytesIO(sealed)).trailer["/Root"]["/Metadata"].get_object().get_data()
    for expected in [b'pdfaid:part="3"', b'pdfaid:conformance="B"', b'fx:ConformanceLevel="EN 16931"']:
        assert expected in xmp, expected


def test_key_is_not_reloaded_for_each_signature(sealer, invoice_pdf, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("private key deserialised while sealing")

    monkeypatch.setattr(serialization, "load_der_private_key", forbidden)
    monkeypatch.setattr(serialization.pkcs12, "load_key_and_certificates", forbidden)
    sealer.seal(invoice_pdf[0])


def test_signature_size_is_reserved_once_not_estimated_per_document(sealer, invoice_pdf, monkeypatch):
    async def forbidden(*args, **kwargs):
        raise AssertionError("pyHanko estimated the signature size (a second signature)")

    monkeypatch.setattr(pyhanko_pdf_signer.PdfSigningSession, "estimate_signature_container_size", forbidden)
    sealer.seal(invoice_pdf[0])
    assert sealer.bytes_reserved % 2 == 0


def test_spliced_signed_attributes_equal_those_pyhanko_builds(sealer):
    signer = sealer._pdf_signer.signer
    assert isinstance(signer, KeyObjectSigner)
    loop = asyncio.new_event_loop()
    try:
        for payload in (b"first document", b"second document"):
            digest = hashlib.sha256(payload).digest()
            fast = loop.run_until_complete(signer.signed_attrs(digest, "sha256", use_pades=True))
            slow = loop.run_until_complete(Signer.signed_attrs(signer, digest, "sha256", use_pades=True))
            assert fast.dump() == slow.dump()
    finally:
        loop.close()


def test_reverse_charge_invoice_and_rsa_key_seal_too(tmp_path):
    pki = ensure_dev_pki(tmp_path, PASSPHRASE, key_type="rsa")
    pdf, _ = make_invoice_pdf(reverse_charge_invoice(), "en")
    report = verify_pdf(PadesSealer.from_pkcs12(pki.seal_p12, PASSPHRASE).seal(pdf), [pki.ca_cert])
    assert report.bottom_line


def _timestamp_authority():
    now = datetime.now(UTC) - timedelta(minutes=1)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test TSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return asn1_x509.Certificate.load(der), asn1_keys.PrivateKeyInfo.load(key_der)


def test_timestamped_seal_reaches_b_t(pki, invoice_pdf):
    tsa_cert, tsa_key = _timestamp_authority()
    base = PadesSealer.from_pkcs12(pki.seal_p12, PASSPHRASE)
    sealer = PadesSealer(base._pdf_signer.signer, timestamper=DummyTimeStamper(tsa_cert, tsa_key))
    assert sealer.level == "B-T"
    sealed = sealer.seal(invoice_pdf[0])
    report = verify_pdf(sealed, [pki.ca_cert, tsa_cert])
    assert report.timestamped and report.bottom_line
    signer_info = PdfFileReader(BytesIO(sealed)).embedded_signatures[0].signer_info
    assert isinstance(signer_info["unsigned_attrs"][0]["values"][0], cms.ContentInfo)
