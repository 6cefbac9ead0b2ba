"""Topics the notifications service publishes."""

from contracts import v1
from contracts.spec import TopicSpec

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
    SEND_REQUESTED,
    DELIVERY_STATUS,
)
