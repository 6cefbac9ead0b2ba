"""Partner signatures (factora-partner-signature-v1): the contracts helper signs, invoicing verifies the exact bytes."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from contracts.examples import sample_partner_invoice, signed_sample_record
from invoicing.adapters.signatures import RawRecord, signature_is_valid

pytestmark = pytest.mark.unit


def keypair() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed() -> tuple[RawRecord, str]:
    private, public = keypair()
    _, headers, value = signed_sample_record(sample_partner_invoice(), private_key=private, key_id="k1")
    return RawRecord(headers=headers, value=value), public


def test_a_record_signed_with_the_helper_verifies():
    record, public = signed()
    assert record.key_id == "k1" and record.tenant == "c-sample-seller"
    assert signature_is_valid(record, public)


@pytest.mark.parametrize("header", ["ce_type", "ce_id", "ce_time", "factora_tenant"])
def test_changing_any_signed_header_breaks_the_signature(header):
    record, public = signed()
    changed = RawRecord(headers={**record.headers, header: record.headers[header] + "x"}, value=record.value)
    assert not signature_is_valid(changed, public)


def test_changing_one_byte_of_the_payload_breaks_the_signature():
    record, public = signed()
    assert not signature_is_valid(RawRecord(headers=record.headers, value=record.value + b" "), public)


def test_another_key_or_garbage_never_verifies():
    record, _ = signed()
    _, other = keypair()
    assert not signature_is_valid(record, other)
    assert not signature_is_valid(
        RawRecord(headers={**record.headers, "factora_signature": "!!"}, value=record.value), other
    )
    assert not signature_is_valid(record, "not-a-key")
