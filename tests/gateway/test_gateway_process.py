"""The gateway's nginx as a child process: started, restarted by `make up`'s watcher, reaped from the state file."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx
import pytest

from devstack.config import SERVICES, repo_root
from devstack.gateway import GatewaySettings, LocalGateway, gateway_dir, nginx_binary
from devstack.procs import pid_alive
from devstack.pytest_gateway import free_port
from devstack.runner import StackRun
from devstack.state import StateFile, stop_recorded

pytestmark = pytest.mark.integration


def _gateway(tmp_path) -> LocalGateway:
    binary = nginx_binary()
    assert binary, "nginx is not installed (apt-get install nginx)"
    # Nothing listens on the service ports: the gateway itself still starts and answers.
    ports = {s: free_port() for s in SERVICES}
    return LocalGateway(
        binary=binary,
        settings=GatewaySettings(port=free_port(), service_ports=ports),
        home=tmp_path / "gateway",
        source_dir=gateway_dir(repo_root()),
        log_path=tmp_path / "logs" / "gateway.log",
    )


async def test_a_gateway_whose_services_are_down_answers_json_502s_and_stops_cleanly(tmp_path):
    gateway = _gateway(tmp_path)
    await gateway.start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{gateway.url}/api/invoicing/invoices")
        assert answer.status_code == 502 and answer.json()["service"] == "invoicing"
    finally:
        await gateway.stop()
    assert gateway.process.returncode is not None
    assert gateway.process.pid is not None and not pid_alive(gateway.process.pid)


async def test_the_stack_restarts_a_gateway_that_died(tmp_path, monkeypatch):
    monkeypatch.setenv("FACTORA_STATE_DIR", str(tmp_path / "state"))
    run = StackRun(with_services=True)
    run.gateway = _gateway(tmp_path)
    await run.gateway.start()
    first_pid = run.gateway.process.pid
    stop = asyncio.Event()
    watcher = asyncio.create_task(run._watch_gateway(stop, interval=0.1))
    try:
        os.killpg(first_pid, signal.SIGKILL)  # a crash: master and workers gone at once
        for _ in range(300):
            if run.gateway.process.pid != first_pid and run.gateway.process.running:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the gateway was not restarted within 30 s")
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(100):
                try:
                    if (await client.get(f"{run.gateway.url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the restarted gateway never answered /healthz")
        recorded = StateFile(run.state_dir).live_children()
        assert recorded["gateway"] == run.gateway.process.pid != first_pid
    finally:
        stop.set()
        await watcher
        await run.gateway.stop()


async def test_a_gateway_left_behind_by_a_killed_session_is_stopped_from_the_state_file(tmp_path):
    gateway = _gateway(tmp_path)
    await gateway.start()
    state = StateFile(tmp_path)
    state.begin("pytest")
    state.record("gateway", gateway.process.pid, str(gateway.config_path))
    # As if the session that wrote it was killed: no live owner, one recorded child.
    data = state.read()
    data.pop("owner_pid")
    state.write(data)
    try:
        report = await asyncio.to_thread(stop_recorded, state, 0, 10)
        assert any(line.startswith("gateway") for line in report), report
        await gateway.process.wait(10)
        assert gateway.process.returncode is not None
    finally:
        await gateway.stop()
