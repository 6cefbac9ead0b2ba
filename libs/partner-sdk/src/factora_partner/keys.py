"""Partner keys: generate an Ed25519 pair, keep the private half in a 0600 PEM file, show the public half."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from factora_partner.errors import KeyFileError


def b64url(data: bytes) -> str:
    """base64url without padding: how Factora writes Ed25519 keys and signatures."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def public_key_b64url(private_key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, base64url: the `public_key` identity's partner key endpoints take."""
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64url(raw)


def public_key_pem(private_key: Ed25519PrivateKey) -> str:
    """The public key as a PEM SubjectPublicKeyInfo (identity accepts this form too)."""
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def fingerprint(private_key: Ed25519PrivateKey) -> str:
    """A short SHA-256 fingerprint of the public key, to tell local key files apart (not the key id)."""
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + b64url(hashlib.sha256(raw).digest())[:22]


def save_private_key(private_key: Ed25519PrivateKey, path: Path, *, overwrite: bool = False) -> Path:
    """Write the private key as unencrypted PKCS#8 PEM, readable by the owner only (0600)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise KeyFileError(f"{path} already exists; choose another file or delete it first (keys are not replaced).")
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Created with 0600 from the start, so the key is never readable by others, not even briefly.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(path, 0o600)
    return path


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    """Read a PKCS#8 PEM Ed25519 private key (as saved by `save_private_key` or returned by identity)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the private key ({exc.strerror}).") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(
            f"{path}: not an unencrypted PEM private key ({exc}); use the file `factora partner keygen` wrote "
            "or the private_key_pem identity returned."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: the key is not Ed25519; Factora partner keys are Ed25519 keys.")
    return key


@dataclass(frozen=True)
class GeneratedKey:
    """A key pair written to disk, and what to register with identity."""

    private_key_path: Path
    public_key_path: Path
    public_key: str
    public_key_pem: str
    fingerprint: str

    def registration_body(self) -> dict[str, str]:
        """JSON body of identity's `POST /company/partners/{partner_id}/keys`."""
        return {"public_key": self.public_key}


def generate_key_files(
    directory: Path | str, *, name: str = "factora-partner", overwrite: bool = False
) -> GeneratedKey:
    """Generate a pair into `directory`: <name>.key.pem (0600) and <name>.pub.pem."""
    directory = Path(directory)
    private_key = generate_private_key()
    private_path = save_private_key(private_key, directory / f"{name}.key.pem", overwrite=overwrite)
    public_path = directory / f"{name}.pub.pem"
    pem = public_key_pem(private_key)
    public_path.write_text(pem)
    return GeneratedKey(
        private_key_path=private_path,
        public_key_path=public_path,
        public_key=public_key_b64url(private_key),
        public_key_pem=pem,
        fingerprint=fingerprint(private_key),
    )
