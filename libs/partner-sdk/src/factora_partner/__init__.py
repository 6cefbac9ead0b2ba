"""Factora partner SDK: what a partner system needs to send invoices into the network."""

from factora_partner.errors import InvoiceDataError, KeyFileError, PartnerSdkError, PublishError
from factora_partner.events import build_submission
from factora_partner.feed import FeedItem, PartnerFeed, read_rejections
from factora_partner.files import invoice_files, load_invoice_file
from factora_partner.keys import GeneratedKey, generate_key_files, load_private_key, public_key_b64url
from factora_partner.publisher import (
    DEFAULT_BOOTSTRAP,
    PartnerPublisher,
    ProducerSettings,
    SendResult,
    SyncPartnerPublisher,
    default_bootstrap,
)
from factora_partner.signing import PartnerCredential, SignedRecord, sign_submission

__all__ = [
    "DEFAULT_BOOTSTRAP",
    "FeedItem",
    "GeneratedKey",
    "InvoiceDataError",
    "KeyFileError",
    "PartnerCredential",
    "PartnerFeed",
    "PartnerPublisher",
    "PartnerSdkError",
    "ProducerSettings",
    "PublishError",
    "SendResult",
    "SignedRecord",
    "SyncPartnerPublisher",
    "build_submission",
    "default_bootstrap",
    "generate_key_files",
    "invoice_files",
    "load_invoice_file",
    "load_private_key",
    "public_key_b64url",
    "read_rejections",
    "sign_submission",
]
