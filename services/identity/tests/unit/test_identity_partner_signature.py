"""The partner signing scheme documented in contracts.v1.identity, signed and verified end to end."""

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.v1.identity import SIGNATURE_SCHEME, partner_signing_input
from identity.service.partners import b64url, parse_public_key

pytestmark = pytest.mark.unit
HEADERS = {
    "ce_type": "invoicing.partner-invoice-submitted.v1",
    "ce_id": "7d0f3e0c-2a55-4a43-9d2c-1f6f3a1b9e10",
    "ce_time": "2026-03-02T10:00:00+00:00",
    "tenant": "2b1c6f0e-3a7d-4e44-9f0a-5d8e7c6b5a49",
}


def test_the_signing_input_is_the_scheme_the_headers_and_the_payload_each_on_its_line():
    data = partner_signing_input(payload=b'{"a":1}', **HEADERS)
    assert (
        data
        == (
            f"{SIGNATURE_SCHEME}\n{HEADERS['ce_type']}\n{HEADERS['ce_id']}\n{HEADERS['ce_time']}\n{HEADERS['tenant']}\n"
        ).encode()
        + b'{"a":1}'
    )


def test_header_values_with_line_breaks_are_refused():
    with pytest.raises(ValueError):
        partner_signing_input(payload=b"{}", **{**HEADERS, "ce_id": "a\nb"})


def test_a_signature_verifies_with_the_published_key_and_fails_for_another_tenant():
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    published = b64url(raw)
    signature = private.sign(partner_signing_input(payload=b"{}", **HEADERS))
    header = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()

    key = Ed25519PublicKey.from_public_bytes(parse_public_key(published))
    key.verify(base64.urlsafe_b64decode(header + "=="), partner_signing_input(payload=b"{}", **HEADERS))
    with pytest.raises(InvalidSignature):
        key.verify(signature, partner_signing_input(payload=b"{}", **{**HEADERS, "tenant": "another-company"}))


def test_partner_public_keys_are_read_from_base64url_or_pem():
    public = Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert parse_public_key(b64url(raw)) == raw
    assert parse_public_key(pem) == raw
