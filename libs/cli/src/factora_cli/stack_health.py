"""What `factora stack status` measures: readiness of each service, its Kafka lag, DLQ sizes and outbox backlog."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from factora_cli import api as api_module
from factora_cli.api import SERVICES

DEFAULT_PORTS = dict(zip(SERVICES, range(8001, 8006), strict=True))
LOCALHOST = "127.0.0.1"
# Metric names from servicekit.metrics (kept here as text: the CLI does not import the services' runtime).
CONSUMER_LAG = "factora_kafka_consumer_lag"
DLQ_MESSAGES = "factora_dlq_messages"
OUTBOX_BACKLOG = "factora_outbox_backlog"
OUTBOX_OLDEST_AGE = "factora_outbox_oldest_age_seconds"
# Past this, an unpublished outbox row means the relay is stuck (it polls every half second).
OUTBOX_AGE_WARNING_S = 60.0

HEALTHY, UNHEALTHY, UNREACHABLE = "healthy", "unhealthy", "unreachable"


def service_urls(env: Mapping[str, str] | None = None, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each service's own address: --service-url, else <NAME>_HTTP_PORT on 127.0.0.1, else 8001..8005."""
    env = os.environ if env is None else env
    urls = {}
    for name, default in DEFAULT_PORTS.items():
        port = env.get(f"{name.upper()}_HTTP_PORT", "").strip() or str(default)
        urls[name] = f"http://{LOCALHOST}:{port}"
    urls.update({k: v.rstrip("/") for k, v in (overrides or {}).items()})
    return urls


@dataclass
class Metrics:
    """The figures an operator looks at first, from one service's /metrics."""

    consumer_lag: dict[str, int] = field(default_factory=dict)  # per consumer group, all partitions
    lag_by_topic: list[dict[str, Any]] = field(default_factory=list)  # group, topic, lag
    dlq: dict[str, int] = field(default_factory=dict)  # dead-letter topic → records held
    outbox_backlog: int | None = None
    outbox_oldest_age_s: float | None = None

    @property
    def total_lag(self) -> int:
        """Lag of every group together."""
        return sum(self.consumer_lag.values())

    @property
    def total_dlq(self) -> int:
        """Records in every dead-letter topic together."""
        return sum(self.dlq.values())


def parse_metrics(text: str) -> Metrics:
    """Pick the lag, DLQ and outbox figures out of a Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    found = Metrics()
    by_topic: dict[tuple[str, str], int] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == CONSUMER_LAG:
                group, topic = sample.labels.get("group", "?"), sample.labels.get("topic", "?")
                lag = int(sample.value)
                found.consumer_lag[group] = found.consumer_lag.get(group, 0) + lag
                by_topic[(group, topic)] = by_topic.get((group, topic), 0) + lag
            elif sample.name == DLQ_MESSAGES:
                found.dlq[sample.labels.get("topic", "?")] = int(sample.value)
            elif sample.name == OUTBOX_BACKLOG:
                found.outbox_backlog = int(sample.value)
            elif sample.name == OUTBOX_OLDEST_AGE:
                found.outbox_oldest_age_s = float(sample.value)
    found.lag_by_topic = [{"group": g, "topic": t, "lag": n} for (g, t), n in sorted(by_topic.items())]
    return found


@dataclass
class ServiceHealth:
    """One service as an operator sees it."""

    name: str
    url: str
    status: str = UNREACHABLE
    detail: str = ""
    checks: dict[str, Any] = field(default_factory=dict)
    metrics: Metrics | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The --json form."""
        data = asdict(self)
        if self.metrics is not None:
            data["metrics"].update(total_lag=self.metrics.total_lag, total_dlq=self.metrics.total_dlq)
        return data


@dataclass
class GatewayHealth:
    """The API gateway's own answer on /healthz."""

    url: str
    status: str = UNREACHABLE
    detail: str = ""


def _get(client: httpx.Client, url: str) -> httpx.Response | str:
    """The answer, or why there is none."""
    try:
        return client.get(url)
    except httpx.TimeoutException:
        return "no answer in time"
    except httpx.TransportError as exc:
        return f"not answering ({type(exc).__name__})"


def probe_service(client: httpx.Client, name: str, url: str) -> ServiceHealth:
    """/health/ready, then /metrics."""
    health = ServiceHealth(name=name, url=url)
    ready = _get(client, f"{url}/health/ready")
    if isinstance(ready, str):
        health.detail = ready
        return health
    body = ready.json() if ready.headers.get("content-type", "").startswith("application/json") else {}
    health.checks = body.get("checks", {}) if isinstance(body, dict) else {}
    if ready.status_code == 200:
        health.status, health.detail = HEALTHY, "ready"
    else:
        failing = [k for k, ok in health.checks.items() if not ok]
        health.status = UNHEALTHY
        health.detail = f"not ready (HTTP {ready.status_code})" + (f": {', '.join(failing)} down" if failing else "")
    metrics = _get(client, f"{url}/metrics")
    if isinstance(metrics, str) or metrics.status_code != 200:
        why = metrics if isinstance(metrics, str) else f"HTTP {metrics.status_code}"
        health.warnings.append(f"no /metrics: {why}")
        return health
    try:
        health.metrics = parse_metrics(metrics.text)
    except ValueError as exc:
        health.warnings.append(f"/metrics could not be parsed: {exc}")
        return health
    health.warnings.extend(metric_warnings(health.metrics))
    return health


def metric_warnings(metrics: Metrics) -> list[str]:
    """What deserves a look although the service is up: dead letters and a stale outbox."""
    found = [f"{topic} holds {n} dead-lettered record(s)" for topic, n in sorted(metrics.dlq.items()) if n > 0]
    if metrics.outbox_oldest_age_s is not None and metrics.outbox_oldest_age_s > OUTBOX_AGE_WARNING_S:
        found.append(
            f"outbox: {metrics.outbox_backlog} unpublished row(s), the oldest {metrics.outbox_oldest_age_s:.0f} s old"
        )
    return found


def probe_gateway(client: httpx.Client, api: str) -> GatewayHealth:
    """{api}/healthz."""
    health = GatewayHealth(url=api)
    answer = _get(client, f"{api}/healthz")
    if isinstance(answer, str):
        health.detail = answer
    elif answer.status_code == 200:
        health.status, health.detail = HEALTHY, "ok"
    else:
        health.status, health.detail = UNHEALTHY, f"HTTP {answer.status_code} on /healthz"
    return health


def probe_stack(
    urls: Mapping[str, str],
    api: str | None,
    *,
    timeout_s: float = 3.0,
    transport: httpx.BaseTransport | None = None,
) -> tuple[list[ServiceHealth], GatewayHealth | None]:
    """Every service (and the gateway unless `api` is None), probed in parallel."""
    with (
        httpx.Client(timeout=timeout_s, transport=transport or api_module.DEFAULT_TRANSPORT) as client,
        ThreadPoolExecutor(max_workers=len(urls) + 1) as pool,
    ):
        gateway = pool.submit(probe_gateway, client, api.rstrip("/")) if api else None
        services = [pool.submit(probe_service, client, name, url) for name, url in urls.items()]
        return [f.result() for f in services], (gateway.result() if gateway else None)
