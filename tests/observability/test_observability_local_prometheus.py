"""`make up`'s local Prometheus (devstack): its rendered configuration, and a real one scraping the network."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time

import httpx
import pytest

from devstack.config import SERVICES
from devstack.errors import StackError
from devstack.prometheus import LocalPrometheus, prometheus_binary, render_config

PORTS = {s: 41001 + n for n, s in enumerate(SERVICES)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.unit
def test_the_rendered_configuration_scrapes_the_stack_ports_and_passes_promtool(observability_dir, promtool, tmp_path):
    local = LocalPrometheus(
        binary="prometheus",
        source_dir=observability_dir,
        state_dir=tmp_path,
        port=41090,
        service_ports=PORTS,
        log_path=tmp_path / "prometheus.log",
    )
    config = local.write_config()
    text = config.read_text()
    for port in (*PORTS.values(), 41090):
        assert f'"127.0.0.1:{port}"' in text
    assert '"127.0.0.1:8001"' not in text and '"127.0.0.1:9090"' not in text
    assert (config.parent / "rules" / "factora-alerts.yml").exists()
    done = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.unit
def test_rendering_refuses_a_configuration_that_no_longer_lists_a_service_target():
    with pytest.raises(StackError, match='8002" of invoicing'):
        render_config('targets: ["127.0.0.1:8001"]', PORTS, 41090)


@pytest.mark.e2e
@pytest.mark.slow
async def test_a_local_prometheus_scrapes_all_five_services_and_loads_the_alerts(
    running_network, observability_dir, test_stack_dir
):
    binary = prometheus_binary()
    if binary is None:
        pytest.skip("prometheus is not installed (Debian: apt-get install prometheus)")
    local = LocalPrometheus(
        binary=binary,
        source_dir=observability_dir,
        state_dir=test_stack_dir / "observability-test",
        port=free_port(),
        service_ports=running_network.ports,
        log_path=test_stack_dir / "logs" / "prometheus.log",
    )
    await local.start()
    try:
        async with httpx.AsyncClient(base_url=local.url, timeout=10) as api:
            deadline = time.monotonic() + 45  # first scrapes land within one 15 s interval (plus jitter)
            while True:
                targets = (await api.get("/api/v1/targets")).json()["data"]["activeTargets"]
                health = {t["labels"].get("service"): t["health"] for t in targets if t["labels"]["job"] == "factora"}
                if health == dict.fromkeys(SERVICES, "up"):
                    break
                assert time.monotonic() < deadline, f"targets not all up: {health}"
                await asyncio.sleep(1)
            groups = (await api.get("/api/v1/rules")).json()["data"]["groups"]
            alerts = {rule["name"] for group in groups for rule in group["rules"]}
            assert {"FactoraServiceDown", "FactoraOutboxStuck", "FactoraConsumerLagGrowing"} <= alerts
            series = (await api.get("/api/v1/series", params={"match[]": "factora_outbox_backlog"})).json()["data"]
            assert {s["service"] for s in series} == set(SERVICES)
    finally:
        await local.stop()
