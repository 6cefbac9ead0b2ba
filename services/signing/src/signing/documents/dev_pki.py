"""Development PKI: a local root CA and a seal certificate in PKCS#12, created once, never replaced."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

CA_FILE = "ca.pem"
SEAL_FILE = "seal.p12"
SEAL_SUBJECT = "Factora Development Seal"
KeyType = Literal["ec", "rsa"]


@dataclass(frozen=True)
class DevPki:
    """Where the development trust anchor and seal live."""

    ca_cert: Path
    seal_p12: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Factora (development only)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(**enabled: bool) -> x509.KeyUsage:
    # content_commitment is the nonRepudiation bit of RFC 5280.
    names = (
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    )  # fmt: skip
    return x509.KeyUsage(**{name: enabled.get(name, False) for name in names})


def _new_key(key_type: KeyType):
    # EC P-256 signs in ~50 µs where RSA-2048 takes ~1 ms; both are accepted by PAdES.
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _issue(key_type: KeyType):
    """A fresh root CA and seal: (CA certificate, seal key, seal certificate)."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Factora Development Root CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = _new_key(key_type)
    seal_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(SEAL_SUBJECT))
        .issuer_name(ca_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(seal_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_cert, seal_key, seal_cert


def _write_new(path: Path, data: bytes) -> bool:
    """Create `path` with mode 600 holding `data`; False if it already exists (never overwrites)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # link() refuses to replace an existing file: two processes starting together
        # cannot overwrite each other's seal, and a reader never sees a partial file.
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def _ca_from_p12(p12: Path, passphrase: bytes) -> bytes:
    bundle = pkcs12.load_pkcs12(p12.read_bytes(), passphrase)
    if not bundle.additional_certs:
        raise ValueError(f"{p12} holds no CA certificate; cannot restore {CA_FILE}")
    return bundle.additional_certs[-1].certificate.public_bytes(serialization.Encoding.PEM)


def ensure_dev_pki(directory: Path | str, passphrase: bytes | str, *, key_type: KeyType = "ec") -> DevPki:
    """Create `ca.pem` and `seal.p12` in `directory` unless they exist; return their paths.

    Idempotent: existing files are never regenerated. `seal.p12` also carries the CA
    certificate, so a missing `ca.pem` is restored from it; a lone `ca.pem` without the
    seal is refused rather than replaced (its key is gone: the seal cannot be re-issued).
    """
    directory = Path(directory)
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_path, p12_path = directory / CA_FILE, directory / SEAL_FILE
    if not p12_path.exists():
        if ca_path.exists():
            raise FileExistsError(f"{ca_path} exists without {p12_path}: remove it to create a new development PKI")
        ca_cert, seal_key, seal_cert = _issue(key_type)
        p12 = pkcs12.serialize_key_and_certificates(
            name=SEAL_SUBJECT.encode(),
            key=seal_key,
            cert=seal_cert,
            cas=[ca_cert],
            encryption_algorithm=serialization.BestAvailableEncryption(secret),
        )
        _write_new(p12_path, p12)
    if not ca_path.exists():
        _write_new(ca_path, _ca_from_p12(p12_path, secret))
    return DevPki(ca_cert=ca_path, seal_p12=p12_path)
