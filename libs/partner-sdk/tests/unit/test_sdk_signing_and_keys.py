"""Partner SDK: key files, and records signed per factora-partner-signature-v1 over exactly the bytes sent."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts.envelope import Envelope
from contracts.examples import sample_partner_invoice
from contracts.v1 import PartnerInvoiceSubmitted
from contracts.v1.identity import partner_signing_input
from factora_partner import (
    KeyFileError,
    PartnerCredential,
    PartnerSdkError,
    generate_key_files,
    load_private_key,
    sign_submission,
)

pytestmark = pytest.mark.unit


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def credential(tmp_path) -> tuple[PartnerCredential, str]:
    generated = generate_key_files(tmp_path)
    cred = PartnerCredential.from_file(generated.private_key_path, partner_id="erp-7", key_id="fpk_test")
    return cred, generated.public_key


def invoice(partner_id: str = "erp-7") -> PartnerInvoiceSubmitted:
    return sample_partner_invoice(external_id="ERP-42").model_copy(update={"partner_id": partner_id})


def verify(record_headers: dict[str, str], value: bytes, public_key: str) -> None:
    signing_input = partner_signing_input(
        payload=value,
        ce_type=record_headers["ce_type"],
        ce_id=record_headers["ce_id"],
        ce_time=record_headers["ce_time"],
        tenant=record_headers["factora_tenant"],
    )
    key = Ed25519PublicKey.from_public_bytes(b64url_decode(public_key))
    key.verify(b64url_decode(record_headers["factora_signature"]), signing_input)


def test_the_private_key_file_is_readable_by_its_owner_only_and_loads_back(tmp_path):
    generated = generate_key_files(tmp_path, name="erp")

    mode = stat.S_IMODE(generated.private_key_path.stat().st_mode)
    assert mode == 0o600
    assert generated.private_key_path.name == "erp.key.pem" and generated.public_key_path.name == "erp.pub.pem"
    assert len(b64url_decode(generated.public_key)) == 32 and "=" not in generated.public_key
    assert generated.registration_body() == {"public_key": generated.public_key}
    load_private_key(generated.private_key_path)


def test_an_existing_key_file_is_never_overwritten(tmp_path):
    generate_key_files(tmp_path)

    with pytest.raises(KeyFileError, match="already exists"):
        generate_key_files(tmp_path)


def test_a_file_that_is_not_an_ed25519_pem_key_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("not a key")

    with pytest.raises(KeyFileError, match="not an unencrypted PEM private key"):
        load_private_key(path)
    with pytest.raises(KeyFileError, match="cannot read"):
        load_private_key(tmp_path / "absent.pem")


def test_a_signed_record_verifies_over_the_exact_value_and_headers_sent(credential):
    cred, public_key = credential

    record = sign_submission(invoice(), cred)

    verify(record.headers, record.value, public_key)
    assert record.topic == "invoicing.partner-invoice-submitted.v1"
    assert record.key == f"{record.event.seller.company_id}:ERP-42"
    assert record.headers["factora_key_id"] == "fpk_test"
    assert record.headers["factora_tenant"] == record.event.seller.company_id
    assert record.headers["ce_source"] == "/partners/erp-7"
    assert Envelope.from_headers(record.headers).id == record.event_id
    assert PartnerInvoiceSubmitted.model_validate(json.loads(record.value)) == record.event


def test_a_signature_does_not_verify_once_the_value_or_the_tenant_changes(credential):
    cred, public_key = credential
    record = sign_submission(invoice(), cred)

    with pytest.raises(InvalidSignature):
        verify(record.headers, record.value.replace(b"189.90", b"18.99"), public_key)
    with pytest.raises(InvalidSignature):
        verify(record.headers | {"factora_tenant": "another-company"}, record.value, public_key)


def test_each_record_gets_its_own_event_id(credential):
    cred, _ = credential

    assert sign_submission(invoice(), cred).event_id != sign_submission(invoice(), cred).event_id


def test_an_invoice_of_another_partner_system_is_not_signed(credential):
    cred, _ = credential

    with pytest.raises(PartnerSdkError, match="FX-AUTH-6"):
        sign_submission(invoice(partner_id="someone-else"), cred)
