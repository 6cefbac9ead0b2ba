"""`factora stack status`: readiness, metrics read from /metrics, the table, the JSON and the exit codes."""

from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from factora_cli import api as api_module
from factora_cli.app import app
from factora_cli.stack_health import parse_metrics, service_urls

pytestmark = pytest.mark.unit
runner = CliRunner()
GATEWAY = "http://gateway.test"

METRICS = """\
# HELP factora_kafka_consumer_lag Records not yet committed by a consumer group.
# TYPE factora_kafka_consumer_lag gauge
factora_kafka_consumer_lag{group="signing.issued",partition="0",topic="invoicing.invoice-issued.v1"} 3.0
factora_kafka_consumer_lag{group="signing.issued",partition="1",topic="invoicing.invoice-issued.v1"} 4.0
# HELP factora_dlq_messages Records held by a dead-letter topic.
# TYPE factora_dlq_messages gauge
factora_dlq_messages{topic="invoicing.invoice-issued.v1.dlq"} 2.0
# HELP factora_outbox_backlog Unpublished outbox rows.
# TYPE factora_outbox_backlog gauge
factora_outbox_backlog 5.0
# HELP factora_outbox_oldest_age_seconds Age of the oldest unpublished row.
# TYPE factora_outbox_oldest_age_seconds gauge
factora_outbox_oldest_age_seconds 75.5
# HELP factora_http_requests_total HTTP requests served.
# TYPE factora_http_requests_total counter
factora_http_requests_total{method="GET",route="/health/ready",status="200"} 12.0
"""
QUIET = """\
# TYPE factora_kafka_consumer_lag gauge
factora_kafka_consumer_lag{group="identity.mfa-reset",partition="0",topic="support.mfa-reset-approved.v1"} 0.0
# TYPE factora_outbox_backlog gauge
factora_outbox_backlog 0.0
# TYPE factora_outbox_oldest_age_seconds gauge
factora_outbox_oldest_age_seconds 0.0
"""


class Stack:
    """Five fake services on their own ports and a gateway; each can be made not ready or silent."""

    def __init__(self) -> None:
        self.not_ready: set[str] = set()
        self.silent: set[str] = set()
        self.metrics: dict[str, str] = {}
        self.urls = service_urls(env={})
        self.names = {url.removeprefix("http://"): name for name, url in self.urls.items()}

    def handler(self, request: httpx.Request) -> httpx.Response:
        host = f"{request.url.host}:{request.url.port}" if request.url.port else request.url.host
        name = self.names.get(host, "gateway")
        if name in self.silent:
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        if request.url.path == "/health/ready":
            if name in self.not_ready:
                return httpx.Response(503, json={"status": "not ready", "checks": {"database": True, "kafka": False}})
            return httpx.Response(200, json={"status": "ready", "checks": {"database": True, "kafka": True}})
        if request.url.path == "/metrics":
            return httpx.Response(200, text=self.metrics.get(name, QUIET))
        return httpx.Response(404)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Stack:
    fake = Stack()
    monkeypatch.setattr(api_module, "DEFAULT_TRANSPORT", httpx.MockTransport(fake.handler))
    for name in fake.urls:
        monkeypatch.delenv(f"{name.upper()}_HTTP_PORT", raising=False)
    return fake


def status(*args: str):
    return runner.invoke(app, ["stack", "status", "--api", GATEWAY, *args])


def test_the_metrics_give_lag_per_group_dlq_sizes_and_the_outbox():
    metrics = parse_metrics(METRICS)

    assert metrics.consumer_lag == {"signing.issued": 7}
    assert metrics.lag_by_topic == [{"group": "signing.issued", "topic": "invoicing.invoice-issued.v1", "lag": 7}]
    assert metrics.dlq == {"invoicing.invoice-issued.v1.dlq": 2}
    assert (metrics.outbox_backlog, metrics.outbox_oldest_age_s) == (5, 75.5)


def test_service_addresses_follow_the_port_variables_and_the_overrides():
    urls = service_urls(env={"SIGNING_HTTP_PORT": "44003"}, overrides={"support": "http://desk:9000/"})

    assert urls["identity"] == "http://127.0.0.1:8001"
    assert urls["signing"] == "http://127.0.0.1:44003"
    assert urls["support"] == "http://desk:9000"


def test_a_healthy_stack_exits_0_and_the_json_lists_all_five_services_and_the_gateway(stack):
    result = status("--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["healthy"] is True and body["gateway"]["status"] == "healthy"
    assert [s["name"] for s in body["services"]] == ["identity", "invoicing", "signing", "notifications", "support"]
    assert all(s["status"] == "healthy" and s["metrics"]["total_lag"] == 0 for s in body["services"])


def test_dead_letters_a_stale_outbox_and_lag_are_shown_but_do_not_make_the_stack_unhealthy(stack):
    stack.metrics["signing"] = METRICS

    as_json = json.loads(status("--json").stdout)
    text = status()

    signing = next(s for s in as_json["services"] if s["name"] == "signing")
    assert signing["metrics"]["total_dlq"] == 2 and signing["metrics"]["total_lag"] == 7
    assert "signing: invoicing.invoice-issued.v1.dlq holds 2 dead-lettered record(s)" in as_json["warnings"]
    assert any("oldest 76 s old" in w for w in as_json["warnings"])
    assert text.exit_code == 0
    assert "7 record(s) behind on invoicing.invoice-issued.v1" in text.stdout


def test_a_service_that_is_not_ready_exits_1_and_names_what_is_down(stack):
    stack.not_ready.add("invoicing")

    result = status()

    assert result.exit_code == 1
    assert "kafka down" in result.stdout and "not healthy: invoicing unhealthy" in result.stdout


def test_a_silent_gateway_is_unhealthy_unless_it_is_left_out(stack):
    stack.silent.add("gateway")

    assert status().exit_code == 1
    assert status("--no-gateway").exit_code == 0


def test_nothing_answering_exits_3(stack):
    stack.silent.update({"gateway", *stack.urls})

    result = status("--json")

    assert result.exit_code == 3
    assert all(s["status"] == "unreachable" for s in json.loads(result.stdout)["services"])


def test_the_table_names_every_part_with_its_full_address(stack):
    result = status("--service-url", "support=http://127.0.0.1:8005")

    assert result.exit_code == 0
    for part in ("gateway", "identity", "invoicing", "signing", "notifications", "support", "http://127.0.0.1:8004"):
        assert part in result.stdout
    assert "all healthy" in result.stdout
