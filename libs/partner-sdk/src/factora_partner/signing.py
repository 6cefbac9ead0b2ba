"""Turn a submission into a signed Kafka record (scheme factora-partner-signature-v1, see contracts.v1.identity)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.envelope import Envelope
from contracts.examples import partner_key, signed_partner_headers
from contracts.topics.invoicing import PARTNER_INVOICE_SUBMITTED
from contracts.v1 import PartnerInvoiceSubmitted
from factora_partner.errors import PartnerSdkError
from factora_partner.keys import load_private_key


@dataclass(frozen=True)
class PartnerCredential:
    """Who is sending: the partner system id, the key id identity gave the key, and the private key."""

    partner_id: str
    key_id: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_file(cls, key_file: Path | str, *, partner_id: str, key_id: str) -> PartnerCredential:
        """Load the PEM private key written by `factora partner keygen` (or returned by identity)."""
        if not partner_id or not key_id:
            raise PartnerSdkError("partner_id and key_id are both needed: identity shows them with the key.")
        return cls(partner_id=partner_id, key_id=key_id, private_key=load_private_key(key_file))

    @property
    def source(self) -> str:
        """CloudEvents source of this partner's records."""
        return f"/partners/{self.partner_id}"


@dataclass(frozen=True)
class SignedRecord:
    """One record ready for the producer: topic, key, headers and value, exactly as they will be sent."""

    topic: str
    key: str
    headers: dict[str, str]
    value: bytes
    event: PartnerInvoiceSubmitted

    @property
    def event_id(self) -> str:
        """ce_id of the record; rejections quote it as submission_event_id."""
        return self.headers["ce_id"]

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """Headers in aiokafka's form."""
        return [(name, value.encode()) for name, value in self.headers.items()]


def sign_submission(
    event: PartnerInvoiceSubmitted, credential: PartnerCredential, *, event_id: str | None = None
) -> SignedRecord:
    """Envelope, key and signature for a submission; the event's partner_id must be the credential's."""
    if event.partner_id != credential.partner_id:
        raise PartnerSdkError(
            f"the invoice's partner_id {event.partner_id!r} is not the credential's {credential.partner_id!r}; "
            "invoicing rejects a key used for another partner system (FX-AUTH-6)."
        )
    key = partner_key(event)
    envelope = Envelope.new(
        source=credential.source,
        type=PARTNER_INVOICE_SUBMITTED.schema_name,
        subject=key,
        tenant=event.seller.company_id,
        id=event_id,
    )
    value = event.model_dump_json(exclude_none=True).encode()
    headers = signed_partner_headers(value, envelope, private_key=credential.private_key, key_id=credential.key_id)
    return SignedRecord(topic=PARTNER_INVOICE_SUBMITTED.name, key=key, headers=headers, value=value, event=event)
