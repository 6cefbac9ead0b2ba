"""Prometheus metrics shared by every service (the registry is process-wide).

Every metric of the network is defined here, once, so names and labels are shared and the
dashboards and alerts in deploy/observability can rely on them (a test checks that every query
there names a metric that is defined here or really exported). Every service imports this module,
so each one exposes every family on /metrics; a family only gets samples in the service that
records it (see deploy/observability/README.md for who records what).

Label values must come from small fixed sets (never ids, e-mail addresses or free text).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

# Seconds; from a few milliseconds (one hop on one box) to minutes (a backlog or a retry storm).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
# Seconds of CPU-bound document work (the budget is a few milliseconds per step).
WORK_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

# --------------------------------------------------------------------------- HTTP (servicekit.http)

HTTP_REQUESTS = Counter("factora_http_requests_total", "HTTP requests served.", ["method", "route", "status"])
HTTP_DURATION = Histogram("factora_http_request_duration_seconds", "HTTP request duration.", ["method", "route"])

# --------------------------------------------------------------------------- Kafka consumption (servicekit.consumer)

MESSAGES_CONSUMED = Counter("factora_messages_consumed_total", "Kafka messages handled.", ["topic", "outcome"])
HANDLER_RETRIES = Counter("factora_handler_retries_total", "Handler retries after an error.", ["topic"])
DEAD_LETTERED = Counter("factora_dead_lettered_total", "Messages sent to a DLQ.", ["topic"])
EVENT_AGE = Histogram(
    "factora_event_age_seconds",
    "Time from an event's ce_time to the start of its handling by this service (one pipeline hop).",
    ["topic"],
    buckets=LATENCY_BUCKETS,
)

# --------------------------------------------------------------------------- Kafka lag and DLQ sizes (servicekit.lag)

CONSUMER_LAG = Gauge(
    "factora_kafka_consumer_lag",
    "Records not yet committed by a consumer group: end offset minus committed offset.",
    ["group", "topic", "partition"],
)
DLQ_MESSAGES = Gauge(
    "factora_dlq_messages",
    "Records held by a dead-letter topic this service writes to (end minus beginning offsets).",
    ["topic"],
)
LAG_COLLECTION_ERRORS = Counter(
    "factora_kafka_lag_collection_errors_total", "Failed passes of the consumer-lag collector."
)

# ------------------------------------------------------------------ outbox (servicekit.outbox, servicekit.http)

OUTBOX_PUBLISHED = Counter("factora_outbox_published_total", "Outbox rows published.")
OUTBOX_BACKLOG = Gauge("factora_outbox_backlog", "Unpublished outbox rows.")
OUTBOX_OLDEST_AGE = Gauge("factora_outbox_oldest_age_seconds", "Age of the oldest unpublished row.")
OUTBOX_PUBLISH_DELAY = Histogram(
    "factora_outbox_publish_delay_seconds",
    "Time from the commit that wrote an outbox row to the broker's acknowledgement of it.",
    ["topic"],
    buckets=LATENCY_BUCKETS,
)
OUTBOX_RELAY_FAILURES = Counter("factora_outbox_relay_failures_total", "Outbox relay passes that failed.")

# --------------------------------------------------------------------------- invoicing

INVOICES_ISSUED = Counter(
    "factora_invoices_issued_total",
    "Invoices and credit notes numbered and issued; source is partner or portal.",
    ["source"],
)
INVOICES_REJECTED = Counter(
    "factora_invoices_rejected_total",
    "Submissions refused; reason is schema, validation, authentication or credits.",
    ["source", "reason"],
)
INVOICES_DELIVERED = Counter(
    "factora_invoices_delivered_total", "Invoices whose sealed document reached the archive (status delivered)."
)
INVOICE_END_TO_END = Histogram(
    "factora_invoice_end_to_end_seconds",
    "Time from an invoice's submission (partner event time or portal request) to its delivered status.",
    buckets=LATENCY_BUCKETS,
)
CREDITS_CONSUMED = Counter("factora_credits_consumed_total", "Transaction credits consumed by issued invoices.")

# --------------------------------------------------------------------------- signing

INVOICES_SEALED = Counter("factora_invoices_sealed_total", "Documents sealed and archived.")
SEALING_FAILURES = Counter(
    "factora_sealing_failures_total",
    "Invoices that could not be sealed (signing.sealing-failed published); reason is render, seal or archive.",
    ["reason"],
)
SEALING_DURATION = Histogram(
    "factora_sealing_duration_seconds", "Duration of one PAdES seal (signature only).", buckets=WORK_BUCKETS
)
RENDERING_DURATION = Histogram(
    "factora_rendering_duration_seconds",
    "Duration of rendering one document; step is pdf (PDF/A-3 layout) or facturx (CII XML and embedding).",
    ["step"],
    buckets=WORK_BUCKETS,
)

# --------------------------------------------------------------------------- notifications
# The delivery ledger's own families live in notifications.metrics (recorded there today):
# factora_notifications_deliveries_total{template,channel,outcome} (outcome sent, failed, unknown
# or retry) and factora_notifications_delivery_latency_seconds{channel,outcome} (ledger row to
# final outcome). The dashboards and alerts use those names.

NOTIFICATION_SEND_DURATION = Histogram(
    "factora_notification_send_duration_seconds",
    "Duration of one hand-over to the provider (SMTP transaction or SMS API call).",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)

# --------------------------------------------------------------------------- support
# support.metrics takes these two from here (and adds its gauges of active, breached and at-risk cases).

CASES_OPENED = Counter("factora_support_cases_opened_total", "Support cases opened, by category.", ["category"])
SLA_BREACHES = Counter(
    "factora_support_sla_breaches_total",
    "SLA clocks that passed their target; clock is first_response or resolution.",
    ["clock"],
)


def after_commit(session: AsyncSession, action: Callable[[], object]) -> None:
    """Run `action` once the session's transaction commits, never for work that is rolled back.

    Business counters are recorded inside handlers whose transaction may still fail and be retried:
    `after_commit(session, INVOICES_ISSUED.labels("partner").inc)` counts the invoice once.
    """
    sync_session = getattr(session, "sync_session", None)
    if sync_session is None:
        return  # a unit test's fake session never commits, so there is nothing to count
    event.listen(sync_session, "after_commit", lambda _session: action(), once=True)


# --------------------------------------------------------------------------- seal certificate expiry


class CertificateExpiry(Collector):
    """Days left on each seal certificate, computed at scrape time from its notAfter.

    signing calls `SEAL_CERTIFICATE.observe(subject, not_after)` once it has loaded its key; the
    value then keeps counting down by itself, with no periodic task.
    """

    def __init__(self) -> None:
        self._not_after: dict[str, float] = {}
        self._lock = threading.Lock()

    def observe(self, subject: str, not_after: datetime) -> None:
        """Remember (or replace) the expiry of the certificate with this subject."""
        with self._lock:
            self._not_after[subject] = not_after.timestamp()

    def forget(self, subject: str) -> None:
        """Stop reporting a certificate (it was rotated out)."""
        with self._lock:
            self._not_after.pop(subject, None)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        with self._lock:
            items = sorted(self._not_after.items())
        now = time.time()
        days = GaugeMetricFamily(
            "factora_seal_certificate_days_to_expiry",
            "Days until the seal certificate's notAfter (negative once expired).",
            labels=["subject"],
        )
        stamp = GaugeMetricFamily(
            "factora_seal_certificate_not_after_timestamp_seconds",
            "The seal certificate's notAfter as a Unix time.",
            labels=["subject"],
        )
        for subject, not_after in items:
            days.add_metric([subject], (not_after - now) / 86400)
            stamp.add_metric([subject], not_after)
        return [days, stamp]

    def describe(self) -> Iterable[GaugeMetricFamily]:
        # Without describe() the registry would call collect() at registration time.
        return [
            GaugeMetricFamily("factora_seal_certificate_days_to_expiry", "", labels=["subject"]),
            GaugeMetricFamily("factora_seal_certificate_not_after_timestamp_seconds", "", labels=["subject"]),
        ]


SEAL_CERTIFICATE = CertificateExpiry()
REGISTRY.register(SEAL_CERTIFICATE)
