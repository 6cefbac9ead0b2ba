"""Topics the invoicing service publishes."""

from contracts import v1
from contracts.spec import TopicSpec

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

TOPICS: tuple[TopicSpec, ...] = (
    PARTNER_INVOICE_SUBMITTED,
    PARTNER_INVOICE_REJECTED,
    INVOICE_ISSUED,
    INVOICE_STATUS_CHANGED,
)
