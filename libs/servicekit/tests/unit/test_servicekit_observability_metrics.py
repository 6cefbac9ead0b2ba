"""The shared metric definitions: names, labels, and the certificate-expiry gauge that counts down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from servicekit import metrics
from servicekit.metrics import CertificateExpiry

pytestmark = pytest.mark.unit

# Labels whose values would be unbounded (one series per invoice, user or address) are refused.
UNBOUNDED_LABELS = {"id", "invoice", "invoice_id", "user", "user_id", "email", "recipient", "company", "tenant", "key"}


def defined() -> dict[str, MetricWrapperBase]:
    return {name: m for name, m in vars(metrics).items() if isinstance(m, MetricWrapperBase)}


def test_every_metric_is_named_factora_documented_and_labelled_with_bounded_values_only():
    for attribute, metric in defined().items():
        name = metric._name
        assert name.startswith("factora_"), attribute
        assert metric._documentation.strip(), attribute
        assert not set(metric._labelnames) & UNBOUNDED_LABELS, f"{name} has an unbounded label"


def test_the_business_and_pipeline_metrics_the_dashboards_rely_on_are_defined():
    names = {m._name for m in defined().values()}
    assert {
        "factora_invoices_issued",
        "factora_invoices_rejected",
        "factora_invoices_sealed",
        "factora_invoices_delivered",
        "factora_credits_consumed",
        "factora_notification_send_duration_seconds",
        "factora_support_cases_opened",
        "factora_support_sla_breaches",
        "factora_sealing_duration_seconds",
        "factora_rendering_duration_seconds",
        "factora_kafka_consumer_lag",
        "factora_dlq_messages",
        "factora_invoice_end_to_end_seconds",
        "factora_event_age_seconds",
    } <= names  # prometheus_client keeps counter names without their _total suffix


def test_seal_certificate_days_to_expiry_counts_down_from_its_not_after_and_is_listed_before_any_value():
    registry = CollectorRegistry()
    expiry = CertificateExpiry()
    registry.register(expiry)
    empty = {f.name for f in text_string_to_metric_families(generate_latest(registry).decode())}
    assert "factora_seal_certificate_days_to_expiry" in empty  # HELP/TYPE are served before signing reports

    expiry.observe("CN=Factora seal", datetime.now(UTC) + timedelta(days=29, hours=12))
    samples = {
        (s.name, s.labels["subject"]): s.value
        for f in text_string_to_metric_families(generate_latest(registry).decode())
        for s in f.samples
    }
    days = samples[("factora_seal_certificate_days_to_expiry", "CN=Factora seal")]
    assert 29.4 < days < 29.6
    expiry.forget("CN=Factora seal")
    assert b"CN=Factora seal" not in generate_latest(registry)
