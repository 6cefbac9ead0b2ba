"""Ed25519 verification of partner records (scheme factora-partner-signature-v1, see contracts.v1.identity)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts.envelope import TENANT_HEADER
from contracts.v1.identity import KEY_ID_HEADER, SIGNATURE_HEADER, partner_signing_input


@dataclass(frozen=True)
class RawRecord:
    """A Kafka record as it arrived: the headers (decoded as UTF-8) and the value bytes, untouched."""

    headers: dict[str, str] = field(default_factory=dict)
    value: bytes = b""

    @property
    def key_id(self) -> str | None:
        return self.headers.get(KEY_ID_HEADER) or None

    @property
    def signature(self) -> str | None:
        return self.headers.get(SIGNATURE_HEADER) or None

    @property
    def tenant(self) -> str | None:
        return self.headers.get(TENANT_HEADER) or None


def b64url_decode(text: str) -> bytes:
    """base64url without padding (and tolerant of padding)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signature_is_valid(record: RawRecord, public_key_b64: str) -> bool:
    """True when the record's signature verifies with this key over exactly the bytes received."""
    try:
        key = Ed25519PublicKey.from_public_bytes(b64url_decode(public_key_b64))
        signature = b64url_decode(record.signature or "")
        signing_input = partner_signing_input(
            payload=record.value,
            ce_type=record.headers.get("ce_type", ""),
            ce_id=record.headers.get("ce_id", ""),
            ce_time=record.headers.get("ce_time", ""),
            tenant=record.tenant or "",
        )
        key.verify(signature, signing_input)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
