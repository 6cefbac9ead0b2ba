"""pytest fixture `gateway`: the nginx API gateway in front of the session's `running_network`.

Enable with "devstack.pytest_gateway" in the repo-root conftest.py's pytest_plugins. Journey tests
call the services only through it: `gateway.api("identity") + "/login"`.
"""

from __future__ import annotations

import atexit
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.config import LOCALHOST, SERVICES, repo_root
from devstack.errors import StackError
from devstack.gateway import GatewaySettings, LocalGateway, gateway_dir, nginx_binary
from devstack.pytest_plugin import _REAL_SERVERS, RunningNetwork, StackLayout, run_blocking
from devstack.state import StateFile


@dataclass(frozen=True)
class GatewayHandle:
    """The running gateway: its base URL and logs."""

    url: str
    port: int
    log_path: Path
    access_log_path: Path
    config_path: Path

    def api(self, service: str) -> str:
        """Base URL of one service through the gateway, e.g. http://127.0.0.1:28080/api/identity."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
        return f"{self.url}/api/{service}"


def free_port() -> int:
    """A port nobody listens on right now (for a private stack or a second gateway)."""
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def start_gateway(
    *,
    name: str,
    stack_dir: Path,
    port: int,
    service_ports: Mapping[str, int],
    overrides: Mapping[str, str] | None = None,
) -> LocalGateway:
    """Start one nginx for these service ports, recorded in the stack's state file; StackError on failure.

    `overrides` are FACTORA_GATEWAY_* / FACTORA_PORTAL_ORIGIN values laid over the environment's
    (a test that needs a tight rate limit starts its own instance with them).
    """
    binary = nginx_binary()
    if binary is None:
        raise StackError("nginx is not installed (apt-get install nginx, or set FACTORA_NGINX_BIN)")
    settings = GatewaySettings.from_env(port, service_ports, {**os.environ, **(overrides or {})})
    gateway = LocalGateway(
        binary=binary,
        settings=settings,
        home=stack_dir / name,
        source_dir=gateway_dir(repo_root()),
        log_path=stack_dir / "logs" / f"{name}.log",
    )
    atexit.register(gateway.stop_sync)
    try:
        run_blocking(gateway.start())
    except BaseException:
        run_blocking(gateway.stop())
        raise
    # A crashed session's nginx is stopped by the next session like every recorded child.
    StateFile(stack_dir).record(name, gateway.process.pid, str(gateway.config_path))
    return gateway


def stop_gateway(gateway: LocalGateway, stack_dir: Path, name: str) -> None:
    """Stop it and forget it in the state file."""
    run_blocking(gateway.stop())
    StateFile(stack_dir).record(name, None, "")


@pytest.fixture(scope="session")
def gateway(
    running_network: RunningNetwork, test_stack_dir: Path, devstack_layout: StackLayout
) -> Iterator[GatewayHandle]:
    """nginx on FACTORA_TEST_GATEWAY_PORT (28080) routing /api/<service>/… to the running network."""
    # A private stack (another session holds the shared folder) must not collide on the shared port.
    port = free_port() if devstack_layout.private else devstack_layout.ports.gateway.port
    try:
        instance = start_gateway(
            name="gateway", stack_dir=test_stack_dir, port=port, service_ports=running_network.ports
        )
    except StackError as exc:
        pytest.fail(str(exc), pytrace=False)
    _REAL_SERVERS.append(f"API gateway (nginx) pid {instance.process.pid} on {instance.url}")
    yield GatewayHandle(
        url=instance.url,
        port=instance.port,
        log_path=instance.log_path,
        access_log_path=instance.access_log_path,
        config_path=instance.config_path,
    )
    stop_gateway(instance, test_stack_dir, "gateway")
