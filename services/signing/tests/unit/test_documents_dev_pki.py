"""Development PKI: created once, private files, never regenerated."""

import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from signing.documents.dev_pki import SEAL_SUBJECT, ensure_dev_pki

pytestmark = pytest.mark.unit

PASSPHRASE = "not-a-real-secret"


def test_creates_ca_and_seal_with_owner_only_permissions(tmp_path):
    pki = ensure_dev_pki(tmp_path / "pki", PASSPHRASE)
    for path in (pki.ca_cert, pki.seal_p12):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "pki").iterdir()) == ["ca.pem", "seal.p12"]


def test_seal_certificate_is_issued_by_the_ca_for_non_repudiation(tmp_path):
    pki = ensure_dev_pki(tmp_path, PASSPHRASE)
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    bundle = pkcs12.load_pkcs12(pki.seal_p12.read_bytes(), PASSPHRASE.encode())
    seal = bundle.cert.certificate
    assert seal.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == SEAL_SUBJECT
    seal.verify_directly_issued_by(ca)
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.content_commitment and usage.digital_signature and not usage.key_cert_sign
    assert isinstance(bundle.key, ec.EllipticCurvePrivateKey)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_second_call_keeps_existing_files(tmp_path):
    first = ensure_dev_pki(tmp_path, PASSPHRASE)
    before = (first.ca_cert.read_bytes(), first.seal_p12.read_bytes())
    second = ensure_dev_pki(tmp_path, PASSPHRASE)
    assert second == first
    assert (second.ca_cert.read_bytes(), second.seal_p12.read_bytes()) == before


def test_missing_ca_file_is_restored_from_the_seal_bundle(tmp_path):
    pki = ensure_dev_pki(tmp_path, PASSPHRASE)
    ca = pki.ca_cert.read_bytes()
    pki.ca_cert.unlink()
    ensure_dev_pki(tmp_path, PASSPHRASE)
    assert pki.ca_cert.read_bytes() == ca


def test_lone_ca_file_is_not_replaced(tmp_path):
    pki = ensure_dev_pki(tmp_path, PASSPHRASE)
    pki.seal_p12.unlink()
    with pytest.raises(FileExistsError, match=r"ca\.pem"):
        ensure_dev_pki(tmp_path, PASSPHRASE)


def test_rsa_seal_key_can_be_requested(tmp_path):
    pki = ensure_dev_pki(tmp_path, PASSPHRASE.encode(), key_type="rsa")
    bundle = pkcs12.load_pkcs12(pki.seal_p12.read_bytes(), PASSPHRASE.encode())
    assert isinstance(bundle.key, rsa.RSAPrivateKey)
