"""Prometheus metrics of the notifications service (default registry, served on /metrics)."""

from prometheus_client import Counter, Histogram

DELIVERIES = Counter(
    "factora_notifications_deliveries_total",
    "Delivery attempts by outcome: sent, failed, unknown (final) or retry (transient, will be tried again).",
    ["template", "channel", "outcome"],
)
DELIVERY_LATENCY = Histogram(
    "factora_notifications_delivery_latency_seconds",
    "From the request being recorded in the ledger to its final outcome.",
    ["channel", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 14400),
)
ATTACHMENTS = Counter(
    "factora_notifications_attachments_total",
    "Documents asked to be attached: attached, too_large, unavailable, transient, disabled (no signing token).",
    ["result"],
)
SMTP_CONNECTIONS = Counter("factora_notifications_smtp_connections_total", "SMTP connections opened to the relay.")
