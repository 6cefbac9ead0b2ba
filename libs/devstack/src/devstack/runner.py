"""`factora-stack up` and `infra`: start everything in the foreground, supervise, stop on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from devstack.config import LOCALHOST, SERVICES, Ports, dev_ports, kafka_home, repo_root, state_dir
from devstack.errors import StackError
from devstack.gateway import GatewaySettings, LocalGateway, gateway_dir, nginx_binary
from devstack.infra import Infra
from devstack.ports import ensure_port_free
from devstack.prometheus import LocalPrometheus, observability_dir, prometheus_binary, prometheus_port
from devstack.services import MAX_BACKOFF, STABLE_AFTER, ServiceFailedError, ServiceSupervisor, service_env
from devstack.state import StateFile


def say(message: str) -> None:
    """Progress line on stdout, time-stamped, flushed (output may be piped to a file)."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


@dataclass
class StackRun:
    """One foreground run: the infra, the services and how to stop them."""

    with_services: bool
    skip: tuple[str, ...] = ()
    ready_timeout: float = 180.0
    root: Path = field(default_factory=repo_root)
    ports: Ports = field(default_factory=dev_ports)
    infra: Infra | None = None
    supervisor: ServiceSupervisor | None = None
    prometheus: LocalPrometheus | None = None
    prometheus_note: str = ""
    gateway: LocalGateway | None = None
    gateway_note: str = ""
    gateway_seconds: float | None = None
    started: float = field(default_factory=time.monotonic)
    began: bool = False

    def __post_init__(self) -> None:
        self.state_dir = state_dir(self.root)
        self.state = StateFile(self.state_dir)
        self.names = [s for s in SERVICES if s not in self.skip] if self.with_services else []

    def check_not_running(self) -> None:
        """Refuse to start a second stack on the same state folder."""
        if pid := self.state.owner_alive():
            raise StackError(
                f"a stack is already running from {self.state_dir} (pid {pid}); "
                "stop it with `factora-stack down` or set FACTORA_STATE_DIR to another folder"
            )
        if leftovers := self.state.live_children():
            names = ", ".join(f"{k} (pid {p})" for k, p in leftovers.items())
            raise StackError(f"processes of a previous stack still run: {names}; run `factora-stack down` first")

    def prepare(self) -> None:
        """Checks that need nothing started: no other stack here, every port free."""
        self.check_not_running()
        self.infra = Infra(
            state_dir=self.state_dir,
            kafka_home=kafka_home(self.root),
            ports=self.ports,
            env=os.environ,
            durable=True,
            state=self.state,
            say=say,
        )
        self.infra.preflight()
        for name in self.names:
            ensure_port_free(self.ports.services[name])
        self._prepare_prometheus()
        self._prepare_gateway()
        self.state.begin("up" if self.with_services else "infra", {"state_dir": str(self.state_dir)})
        self.began = True

    def _prepare_prometheus(self) -> None:
        """A local Prometheus scraping the services, when one is installed and not switched off."""
        if not self.names:
            return
        if os.environ.get("FACTORA_PROMETHEUS", "").strip().lower() in ("0", "off", "false", "no"):
            self.prometheus_note = "off (FACTORA_PROMETHEUS)"
            return
        binary = prometheus_binary()
        if binary is None:
            self.prometheus_note = "not installed (apt-get install prometheus), so not started"
            return
        port = prometheus_port()
        ensure_port_free(port)
        self.prometheus = LocalPrometheus(
            binary=binary,
            source_dir=observability_dir(self.root),
            state_dir=self.state_dir,
            port=port.port,
            service_ports={s: self.ports.service(s) for s in SERVICES},
            log_path=self.state_dir / "logs" / "prometheus.log",
        )

    def _prepare_gateway(self) -> None:
        """nginx in front of the services on FACTORA_GATEWAY_PORT, when nginx is installed."""
        if not self.names:
            return
        binary = nginx_binary()
        if binary is None:
            self.gateway_note = "not started: nginx is not installed (apt-get install nginx)"
            return
        ensure_port_free(self.ports.gateway)
        self.gateway = LocalGateway(
            binary=binary,
            settings=GatewaySettings.from_env(self.ports.gateway.port, {s: self.ports.service(s) for s in SERVICES}),
            home=self.state_dir / "gateway",
            source_dir=gateway_dir(self.root),
            log_path=self.state_dir / "logs" / "gateway.log",
        )

    async def _start_gateway(self) -> None:
        if self.gateway is None:
            return
        started = time.monotonic()
        try:
            await self.gateway.start()
        except StackError as exc:
            # The services stay reachable on their own ports: say why and carry on without it.
            say(f"the API gateway did not start, running without it: {exc}")
            self.gateway_note = f"failed to start (see {self.gateway.log_path})"
            await self.gateway.stop()
            self.gateway = None
            return
        self.state.record("gateway", self.gateway.process.pid, str(self.gateway.config_path))
        self.gateway_seconds = time.monotonic() - started

    async def _watch_gateway(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Restart nginx when it dies, with the services' back-off (1 s, 2 s, … 30 s; reset after a minute up)."""
        restarts = 0
        while not stop.is_set():
            gateway = self.gateway
            if gateway is not None and (code := gateway.process.returncode) is not None:
                if time.monotonic() - gateway.process.started_at > STABLE_AFTER:
                    restarts = 0
                delay = min(MAX_BACKOFF, 2.0**restarts)
                restarts += 1
                say(f"the API gateway exited with code {code}; restarting in {delay:.0f} s (log {gateway.log_path})")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                if stop.is_set():
                    return
                try:
                    await gateway.start()
                except StackError as exc:
                    say(f"the API gateway did not come back: {exc}")
                self.state.record("gateway", gateway.process.pid, str(gateway.config_path))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def _start_prometheus(self) -> None:
        if self.prometheus is None:
            return
        try:
            await self.prometheus.start()
        except StackError as exc:
            # Metrics are a convenience locally: the network runs without them.
            say(f"Prometheus did not start, running without it: {exc}")
            self.prometheus_note = f"failed to start (see {self.prometheus.process.log_path})"
            await self.prometheus.stop()
            self.prometheus = None
            return
        self.state.record("prometheus", self.prometheus.process.pid, str(self.prometheus.config_path))

    async def start(self, stop: asyncio.Event) -> None:
        """Start infra then services, print the summary, supervise until stop is set."""
        assert self.infra is not None
        local = [
            label
            for label, part in (
                ("Kafka", self.infra.kafka),
                ("PostgreSQL", self.infra.postgres),
                ("SMTP catcher", self.infra.smtp),
            )
            if part is not None
        ]
        say(f"starting {', '.join(local)}" if local else "all infrastructure is external")
        await self.infra.start()
        infra_done = time.monotonic()
        if self.names:
            await self._start_services()
            await self._start_gateway()
            await self._start_prometheus()
        self._print_summary(infra_done)
        if self.supervisor:
            await asyncio.gather(self.supervisor.supervise(stop), self._watch_gateway(stop))
        else:
            await stop.wait()

    async def _start_services(self) -> None:
        assert self.infra is not None
        ports = {s: self.ports.service(s) for s in SERVICES}
        env = service_env(
            os.environ,
            ports=ports,
            bootstrap=self.infra.bootstrap,
            database_urls=self.infra.database_urls,
            smtp=self.infra.smtp_address,
            state_dir=self.state_dir,
        )
        self.supervisor = ServiceSupervisor(
            env=env,
            ports=ports,
            log_dir=self.state_dir / "logs",
            names=self.names,
            state=self.state,
            say=say,
            cwd=self.root,
        )
        say(f"starting services: {', '.join(self.names)} (logs in {self.state_dir / 'logs'})")
        self.supervisor.start_all()
        try:
            await self.supervisor.wait_ready(self.ready_timeout)
        except ServiceFailedError:
            waiting = self.supervisor.not_ready
            say(f"not ready after {self.ready_timeout:.0f} s: {', '.join(waiting)}; still supervising, see their logs")

    def _print_summary(self, infra_done: float) -> None:
        assert self.infra is not None
        total = time.monotonic() - self.started
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in self.infra.timings.items())
        if self.names:
            parts += f", services {time.monotonic() - infra_done:.1f} s"
            if self.gateway_seconds is not None:
                parts += f" of which the gateway {self.gateway_seconds:.1f} s"
        what = "Factora stack" if self.with_services else "Factora infrastructure"
        waiting = self.supervisor.not_ready if self.supervisor else []
        state = f"is running, NOT READY: {', '.join(waiting)}," if waiting else "is up"
        lines = [f"{what} {state} in {total:.1f} s ({parts})"]
        for name in self.names:
            url = f"http://{LOCALHOST}:{self.ports.service(name)}"
            note = "   (not ready yet: see its log)" if name in waiting else ""
            lines.append(f"  {name:<16}  API {url}   docs {url}/docs{note}")
        if self.gateway is not None:
            lines.append(
                f"  API gateway       {self.gateway.url}/api/<service>/…   docs {self.gateway.url}/docs   "
                f"OpenAPI {self.gateway.url}/openapi.json"
            )
        elif self.gateway_note:
            lines.append(f"  API gateway       {self.gateway_note}")
        lines += self.infra.summary()
        if self.prometheus is not None:
            lines.append(
                f"  Prometheus        {self.prometheus.url}   (scrapes the services every 15 s; alert rules "
                "from deploy/observability)"
            )
        elif self.prometheus_note:
            lines.append(f"  Prometheus        {self.prometheus_note}; metrics at <service API>/metrics")
        lines.append(f"  Logs              {self.state_dir / 'logs'}")
        lines.append("Ctrl-C stops everything (or `factora-stack down` from another shell).")
        print("\n".join(lines), flush=True)
        self.state.update(
            services={n: self.ports.service(n) for n in self.names},
            bootstrap=self.infra.bootstrap,
            smtp=list(self.infra.smtp_address) if self.infra.smtp_address else None,
            prometheus=self.prometheus.url if self.prometheus else None,
            gateway=self.gateway.url if self.gateway else None,
        )

    async def shutdown(self) -> None:
        """Gateway and Prometheus, then services (they flush outboxes), then SMTP, PostgreSQL, Kafka."""
        if self.gateway is not None:
            # First, so no new request reaches a service that is about to stop.
            await self.gateway.stop()
        if self.prometheus is not None:
            await self.prometheus.stop()
        if self.supervisor is not None:
            await self.supervisor.stop_all()
        if self.infra is not None:
            await self.infra.stop()
        if self.began:
            self.state.clear()


async def run(run: StackRun) -> int:
    """Run until SIGINT/SIGTERM or a startup error; always stop what was started."""
    run.prepare()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    first_signal: list[float] = []

    def on_signal(sig: signal.Signals) -> None:
        # `uv run` forwards the terminal's Ctrl-C, so one keypress arrives twice: stay quiet then.
        if first_signal and time.monotonic() - first_signal[0] > 1.0:
            say(f"{sig.name} again: still stopping (each part is killed after its timeout)")
        first_signal[:] = first_signal or [time.monotonic()]
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    work = asyncio.create_task(run.start(stop))
    waiter = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if work.done():
            work.result()
        else:
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
    finally:
        waiter.cancel()
        say("stopping")
        started = time.monotonic()
        await run.shutdown()
        say(f"stopped in {time.monotonic() - started:.1f} s")
    return 0
