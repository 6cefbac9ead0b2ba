"""The real local stack for the load benchmark: Postgres, Kafka, an SMTP catcher process and the five services."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack.config import LOCALHOST, SERVICES, Ports, kafka_home, repo_root
from devstack.kafka import KafkaBroker
from devstack.pg_admin import host_port, provision_services
from devstack.ports import ensure_port_free
from devstack.postgres import PostgresCluster
from devstack.procs import ManagedProcess
from devstack.pytest_plugin import KafkaHandle, PostgresServer, RunningNetwork, start_network
from devstack.services import default_command
from devstack.smtp_catcher import SmtpCatcher
from devstack.topics import ensure_topics


@dataclass
class BenchStack:
    """Everything the benchmark starts, in a folder of its own (wiped at start) and on the given ports."""

    directory: Path
    ports: Ports
    service_env: Mapping[str, str] = field(default_factory=dict)
    durable_postgres: bool = True
    command: Callable[[str], list[str]] = default_command
    postgres: PostgresCluster | None = None
    kafka: KafkaBroker | None = None
    catcher: ManagedProcess | None = None
    network: RunningNetwork | None = None
    database_urls: dict[str, str] = field(default_factory=dict)

    @property
    def mail_dir(self) -> Path:
        return self.directory / "mail"

    @property
    def bootstrap(self) -> str:
        assert self.kafka is not None
        return self.kafka.bootstrap

    async def start(self, say=print) -> None:  # type: ignore[no-untyped-def]
        """Infrastructure first (in parallel), then the services, which must all answer /health/ready."""
        # A service left over from an interrupted run would answer the readiness checks instead of ours.
        for name in SERVICES:
            ensure_port_free(self.ports.services[name])
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True)
        logs = self.directory / "logs"
        self.postgres = PostgresCluster(
            root_dir=self.directory / "pg",
            port=self.ports.postgres,
            log_path=logs / "postgres.log",
            durable=self.durable_postgres,
        )
        self.kafka = KafkaBroker(
            home=kafka_home(repo_root()),
            data_dir=self.directory / "kafka",
            port=self.ports.kafka,
            controller_port=self.ports.kafka_controller,
            log_path=logs / "kafka.log",
        )
        # The catcher is a process of its own, so its CPU is measured apart from the load generator's.
        self.catcher = ManagedProcess(
            "smtp-catcher",
            [
                sys.executable,
                "-m",
                "devstack.smtp_catcher",
                "--port",
                str(self.ports.smtp.port),
                "--dir",
                self.mail_dir,
            ],
            log_path=logs / "smtp-catcher.log",
        )
        self.catcher.start()
        say("starting PostgreSQL and Kafka")
        await asyncio.gather(self.postgres.start(), self.kafka.start())
        self.database_urls = await provision_services(self.postgres.admin_url, SERVICES, lock_maintenance_db=True)
        await ensure_topics(self.kafka.bootstrap)
        host, port = host_port(self.postgres.admin_url)
        server = PostgresServer(
            admin_url=self.postgres.admin_url, host=host, port=port, external=False, service_urls=self.database_urls
        )
        smtp = SmtpCatcher(port=self.ports.smtp, mail_dir=self.mail_dir)  # only its address is used
        say("starting the five services")
        self.network = await asyncio.to_thread(
            start_network,
            stack_dir=self.directory,
            postgres=server,
            kafka=KafkaHandle(bootstrap=self.kafka.bootstrap, external=False),
            smtp=smtp,
            ports={s: self.ports.service(s) for s in SERVICES},
            extra_env=dict(self.service_env),
            command=self.command,
        )

    def pids(self) -> dict[str, int]:
        """Main pid of every part (children such as Postgres backends and sealing workers are found from these)."""
        found: dict[str, int] = {}
        if self.network is not None:
            for name, svc in self.network.supervisor.services.items():
                if svc.process.pid:
                    found[name] = svc.process.pid
        for label, proc in (
            ("kafka", self.kafka.process if self.kafka else None),
            ("postgres", self.postgres.process if self.postgres else None),
            ("smtp-catcher", self.catcher),
        ):
            if proc is not None and proc.pid:
                found[label] = proc.pid
        return found

    def database_url(self, service: str) -> str:
        """A plain postgresql:// DSN of a service's database (for asyncpg)."""
        return self.database_urls[service].replace("postgresql+asyncpg://", "postgresql://")

    async def stop(self) -> None:
        """Services first (they flush their outboxes), then catcher, Kafka and Postgres."""
        if self.network is not None:
            await self.network.supervisor.stop_all()
        if self.catcher is not None:
            await self.catcher.stop(signal.SIGTERM, 5.0)
        if self.kafka is not None:
            await self.kafka.stop(timeout=10)
        if self.postgres is not None:
            await self.postgres.stop(timeout=10)


def service_url(stack: BenchStack, name: str) -> str:
    return f"http://{LOCALHOST}:{stack.ports.service(name)}"
