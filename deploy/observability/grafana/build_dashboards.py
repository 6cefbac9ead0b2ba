"""Writes the Grafana dashboards of the Factora network as JSON into grafana/dashboards/.

The JSON files are committed (Grafana provisions them as they are); this script is how they are
written, so edit it and run `uv run python deploy/observability/grafana/build_dashboards.py`.
tests/observability checks that the committed files match it and that every query names a
metric the services export.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
SERVICES = ("identity", "invoicing", "signing", "notifications", "support")


@dataclass
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


@dataclass
class Panel:
    title: str
    queries: list[Query]
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    thresholds: list[tuple[float | None, str]] | None = None


@dataclass
class Row:
    title: str
    panels: list[Panel]


def q(expr: str, legend: str = "", instant: bool = False) -> Query:
    return Query(" ".join(expr.split()), legend, instant)


def quantiles(metric: str, by: str, selector: str = "", legend: str = "") -> list[Query]:
    """p50 and p99 of a histogram, grouped by `by` (may be empty)."""
    group = f"le, {by}" if by else "le"
    label = legend or (f"{{{{{by}}}}}" if by else "")
    return [
        q(
            f"histogram_quantile({p}, sum by ({group}) (rate({metric}_bucket{selector}[{RATE}])))",
            f"p{int(p * 100)} {label}".strip(),
        )
        for p in (0.5, 0.99)
    ]


# --------------------------------------------------------------------------- rendering


def render_panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    targets = [
        {
            "datasource": DATASOURCE,
            "expr": query.expr,
            "legendFormat": query.legend or "__auto",
            "instant": query.instant,
            "range": not query.instant,
            "refId": chr(ord("A") + n),
        }
        for n, query in enumerate(panel.queries)
    ]
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.thresholds:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"color": color, "value": value} for value, color in panel.thresholds],
        }
    rendered: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": panel.options or default_options(panel.kind),
        "targets": targets,
    }
    if panel.description:
        rendered["description"] = panel.description
    return rendered


def default_options(kind: str) -> dict[str, Any]:
    if kind == "timeseries":
        return {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}
    if kind == "stat":
        return {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value"}
    if kind == "bargauge":
        return {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
        }
    return {}


def render_dashboard(uid: str, title: str, description: str, rows: Iterable[Row], tags: list[str]) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    panel_id, y = 1, 0
    for row in rows:
        panels.append(
            {
                "id": panel_id,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        panel_id, y, x, line_height = panel_id + 1, y + 1, 0, 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y, line_height = 0, y + line_height, 0
            panels.append(render_panel(panel, panel_id, x, y))
            panel_id += 1
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["factora", *tags],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {"text": "Factora Prometheus", "value": "factora-prometheus"},
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": []},
        "links": [{"type": "dashboards", "tags": ["factora"], "asDropdown": True, "title": "Factora dashboards"}],
        "panels": panels,
    }


# --------------------------------------------------------------------------- the network overview


def overview() -> dict[str, Any]:
    funnel = Panel(
        "Pipeline funnel over the time range",
        [
            q("sum(increase(factora_invoices_issued_total[$__range]))", "issued", instant=True),
            q("sum(increase(factora_invoices_sealed_total[$__range]))", "sealed", instant=True),
            q("sum(increase(factora_invoices_delivered_total[$__range]))", "delivered", instant=True),
            q(
                'sum(increase(factora_notifications_deliveries_total{channel="email", outcome="sent"}[$__range]))',
                "e-mails sent",
                instant=True,
            ),
            q("sum(increase(factora_invoices_rejected_total[$__range]))", "rejected", instant=True),
        ],
        kind="bargauge",
        width=8,
        description="Invoices issued, sealed and delivered (archived, parties told) and e-mails sent; "
        "a gap between two bars is work stuck or lost between two stages.",
    )
    throughput = Panel(
        "Pipeline throughput",
        [
            q(f"sum(rate(factora_invoices_issued_total[{RATE}]))", "issued"),
            q(f"sum(rate(factora_invoices_sealed_total[{RATE}]))", "sealed"),
            q(f"sum(rate(factora_invoices_delivered_total[{RATE}]))", "delivered"),
            q(f'sum(rate(factora_notifications_deliveries_total{{outcome="sent"}}[{RATE}]))', "notifications sent"),
            q(f"sum(rate(factora_invoices_rejected_total[{RATE}]))", "rejected"),
            q(f"sum(rate(factora_sealing_failures_total[{RATE}]))", "sealing failed"),
        ],
        unit="ops",
        width=16,
    )
    end_to_end = Panel(
        "End-to-end latency: submission to delivered",
        quantiles("factora_invoice_end_to_end_seconds", ""),
        unit="s",
        width=8,
        description="From the partner event (or portal request) to the invoice's delivered status.",
    )
    hops = Panel(
        "Per-hop latency p50/p99: event time to handling",
        quantiles("factora_event_age_seconds", "topic"),
        unit="s",
        width=8,
        description="Outbox, Kafka and consumer queueing per topic: the time from an event's ce_time to the start "
        "of its handling.",
    )
    outbox = Panel(
        "Outbox publish delay p50/p99",
        quantiles("factora_outbox_publish_delay_seconds", "topic"),
        unit="s",
        width=8,
    )
    work = Panel(
        "Per-stage work p50/p99",
        [
            *quantiles("factora_rendering_duration_seconds", "step", legend="render {{step}}"),
            *quantiles("factora_sealing_duration_seconds", "", legend="seal"),
            *quantiles("factora_notification_send_duration_seconds", "channel", legend="send {{channel}}"),
            *quantiles("faststream_received_processed_messages_duration_seconds", "handler", legend="{{handler}}"),
        ],
        unit="s",
        width=24,
        description="Rendering (PDF/A-3, Factur-X), PAdES sealing, the provider hand-over and each Kafka handler.",
    )
    lag = Panel(
        "Consumer lag by group",
        [q("sum by (service, group) (factora_kafka_consumer_lag)", "{{group}}")],
        width=8,
    )
    dlq = Panel(
        "Dead-letter topics",
        [q("max by (topic) (factora_dlq_messages)", "{{topic}}")],
        width=8,
        thresholds=[(None, "green"), (1, "red")],
    )
    dead_lettered = Panel(
        "Dead letters and retries",
        [
            q(f"sum by (topic) (rate(factora_dead_lettered_total[{RATE}]))", "dead-lettered {{topic}}"),
            q(f"sum by (topic) (rate(factora_handler_retries_total[{RATE}]))", "retried {{topic}}"),
        ],
        unit="ops",
        width=8,
    )
    outbox_state = Panel(
        "Outbox backlog and oldest row",
        [
            q("max by (service) (factora_outbox_backlog)", "backlog {{service}}"),
            q("max by (service) (factora_outbox_oldest_age_seconds)", "oldest (s) {{service}}"),
        ],
        width=8,
    )
    http_rate = Panel(
        "HTTP requests by service",
        [q(f"sum by (service) (rate(factora_http_requests_total[{RATE}]))", "{{service}}")],
        unit="reqps",
        width=8,
    )
    http_errors = Panel(
        "HTTP 5xx ratio by service",
        [
            q(
                f'sum by (service) (rate(factora_http_requests_total{{status=~"5.."}}[{RATE}])) '
                f"/ sum by (service) (rate(factora_http_requests_total[{RATE}]))",
                "{{service}}",
            )
        ],
        unit="percentunit",
        width=8,
    )
    http_latency = Panel(
        "HTTP latency p99 by service",
        [
            q(
                "histogram_quantile(0.99, sum by (le, service) "
                f"(rate(factora_http_request_duration_seconds_bucket[{RATE}])))",
                "{{service}}",
            )
        ],
        unit="s",
        width=8,
    )
    up = Panel(
        "Services up",
        [q('up{job="factora"}', "{{service}}", instant=True)],
        kind="stat",
        width=8,
        height=5,
        thresholds=[(None, "red"), (1, "green")],
    )
    certificate = Panel(
        "Seal certificate: days left",
        [q("min by (subject) (factora_seal_certificate_days_to_expiry)", "{{subject}}", instant=True)],
        kind="stat",
        unit="d",
        width=8,
        height=5,
        thresholds=[(None, "red"), (7, "orange"), (30, "green")],
    )
    support = Panel(
        "Support: cases opened and SLA breaches over the range",
        [
            q("sum(increase(factora_support_cases_opened_total[$__range]))", "cases opened", instant=True),
            q("sum(increase(factora_support_sla_breaches_total[$__range]))", "SLA breaches", instant=True),
        ],
        kind="stat",
        width=8,
        height=5,
    )
    rows = [
        Row("Invoice pipeline", [funnel, throughput]),
        Row("Latency", [end_to_end, hops, outbox, work]),
        Row("Kafka and outbox", [lag, dlq, dead_lettered, outbox_state]),
        Row("HTTP", [http_rate, http_errors, http_latency]),
        Row("Health", [up, certificate, support]),
    ]
    return render_dashboard(
        "factora-overview",
        "Factora network overview",
        "The invoice pipeline end to end: funnel, latency per stage, Kafka lag, dead letters, HTTP and health.",
        rows,
        ["overview"],
    )


# --------------------------------------------------------------------------- one dashboard per service


def common_rows(service: str) -> list[Row]:
    s = f'service="{service}"'
    http = Row(
        "HTTP",
        [
            Panel(
                "Requests by route",
                [q(f"sum by (route) (rate(factora_http_requests_total{{{s}}}[{RATE}]))", "{{route}}")],
                unit="reqps",
                width=8,
            ),
            Panel(
                "Responses by status",
                [q(f"sum by (status) (rate(factora_http_requests_total{{{s}}}[{RATE}]))", "{{status}}")],
                unit="reqps",
                width=8,
            ),
            Panel(
                "Latency p50/p99 by route",
                quantiles("factora_http_request_duration_seconds", "route", f"{{{s}}}"),
                unit="s",
                width=8,
            ),
        ],
    )
    kafka = Row(
        "Kafka consumers",
        [
            Panel(
                "Messages handled by topic and outcome",
                [
                    q(
                        f"sum by (topic, outcome) (rate(factora_messages_consumed_total{{{s}}}[{RATE}]))",
                        "{{topic}} {{outcome}}",
                    )
                ],
                unit="ops",
                width=8,
            ),
            Panel(
                "Handler duration p50/p99",
                quantiles("faststream_received_processed_messages_duration_seconds", "handler", f"{{{s}}}"),
                unit="s",
                width=8,
            ),
            Panel(
                "Event age at handling p50/p99",
                quantiles("factora_event_age_seconds", "topic", f"{{{s}}}"),
                unit="s",
                width=8,
            ),
            Panel(
                "Consumer lag by group and partition",
                [q(f"factora_kafka_consumer_lag{{{s}}}", "{{group}} p{{partition}}")],
                width=8,
            ),
            Panel(
                "Retries and dead letters",
                [
                    q(f"sum by (topic) (rate(factora_handler_retries_total{{{s}}}[{RATE}]))", "retried {{topic}}"),
                    q(f"sum by (topic) (rate(factora_dead_lettered_total{{{s}}}[{RATE}]))", "dead-lettered {{topic}}"),
                ],
                unit="ops",
                width=8,
            ),
            Panel(
                "Dead-letter topics",
                [q(f"factora_dlq_messages{{{s}}}", "{{topic}}")],
                width=8,
                thresholds=[(None, "green"), (1, "red")],
            ),
        ],
    )
    outbox = Row(
        "Outbox",
        [
            Panel(
                "Backlog and oldest row",
                [
                    q(f"factora_outbox_backlog{{{s}}}", "unpublished rows"),
                    q(f"factora_outbox_oldest_age_seconds{{{s}}}", "oldest row age (s)"),
                ],
                width=8,
            ),
            Panel(
                "Published and failed passes",
                [
                    q(f"rate(factora_outbox_published_total{{{s}}}[{RATE}])", "published"),
                    q(f"rate(factora_outbox_relay_failures_total{{{s}}}[{RATE}])", "failed passes"),
                ],
                unit="ops",
                width=8,
            ),
            Panel(
                "Publish delay p50/p99 by topic",
                quantiles("factora_outbox_publish_delay_seconds", "topic", f"{{{s}}}"),
                unit="s",
                width=8,
            ),
        ],
    )
    process = Row(
        "Process",
        [
            Panel(
                "Up",
                [q(f'up{{job="factora", {s}}}', "{{instance}}", instant=True)],
                kind="stat",
                width=6,
                thresholds=[(None, "red"), (1, "green")],
            ),
            Panel(
                "CPU",
                [q(f"rate(process_cpu_seconds_total{{{s}}}[{RATE}])", "{{instance}}")],
                unit="percentunit",
                width=9,
            ),
            Panel(
                "Resident memory", [q(f"process_resident_memory_bytes{{{s}}}", "{{instance}}")], unit="bytes", width=9
            ),
        ],
    )
    return [http, kafka, outbox, process]


def business_row(service: str) -> Row | None:
    s = f'service="{service}"'
    if service == "identity":
        return Row(
            "Sign-in and recovery",
            [
                Panel(
                    "Sign-in, MFA, token and recovery answers by status",
                    [
                        q(
                            f"sum by (route, status) (rate(factora_http_requests_total{{{s}, "
                            f'route=~".*(login|mfa|token|password|username|signup|invitations).*"}}[{RATE}]))',
                            "{{route}} {{status}}",
                        )
                    ],
                    unit="reqps",
                    width=24,
                    description="A rise of 401/429 on the sign-in routes is guessing or stuffing; of 5xx, an outage.",
                )
            ],
        )
    if service == "invoicing":
        return Row(
            "Invoices and credits",
            [
                Panel(
                    "Issued by source, delivered",
                    [
                        q(f"sum by (source) (rate(factora_invoices_issued_total{{{s}}}[{RATE}]))", "issued {{source}}"),
                        q(f"sum(rate(factora_invoices_delivered_total{{{s}}}[{RATE}]))", "delivered"),
                    ],
                    unit="ops",
                    width=8,
                ),
                Panel(
                    "Rejected by reason",
                    [
                        q(
                            f"sum by (source, reason) (rate(factora_invoices_rejected_total{{{s}}}[{RATE}]))",
                            "{{source}} {{reason}}",
                        )
                    ],
                    unit="ops",
                    width=8,
                ),
                Panel(
                    "Credits consumed",
                    [q(f"sum(rate(factora_credits_consumed_total{{{s}}}[{RATE}]))", "credits/s")],
                    unit="ops",
                    width=8,
                ),
                Panel(
                    "End-to-end latency p50/p99",
                    quantiles("factora_invoice_end_to_end_seconds", "", f"{{{s}}}"),
                    unit="s",
                    width=24,
                ),
            ],
        )
    if service == "signing":
        return Row(
            "Sealing",
            [
                Panel(
                    "Sealed and failed",
                    [
                        q(f"sum(rate(factora_invoices_sealed_total{{{s}}}[{RATE}]))", "sealed"),
                        q(
                            f"sum by (reason) (rate(factora_sealing_failures_total{{{s}}}[{RATE}]))",
                            "failed {{reason}}",
                        ),
                    ],
                    unit="ops",
                    width=8,
                ),
                Panel(
                    "Seal duration p50/p99",
                    quantiles("factora_sealing_duration_seconds", "", f"{{{s}}}"),
                    unit="s",
                    width=8,
                    description="Budget: 11 ms of CPU per seal (ARCHITECTURE.md).",
                ),
                Panel(
                    "Rendering duration p50/p99 by step",
                    quantiles("factora_rendering_duration_seconds", "step", f"{{{s}}}"),
                    unit="s",
                    width=8,
                    description="Budget: 3 ms for the PDF, 3 ms for Factur-X XML and PDF/A-3.",
                ),
                Panel(
                    "Seal certificate: days left",
                    [q(f"factora_seal_certificate_days_to_expiry{{{s}}}", "{{subject}}", instant=True)],
                    kind="stat",
                    unit="d",
                    width=24,
                    height=5,
                    thresholds=[(None, "red"), (7, "orange"), (30, "green")],
                ),
            ],
        )
    if service == "notifications":
        return Row(
            "Deliveries",
            [
                Panel(
                    "Outcomes by channel",
                    [
                        q(
                            f"sum by (channel, outcome) (rate(factora_notifications_deliveries_total{{{s}}}[{RATE}]))",
                            "{{channel}} {{outcome}}",
                        )
                    ],
                    unit="ops",
                    width=8,
                    description="sent, failed and unknown are final; retry is a transient failure tried again.",
                ),
                Panel(
                    "Provider hand-over p50/p99",
                    quantiles("factora_notification_send_duration_seconds", "channel", f"{{{s}}}"),
                    unit="s",
                    width=8,
                ),
                Panel(
                    "Request to outcome p50/p99",
                    quantiles("factora_notifications_delivery_latency_seconds", "channel", f"{{{s}}}"),
                    unit="s",
                    width=8,
                ),
                Panel(
                    "Deliveries by template",
                    [
                        q(
                            f"sum by (template) (rate(factora_notifications_deliveries_total{{{s}}}[{RATE}]))",
                            "{{template}}",
                        )
                    ],
                    unit="ops",
                    width=12,
                ),
                Panel(
                    "SMTP connections and attachments",
                    [
                        q(f"rate(factora_notifications_smtp_connections_total{{{s}}}[{RATE}])", "SMTP connections"),
                        q(
                            f"sum by (result) (rate(factora_notifications_attachments_total{{{s}}}[{RATE}]))",
                            "attachments {{result}}",
                        ),
                    ],
                    unit="ops",
                    width=12,
                ),
            ],
        )
    if service == "support":
        return Row(
            "Cases and SLA",
            [
                Panel(
                    "Cases opened by category (per hour)",
                    [
                        q(
                            f"sum by (category) (increase(factora_support_cases_opened_total{{{s}}}[1h]))",
                            "{{category}}",
                        )
                    ],
                    width=8,
                ),
                Panel(
                    "SLA breaches by clock (per hour)",
                    [q(f"sum by (clock) (increase(factora_support_sla_breaches_total{{{s}}}[1h]))", "{{clock}}")],
                    width=8,
                    thresholds=[(None, "green"), (1, "red")],
                ),
                Panel(
                    "Active cases by state",
                    [q(f"sum by (state) (factora_support_active_cases{{{s}}})", "{{state}}")],
                    width=8,
                ),
                Panel(
                    "Cases past or near their SLA now",
                    [
                        q(f"sum by (clock) (factora_support_cases_breached{{{s}}})", "breached {{clock}}"),
                        q(f"sum by (clock) (factora_support_cases_at_risk{{{s}}})", "at risk {{clock}}"),
                    ],
                    width=24,
                ),
            ],
        )
    return None


def service_dashboard(service: str) -> dict[str, Any]:
    rows = common_rows(service)
    if (business := business_row(service)) is not None:
        rows.insert(0, business)
    return render_dashboard(
        f"factora-{service}",
        f"Factora {service}",
        f"The {service} service: its own work first, then HTTP, Kafka consumers, outbox and process.",
        rows,
        ["service", service],
    )


def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON model."""
    built = {"factora-overview.json": overview()}
    for service in SERVICES:
        built[f"factora-{service}.json"] = service_dashboard(service)
    return built


def serialise(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, dashboard in dashboards().items():
        (OUT / name).write_text(serialise(dashboard), encoding="utf-8")
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
