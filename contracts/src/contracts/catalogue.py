"""The topic catalogue: every Kafka topic of the network, who writes it, who reads it, its schema."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from contracts import v1

DAY_MS = 24 * 3600 * 1000
DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, key, owner, readers, payload schema and retention."""

    name: str
    key: str
    producer: str
    consumers: tuple[str, ...]
    schema: type[BaseModel]
    description: str
    partitions: int = 3
    retention_ms: int = 7 * DAY_MS
    dlq_retention_ms: int = 30 * DAY_MS
    config: dict[str, str] = field(default_factory=dict)

    @property
    def dlq(self) -> str:
        """Name of the dead-letter twin of this topic."""
        return self.name + DLQ_SUFFIX

    @property
    def schema_name(self) -> str:
        """The ce_type of events on this topic (equal to the topic name)."""
        return self.name


PARTNER_INVOICE_SUBMITTED = TopicSpec(
    name="invoicing.partner-invoice-submitted.v1",
    key="partner invoice reference (seller company id + external id)",
    producer="partner systems",
    consumers=("invoicing",),
    schema=v1.PartnerInvoiceSubmitted,
    description="Intake: a partner system (ERP, billing tool) submits an invoice for a seller.",
)
PARTNER_INVOICE_REJECTED = TopicSpec(
    name="invoicing.partner-invoice-rejected.v1",
    key="partner invoice reference",
    producer="invoicing",
    consumers=("partner systems",),
    schema=v1.PartnerInvoiceRejected,
    description="A partner submission that was not accepted, with the rule and field of each error.",
)
INVOICE_ISSUED = TopicSpec(
    name="invoicing.invoice-issued.v1",
    key="invoice id",
    producer="invoicing",
    consumers=("signing",),
    schema=v1.InvoiceIssued,
    description="An invoice was validated, numbered and issued; signing renders and seals it.",
)
INVOICE_STATUS_CHANGED = TopicSpec(
    name="invoicing.invoice-status-changed.v1",
    key="invoice id",
    producer="invoicing",
    consumers=("partner systems",),
    schema=v1.InvoiceStatusChanged,
    description="The lifecycle status of an invoice changed (issued, delivered, ...).",
)
INVOICE_SEALED = TopicSpec(
    name="signing.invoice-sealed.v1",
    key="invoice id",
    producer="signing",
    consumers=("invoicing",),
    schema=v1.InvoiceSealed,
    description="The invoice was rendered as PDF/A-3 with its XML, sealed and archived.",
)
SEALING_FAILED = TopicSpec(
    name="signing.sealing-failed.v1",
    key="invoice id",
    producer="signing",
    consumers=("invoicing",),
    schema=v1.SealingFailed,
    description="The invoice could not be rendered or sealed; the reason says why.",
)
SEND_REQUESTED = TopicSpec(
    name="notifications.send-requested.v1",
    key="idempotency key",
    producer="identity, invoicing, support",
    consumers=("notifications",),
    schema=v1.SendRequested,
    description="Command: deliver one templated message to one recipient on one channel.",
)
DELIVERY_STATUS = TopicSpec(
    name="notifications.delivery-status.v1",
    key="ledger id",
    producer="notifications",
    consumers=("operators",),
    schema=v1.DeliveryStatus,
    description="Outcome of a delivery attempt: sent, failed or unknown.",
)

TOPICS: tuple[TopicSpec, ...] = (
    PARTNER_INVOICE_SUBMITTED,
    PARTNER_INVOICE_REJECTED,
    INVOICE_ISSUED,
    INVOICE_STATUS_CHANGED,
    INVOICE_SEALED,
    SEALING_FAILED,
    SEND_REQUESTED,
    DELIVERY_STATUS,
)

BY_NAME: dict[str, TopicSpec] = {t.name: t for t in TOPICS}


def topic(name: str) -> TopicSpec:
    """The spec of a catalogued topic; KeyError names the unknown topic."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"topic {name!r} is not in the contracts catalogue") from None


def all_topic_names() -> list[str]:
    """Every topic and its dead-letter twin, as the broker must have them."""
    return [n for t in TOPICS for n in (t.name, t.dlq)]
