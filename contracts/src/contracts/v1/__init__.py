"""Version 1 event payloads of the Factora network."""

from contracts.v1.invoicing import (
    InvoiceDocument,
    InvoiceIssued,
    InvoiceLine,
    InvoiceStatusChanged,
    InvoiceTotals,
    PartnerInvoiceRejected,
    PartnerInvoiceSubmitted,
    Party,
    PostalAddress,
    RejectionReason,
    SubmittedLine,
    VatBreakdown,
)
from contracts.v1.notifications import Channel, DeliveryOutcome, DeliveryStatus, SendRequested
from contracts.v1.signing import InvoiceSealed, SealingFailed

__all__ = [
    "Channel",
    "DeliveryOutcome",
    "DeliveryStatus",
    "InvoiceDocument",
    "InvoiceIssued",
    "InvoiceLine",
    "InvoiceSealed",
    "InvoiceStatusChanged",
    "InvoiceTotals",
    "PartnerInvoiceRejected",
    "PartnerInvoiceSubmitted",
    "Party",
    "PostalAddress",
    "RejectionReason",
    "SealingFailed",
    "SendRequested",
    "SubmittedLine",
    "VatBreakdown",
]
