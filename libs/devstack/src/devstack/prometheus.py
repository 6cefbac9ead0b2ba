"""A local Prometheus for `factora-stack up`, when the machine has one (Debian: `apt-get install prometheus`).

It runs the scrape configuration and alert rules of deploy/observability, pointed at the ports
the stack really uses, and keeps its data under the stack's state folder.
"""

# ruff: noqa: ASYNC109 - our timeouts are polling deadlines, which asyncio.timeout() cannot express.

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from devstack.config import LOCALHOST, SERVICES, PortSpec
from devstack.errors import StackError
from devstack.procs import ManagedProcess, last_line

DEFAULT_PORT = 19090
# The targets deploy/observability/prometheus.yml lists (the services' default ports and
# Prometheus's own); render_config points them at the stack's actual ports.
_DEFAULT_SERVICE_PORTS = dict(zip(SERVICES, range(8001, 8006), strict=True))
_DEFAULT_SELF = f"{LOCALHOST}:9090"


def observability_dir(root: Path) -> Path:
    """deploy/observability of the repository (FACTORA_OBSERVABILITY_DIR overrides it)."""
    if explicit := os.environ.get("FACTORA_OBSERVABILITY_DIR"):
        return Path(explicit).resolve()
    return root / "deploy" / "observability"


def prometheus_binary(env: Mapping[str, str] | None = None) -> str | None:
    """The prometheus executable (FACTORA_PROMETHEUS_BIN, else on PATH); None when there is none."""
    env = os.environ if env is None else env
    if explicit := env.get("FACTORA_PROMETHEUS_BIN", "").strip():
        return explicit if Path(explicit).is_file() else None
    return shutil.which("prometheus")


def prometheus_port(env: Mapping[str, str] | None = None) -> PortSpec:
    """The port it listens on: FACTORA_PROMETHEUS_PORT or 19090 (a system Prometheus may own 9090)."""
    env = os.environ if env is None else env
    raw = env.get("FACTORA_PROMETHEUS_PORT", "").strip()
    try:
        port = int(raw) if raw else DEFAULT_PORT
    except ValueError:
        raise StackError(f"FACTORA_PROMETHEUS_PORT={raw!r} is not a port number") from None
    return PortSpec("Prometheus", port, "FACTORA_PROMETHEUS_PORT")


def render_config(source: str, service_ports: Mapping[str, int], self_port: int) -> str:
    """deploy/observability/prometheus.yml with its targets moved to the given ports."""
    rendered = source
    for service, default in _DEFAULT_SERVICE_PORTS.items():
        target = f'"{LOCALHOST}:{default}"'
        if target not in source:
            raise StackError(f"prometheus.yml no longer lists the target {target} of {service}; update devstack")
        rendered = rendered.replace(target, f'"{LOCALHOST}:{service_ports[service]}"')
    if f'"{_DEFAULT_SELF}"' not in source:
        raise StackError(f"prometheus.yml no longer lists its own target {_DEFAULT_SELF}; update devstack")
    return rendered.replace(f'"{_DEFAULT_SELF}"', f'"{LOCALHOST}:{self_port}"')


class LocalPrometheus:
    """Prometheus as a child process, with a config rendered into <state>/prometheus."""

    def __init__(
        self,
        *,
        binary: str,
        source_dir: Path,
        state_dir: Path,
        port: int,
        service_ports: Mapping[str, int],
        log_path: Path,
    ) -> None:
        self.binary = binary
        self.source_dir = source_dir
        self.home = state_dir / "prometheus"
        self.port = port
        self.service_ports = dict(service_ports)
        self.config_path = self.home / "prometheus.yml"
        self.process = ManagedProcess(
            "prometheus",
            [
                binary,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.home / 'data'}",
                "--storage.tsdb.retention.time=7d",
                f"--web.listen-address={LOCALHOST}:{port}",
            ],
            log_path=log_path,
        )

    @property
    def url(self) -> str:
        """Its web UI and API."""
        return f"http://{LOCALHOST}:{self.port}"

    def write_config(self) -> Path:
        """Render prometheus.yml and copy the rule files next to it (its rule_files paths are relative)."""
        source = self.source_dir / "prometheus.yml"
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise StackError(f"cannot read {source}: {exc}") from None
        self.home.mkdir(parents=True, exist_ok=True)
        rules = self.home / "rules"
        shutil.rmtree(rules, ignore_errors=True)
        shutil.copytree(self.source_dir / "rules", rules)
        self.config_path.write_text(render_config(text, self.service_ports, self.port), encoding="utf-8")
        return self.config_path

    async def start(self, timeout: float = 30.0) -> None:
        """Start and wait for /-/ready; StackError with its last log line otherwise."""
        from devstack.services import http_ready

        self.write_config()
        self.process.start()
        deadline = time.monotonic() + timeout
        while not await http_ready(f"{self.url}/-/ready"):
            if self.process.returncode is not None:
                raise StackError(
                    f"Prometheus exited with code {self.process.returncode}: {last_line(self.process.log_path)}"
                )
            if time.monotonic() >= deadline:
                raise StackError(f"Prometheus not ready after {timeout:.0f} s: {last_line(self.process.log_path)}")
            await asyncio.sleep(0.2)

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (Prometheus flushes its head block), SIGKILL after timeout."""
        await self.process.stop(timeout=timeout)
