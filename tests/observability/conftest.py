"""Fixtures of the observability tests: deploy/observability's files, promtool, and metric names."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
# Series Prometheus itself attaches to every target; no service exports them.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"}
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
}
_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
    "atan2", "inf", "nan", "Inf", "NaN",
}  # fmt: skip


def names_in_exposition(text: str) -> set[str]:
    """Every series name a /metrics text can produce, from its samples and from its HELP/TYPE lines.

    A labelled family with no sample yet is only a HELP and a TYPE line: its series names are derived
    from its type (a counter `x` is sampled as `x_total`, a histogram as `x_bucket`, `x_sum`...).
    """
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


def metric_names_in(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (Grafana's $variables allowed)."""
    expr = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # label values, strings
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # range and subquery windows
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\boffset\s+\S+", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        if expr[match.end() :].lstrip().startswith("("):
            continue  # a function
        if match.group(0) not in _KEYWORDS:
            names.add(match.group(0))
    return names


def faststream_metric_names() -> set[str]:
    """What FastStream's KafkaPrometheusMiddleware (in every ServiceRuntime) registers."""
    from faststream.kafka.prometheus import KafkaPrometheusMiddleware

    registry = CollectorRegistry()
    KafkaPrometheusMiddleware(registry=registry, app_name="probe")
    return names_in_exposition(generate_latest(registry).decode())


@pytest.fixture(scope="session")
def observability_dir() -> Path:
    return OBSERVABILITY


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool; the test is skipped (saying how to install it) when there is none."""
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    return path


# Services that define families of their own besides servicekit.metrics' (imported for their names).
SERVICE_METRIC_MODULES = ("notifications.metrics", "support.metrics")


@pytest.fixture(scope="session")
def defined_metric_names() -> set[str]:
    """Series names defined in servicekit.metrics, in the services' own metric modules, and by the
    libraries every service runs (FastStream's Prometheus middleware, prometheus_client's process
    collectors)."""
    import importlib

    import servicekit.metrics  # noqa: F401 - registers the network's metrics in REGISTRY

    for module in SERVICE_METRIC_MODULES:
        importlib.import_module(module)
    return names_in_exposition(generate_latest(REGISTRY).decode()) | faststream_metric_names()


@pytest.fixture(scope="session")
def dashboards(observability_dir: Path) -> dict[str, dict[str, Any]]:
    """File name -> the committed Grafana dashboard JSON."""
    folder = observability_dir / "grafana" / "dashboards"
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))}


def panels_of(dashboard: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


@pytest.fixture(scope="session")
def dashboard_queries(dashboards) -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, PromQL) of every query of every panel."""
    return [
        (name, panel.get("title", ""), target["expr"])
        for name, dashboard in dashboards.items()
        for panel in panels_of(dashboard)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


@pytest.fixture(scope="session")
def alert_rules(observability_dir: Path) -> list[dict[str, Any]]:
    """Every rule of deploy/observability/rules (needs PyYAML, a dev dependency)."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the rule files: add pyyaml to the dev group")
    rules = []
    for path in sorted((observability_dir / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            rules.extend(group["rules"])
    return rules


@pytest.fixture(scope="session")
def promql_names() -> Callable[[str], set[str]]:
    return metric_names_in


@pytest.fixture(scope="session")
def exposition_names() -> Callable[[str], set[str]]:
    return names_in_exposition
