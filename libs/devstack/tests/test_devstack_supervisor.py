"""Services as supervised children: env, readiness, restart after a crash, failure with log tail."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from devstack.pytest_plugin import start_network
from devstack.services import ServiceFailedError, ServiceSupervisor

pytestmark = pytest.mark.integration


@pytest.fixture
def fake_ports(free_port):
    return {s: free_port() for s in ("identity", "invoicing", "signing", "notifications", "support")}


def test_services_start_with_the_stack_env_and_stop_at_the_end(
    tmp_path, fake_service_command, fake_ports, postgres_server, kafka_broker, smtp_catcher
):
    network = start_network(
        stack_dir=tmp_path,
        postgres=postgres_server,
        kafka=kafka_broker,
        smtp=smtp_catcher,
        command=fake_service_command,
        ports=fake_ports,
        ready_timeout=30,
    )
    try:
        env = httpx.get(network.service_url("invoicing") + "/env", timeout=5).json()
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == kafka_broker.bootstrap
        assert env["INVOICING_DATABASE_URL"] == postgres_server.database_url("invoicing")
        assert env["SIGNING_DATABASE_URL"] == network.database_url("signing")
        assert env["INVOICING_HTTP_PORT"] == str(fake_ports["invoicing"])
        assert (env["SMTP_HOST"], env["SMTP_PORT"]) == ("127.0.0.1", str(smtp_catcher.port))
        assert env["FACTORA_STATE_DIR"] == str(network.state_dir.resolve())
        assert env["IDENTITY_JWKS_URL"] == f"http://127.0.0.1:{fake_ports['identity']}/.well-known/jwks.json"
        assert env["SIGNING_BASE_URL"] == f"http://127.0.0.1:{fake_ports['signing']}"
        assert "PATH" in env
        assert network.env == {k: v for k, v in network.env.items()}
        assert "listening" in network.log_path("support").read_text()
        pids = [s.process.pid for s in network.supervisor.services.values()]
    finally:
        network.stop()
    assert all(not s.process.running for s in network.supervisor.services.values())
    assert len(set(pids)) == 5


def test_a_service_that_exits_fails_fast_with_the_tail_of_its_log(
    tmp_path, fake_service_command, fake_ports, postgres_server, kafka_broker, smtp_catcher, monkeypatch
):
    monkeypatch.setenv("FAKE_FAIL", "1")
    with pytest.raises(ServiceFailedError) as err:
        start_network(
            stack_dir=tmp_path,
            postgres=postgres_server,
            kafka=kafka_broker,
            smtp=smtp_catcher,
            command=fake_service_command,
            ports=fake_ports,
            names=["notifications"],
            ready_timeout=30,
        )
    message = str(err.value)
    assert "service notifications exited with code 3" in message
    assert "boom: cannot reach the database" in message


async def test_a_crashed_service_is_restarted_and_the_crash_is_logged(tmp_path, fake_service_command, fake_ports):
    said: list[str] = []
    supervisor = ServiceSupervisor(
        env={"FAKE_CRASH_ONCE_DIR": str(tmp_path), "SUPPORT_HTTP_PORT": str(fake_ports["support"]), "PATH": "/usr/bin"},
        ports=fake_ports,
        log_dir=tmp_path / "logs",
        names=["support"],
        command=fake_service_command,
        restart=True,
        say=said.append,
    )
    supervisor.start_all()
    try:
        await supervisor.wait_ready(30)
    finally:
        await supervisor.stop_all()
    assert any("service support exited with code 7; restarting" in line for line in said), said
    assert supervisor.services["support"].restarts == 1
    log = (tmp_path / "logs" / "support.log").read_text()
    assert "crashing on purpose" in log and "fake support listening" in log


async def test_supervise_returns_when_asked_to_stop(tmp_path, fake_service_command, fake_ports):
    supervisor = ServiceSupervisor(
        env={"IDENTITY_HTTP_PORT": str(fake_ports["identity"]), "PATH": "/usr/bin"},
        ports=fake_ports,
        log_dir=tmp_path,
        names=["identity"],
        command=fake_service_command,
        say=lambda _: None,
    )
    supervisor.start_all()
    stop = asyncio.Event()
    watcher = asyncio.create_task(supervisor.supervise(stop))
    await supervisor.wait_ready(30)
    stop.set()
    await asyncio.wait_for(watcher, 2)
    await supervisor.stop_all()
    assert supervisor.services["identity"].process.returncode is not None
