"""The Grafana dashboards: well-formed, in sync with their generator, valid PromQL, real metrics only."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devstack.config import SERVICES

PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"}
# What Grafana's built-in variables stand for when promtool parses a query.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h"}


def generator():
    path = Path(__file__).resolve().parents[2] / "deploy" / "observability" / "grafana" / "build_dashboards.py"
    spec = importlib.util.spec_from_file_location("factora_build_dashboards", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def names_used(dashboard_queries, alert_rules, promql_names) -> dict[str, set[str]]:
    """metric name -> where it is used (dashboard panel or alert)."""
    used: dict[str, set[str]] = {}
    for file, title, expr in dashboard_queries:
        for name in promql_names(expr):
            used.setdefault(name, set()).add(f"{file}: {title}")
    for rule in alert_rules:
        for name in promql_names(rule["expr"]):
            used.setdefault(name, set()).add(f"alert {rule.get('alert') or rule.get('record')}")
    return used


@pytest.mark.unit
def test_the_committed_dashboards_are_what_the_generator_writes(dashboards):
    built = generator().dashboards()
    assert sorted(built) == sorted(dashboards), "run deploy/observability/grafana/build_dashboards.py"
    for name, dashboard in built.items():
        assert dashboard == dashboards[name], f"{name} is stale: run deploy/observability/grafana/build_dashboards.py"


@pytest.mark.unit
def test_there_is_a_network_overview_and_one_dashboard_per_service(dashboards):
    uids = [d["uid"] for d in dashboards.values()]
    assert len(set(uids)) == len(uids)
    assert set(uids) == {"factora-overview", *(f"factora-{s}" for s in SERVICES)}
    assert len({d["title"] for d in dashboards.values()}) == len(dashboards)


@pytest.mark.unit
def test_every_panel_is_placed_on_the_grid_without_overlap_and_queries_the_templated_datasource(dashboards):
    for name, dashboard in dashboards.items():
        ids, cells = set(), set()
        for panel in dashboard["panels"]:
            assert panel["id"] not in ids, f"{name}: duplicate panel id {panel['id']}"
            ids.add(panel["id"])
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, f"{name}: {panel['title']} leaves the grid"
            for x in range(grid["x"], grid["x"] + grid["w"]):
                for y in range(grid["y"], grid["y"] + grid["h"]):
                    assert (x, y) not in cells, f"{name}: {panel['title']} overlaps another panel"
                    cells.add((x, y))
            if panel["type"] == "row":
                continue
            assert panel["targets"], f"{name}: {panel['title']} has no query"
            assert panel["datasource"]["uid"] == "${datasource}"
            for target in panel["targets"]:
                assert target["expr"].strip() and target["refId"], f"{name}: {panel['title']}"
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"


@pytest.mark.unit
def test_the_overview_shows_the_funnel_latency_percentiles_lag_and_dead_letters(dashboards):
    panels = {p["title"]: p for p in dashboards["factora-overview.json"]["panels"]}
    funnel = " ".join(t["expr"] for t in panels["Pipeline funnel over the time range"]["targets"])
    stages = ["factora_invoices_issued_total", "factora_invoices_sealed_total", "factora_invoices_delivered_total"]
    assert [funnel.index(s) for s in stages] == sorted(funnel.index(s) for s in stages)
    for title in ("End-to-end latency: submission to delivered", "Per-hop latency p50/p99: event time to handling"):
        exprs = [t["expr"] for t in panels[title]["targets"]]
        assert any("histogram_quantile(0.5," in e for e in exprs) and any(
            "histogram_quantile(0.99," in e for e in exprs
        )
    assert "factora_kafka_consumer_lag" in panels["Consumer lag by group"]["targets"][0]["expr"]
    assert "factora_dlq_messages" in panels["Dead-letter topics"]["targets"][0]["expr"]


@pytest.mark.unit
def test_every_dashboard_query_is_valid_promql(dashboard_queries, promtool, tmp_path):
    # promtool parses PromQL only inside rule files: each query becomes a recording rule.
    lines = ["groups:", "  - name: dashboard-queries", "    rules:"]
    for n, (_, _, expr) in enumerate(dashboard_queries):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        lines += [f"      - record: dashboard:query_{n}", f"        expr: '{expr.replace(chr(39), chr(39) * 2)}'"]
    rules = tmp_path / "dashboard-queries.yml"
    rules.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.unit
def test_the_promql_name_extraction_sees_metrics_and_skips_functions_labels_and_windows(promql_names):
    expr = (
        'histogram_quantile(0.99, sum by (le, topic) (rate(factora_event_age_seconds_bucket{service="a:b"}[5m]))) '
        "/ on (service) group_left max by (service) (up offset 10m) and factora_x unless absent(factora_y)"
    )
    assert promql_names(expr) == {"factora_event_age_seconds_bucket", "up", "factora_x", "factora_y"}


@pytest.mark.unit
def test_every_metric_a_dashboard_or_an_alert_names_is_defined(
    dashboard_queries, alert_rules, promql_names, defined_metric_names
):
    used = names_used(dashboard_queries, alert_rules, promql_names)
    unknown = {name: sorted(where) for name, where in used.items() if name not in defined_metric_names | PROMETHEUS_OWN}
    assert not unknown, f"metrics nobody defines: {unknown}"


@pytest.mark.e2e
async def test_every_metric_a_dashboard_or_an_alert_names_is_exported_by_the_running_services(
    running_network, dashboard_queries, alert_rules, promql_names, exposition_names
):
    """Scrapes /metrics of the five services (after the e2e tests, when run with them)."""
    exported: dict[str, set[str]] = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for service in SERVICES:
            response = await http.get(f"{running_network.service_url(service)}/metrics")
            assert response.status_code == 200, service
            exported[service] = exposition_names(response.text)
    everywhere = set.union(*exported.values())
    used = names_used(dashboard_queries, alert_rules, promql_names)
    missing = {name: sorted(where) for name, where in used.items() if name not in everywhere | PROMETHEUS_OWN}
    assert not missing, f"named in dashboards or alerts, exported by no service: {missing}"
    # Every service serves the shared families (HTTP, consumption, outbox, lag) itself.
    shared = {"factora_http_requests_total", "factora_outbox_backlog", "factora_kafka_consumer_lag"}
    for service, names in exported.items():
        assert shared <= names, f"{service} lacks {shared - names}"
        assert any(re.match(r"faststream_received_messages_total", n) for n in names), service
