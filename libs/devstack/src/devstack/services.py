"""The five Factora services as supervised child processes: env, start, restart, readiness."""

# ruff: noqa: ASYNC109 - our timeouts are polling deadlines and SIGTERM-to-SIGKILL grace
# periods, which asyncio.timeout() cannot express.

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devstack.config import LOCALHOST, SERVICES
from devstack.procs import ManagedProcess
from devstack.state import StateFile

READY_PATH = "/health/ready"
MAX_BACKOFF = 30.0
# A service that stayed up this long is healthy again: its next crash restarts at once.
STABLE_AFTER = 60.0


def service_env(
    base: Mapping[str, str],
    *,
    ports: Mapping[str, int],
    bootstrap: str,
    database_urls: Mapping[str, str],
    smtp: tuple[str, int] | None,
    state_dir: Path,
) -> dict[str, str]:
    """The environment every service gets: the parent's, overlaid with the stack's addresses."""
    env = dict(base)
    env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    for name, url in database_urls.items():
        env[f"{name.upper()}_DATABASE_URL"] = url
    for name, port in ports.items():
        env[f"{name.upper()}_HTTP_PORT"] = str(port)
    if smtp is not None:
        # With an external SMTP server (smtp is None) the SMTP_* of the parent pass through.
        env["SMTP_HOST"], env["SMTP_PORT"] = smtp[0], str(smtp[1])
    env["FACTORA_STATE_DIR"] = str(state_dir.resolve())
    env["IDENTITY_JWKS_URL"] = f"http://{LOCALHOST}:{ports['identity']}/.well-known/jwks.json"
    env["SIGNING_BASE_URL"] = f"http://{LOCALHOST}:{ports['signing']}"
    # The local sandbox accepts the unsigned sample partner (`factora-stack sample-invoice`) for
    # companies identity has not registered; services default to strict checks everywhere else.
    env.setdefault("INVOICING_REQUIRE_PARTNER_SIGNATURE", "false")
    env.setdefault("INVOICING_REQUIRE_CONNECTED_BUYER", "false")
    # Behind the local gateway every member signs up from 127.0.0.1, so identity's per-source
    # sign-up limit (10 per 15 minutes, meant for real networks) would stop `factora demo` reruns
    # and the journey tests; the per-account and login throttles stay as they are.
    env.setdefault("IDENTITY_THROTTLE__SIGNUPS_PER_SOURCE", "500")
    # Service logs land in files: flush each line so a crash leaves its last words there.
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def default_command(name: str) -> list[str]:
    """How a service is run: `python -m <name>` with this interpreter."""
    return [sys.executable, "-m", name]


@dataclass
class ServiceProcess:
    """One service, its port and its restart bookkeeping."""

    name: str
    port: int
    process: ManagedProcess
    restarts: int = 0
    next_start: float = 0.0
    exit_codes: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Base URL of its HTTP API."""
        return f"http://{LOCALHOST}:{self.port}"


async def http_ready(url: str, timeout: float = 1.0) -> bool:
    """True when GET url answers 200."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


class ServiceFailedError(RuntimeError):
    """A service exited or never became ready; the message carries its log tail."""


class ServiceSupervisor:
    """Starts services, restarts crashed ones with back-off, stops them in reverse order."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        ports: Mapping[str, int],
        log_dir: Path,
        names: Sequence[str] = SERVICES,
        command: Callable[[str], list[str]] = default_command,
        restart: bool = True,
        state: StateFile | None = None,
        say: Callable[[str], None] = print,
        cwd: Path | None = None,
    ) -> None:
        self.restart = restart
        self.state = state
        self.say = say
        self.services: dict[str, ServiceProcess] = {}
        self.not_ready: list[str] = []
        for name in names:
            argv = command(name)
            proc = ManagedProcess(name, argv, log_path=log_dir / f"{name}.log", env=env, cwd=cwd)
            self.services[name] = ServiceProcess(name, ports[name], proc)

    def _record(self, svc: ServiceProcess) -> None:
        if self.state is not None:
            self.state.record(f"service:{svc.name}", svc.process.pid, " ".join(svc.process.argv))

    def start_one(self, name: str) -> None:
        """Start one service now."""
        svc = self.services[name]
        svc.process.start()
        self._record(svc)

    def start_all(self) -> None:
        """Start every service (they become ready in any order)."""
        for name in self.services:
            self.start_one(name)

    def poll_crashes(self) -> None:
        """Restart crashed services once their back-off has passed (called in a loop)."""
        now = time.monotonic()
        for svc in self.services.values():
            proc = svc.process
            code = proc.returncode
            if code is None or not self.restart:
                continue
            if svc.next_start == 0.0:
                if now - proc.started_at > STABLE_AFTER:
                    svc.restarts = 0
                delay = min(MAX_BACKOFF, 2.0**svc.restarts) if svc.restarts else 0.5
                svc.exit_codes.append(code)
                svc.next_start = now + delay
                self.say(
                    f"service {svc.name} exited with code {code}; restarting in {delay:.1f} s "
                    f"(restart #{svc.restarts + 1}, log {proc.log_path})"
                )
            elif now >= svc.next_start:
                svc.next_start = 0.0
                svc.restarts += 1
                self.start_one(svc.name)

    async def supervise(self, stop: asyncio.Event, interval: float = 0.2) -> None:
        """Watch the services until stop is set."""
        while not stop.is_set():
            self.poll_crashes()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def wait_ready(self, timeout: float, names: Sequence[str] | None = None) -> None:
        """Return once every named service answers /health/ready with 200.

        Without restarts (tests), a service that exits fails at once, with its log tail.
        """
        pending = list(names or self.services)
        self.not_ready = pending
        deadline = time.monotonic() + timeout
        while pending:
            for name in list(pending):
                svc = self.services[name]
                if not self.restart and svc.process.returncode is not None:
                    raise ServiceFailedError(self._failure(svc, f"exited with code {svc.process.returncode}"))
                if await http_ready(svc.url + READY_PATH):
                    pending.remove(name)
            if not pending:
                return
            if time.monotonic() >= deadline:
                raise ServiceFailedError(
                    "\n".join(self._failure(self.services[n], f"not ready after {timeout:.0f} s") for n in pending)
                )
            if self.restart:
                self.poll_crashes()
            await asyncio.sleep(0.2)

    def _failure(self, svc: ServiceProcess, what: str) -> str:
        return (
            f"service {svc.name} {what} ({svc.url}{READY_PATH}); last lines of {svc.process.log_path}:\n"
            f"{svc.process.log_tail(30)}"
        )

    async def stop_one(self, name: str, timeout: float = 15.0) -> int | None:
        """SIGTERM one service (graceful: in-flight handlers finish), SIGKILL after timeout."""
        svc = self.services[name]
        svc.next_start = 0.0
        code = await svc.process.stop(signal.SIGTERM, timeout)
        if self.state is not None:
            self.state.record(f"service:{name}", None, "")
        return code

    async def stop_all(self, timeout: float = 15.0) -> None:
        """Stop every service at once (they are independent), each with its own deadline."""
        self.restart = False
        await asyncio.gather(*(self.stop_one(n, timeout) for n in self.services))
