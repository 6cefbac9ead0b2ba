"""Topics the signing service publishes."""

from contracts import v1
from contracts.spec import TopicSpec

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

TOPICS: tuple[TopicSpec, ...] = (
    INVOICE_SEALED,
    SEALING_FAILED,
)
