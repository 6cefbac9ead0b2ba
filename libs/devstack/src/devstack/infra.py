"""The infrastructure half of the stack: Kafka, PostgreSQL, SMTP catcher and topics, or external ones."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack.config import LOCALHOST, SERVICES, Ports
from devstack.kafka import KafkaBroker
from devstack.pg_admin import provision_services
from devstack.ports import ensure_port_free
from devstack.postgres import PostgresCluster
from devstack.smtp_catcher import SmtpCatcher
from devstack.state import StateFile
from devstack.topics import ensure_topics


def _first_error(exc: BaseException) -> BaseException:
    # A TaskGroup wraps failures in ExceptionGroups; the developer needs the first real one.
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


@dataclass
class Infra:
    """What `factora-stack infra` runs; each part is skipped when the env names an external one."""

    state_dir: Path
    kafka_home: Path
    ports: Ports
    env: Mapping[str, str]
    durable: bool = True
    state: StateFile | None = None
    say: Callable[[str], None] = print
    kafka: KafkaBroker | None = None
    postgres: PostgresCluster | None = None
    smtp: SmtpCatcher | None = None
    bootstrap: str = ""
    database_urls: dict[str, str] = field(default_factory=dict)
    smtp_address: tuple[str, int] | None = None
    external_databases: set[str] = field(default_factory=set)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        logs = self.state_dir / "logs"
        external_kafka = self.env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
        if external_kafka:
            self.bootstrap = external_kafka
        else:
            self.kafka = KafkaBroker(
                home=self.kafka_home,
                data_dir=self.state_dir / "kafka",
                port=self.ports.kafka,
                controller_port=self.ports.kafka_controller,
                log_path=logs / "kafka.log",
            )
            self.bootstrap = self.kafka.bootstrap
        self.database_urls = {
            s: url for s in SERVICES if (url := self.env.get(f"{s.upper()}_DATABASE_URL", "").strip())
        }
        self.external_databases = set(self.database_urls)
        if len(self.database_urls) < len(SERVICES):
            self.postgres = PostgresCluster(
                root_dir=self.state_dir / "pg",
                port=self.ports.postgres,
                log_path=logs / "postgres.log",
                durable=self.durable,
            )
        if self.env.get("SMTP_HOST", "").strip():
            self.smtp_address = None
        else:
            self.smtp = SmtpCatcher(port=self.ports.smtp, mail_dir=self.state_dir / "mail")
            self.smtp_address = (LOCALHOST, self.ports.smtp.port)

    @property
    def mail_dir(self) -> Path | None:
        """Where caught e-mails land (None with an external SMTP server)."""
        return self.smtp.mail_dir if self.smtp else None

    def preflight(self) -> None:
        """Check every port we will listen on before starting anything."""
        if self.kafka:
            ensure_port_free(self.ports.kafka)
            ensure_port_free(self.ports.kafka_controller)
        if self.postgres:
            ensure_port_free(self.ports.postgres)
        if self.smtp:
            ensure_port_free(self.ports.smtp)

    async def _timed(self, label: str, coro) -> None:
        started = time.monotonic()
        await coro
        self.timings[label] = time.monotonic() - started

    async def _start_kafka(self) -> None:
        if self.kafka is None:
            return
        await self._timed("kafka", self.kafka.start())
        if self.state and self.kafka.process:
            self.state.record("kafka", self.kafka.process.pid, str(self.kafka.properties_path))

    async def _start_postgres(self) -> None:
        if self.postgres is None:
            return
        await self._timed("postgres", self.postgres.start())
        if self.state and self.postgres.process:
            self.state.record("postgres", self.postgres.process.pid, str(self.postgres.data_dir))
        missing = [s for s in SERVICES if s not in self.database_urls]
        urls = await provision_services(self.postgres.admin_url, missing, lock_maintenance_db=True)
        self.database_urls.update(urls)

    async def _start_smtp(self) -> None:
        if self.smtp is not None:
            await asyncio.to_thread(self.smtp.start)

    async def start(self) -> None:
        """Start the local parts side by side, then create the catalogue topics."""
        self.preflight()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._start_kafka())
                group.create_task(self._start_postgres())
                group.create_task(self._start_smtp())
        except BaseExceptionGroup as eg:
            raise _first_error(eg) from None
        started = time.monotonic()
        created = await ensure_topics(self.bootstrap)
        self.timings["topics"] = time.monotonic() - started
        if created:
            self.say(f"created {len(created)} Kafka topics on {self.bootstrap}")

    async def stop(self) -> None:
        """Stop in reverse dependency order: SMTP, PostgreSQL, Kafka."""
        if self.smtp is not None:
            await asyncio.to_thread(self.smtp.stop)
        if self.postgres is not None:
            await self.postgres.stop()
        if self.kafka is not None:
            await self.kafka.stop()

    def summary(self) -> list[str]:
        """Human lines: where each part is."""
        kafka_note = "" if self.kafka else " (external)"
        lines = [f"  Kafka bootstrap   {self.bootstrap}{kafka_note}"]
        if self.postgres:
            port = self.ports.postgres.port
            lines.append(f"  PostgreSQL        postgresql+asyncpg://<svc>:<svc>@{LOCALHOST}:{port}/<svc>")
            lines.append(f"  PostgreSQL admin  {self.postgres.admin_url}")
        for s in sorted(self.external_databases):
            shown = re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", self.database_urls[s])
            lines.append(f"  {s} database     {shown} (external)")
        if self.smtp:
            lines.append(f"  SMTP catcher      {LOCALHOST}:{self.smtp.port}  mail folder {self.smtp.mail_dir}")
        else:
            lines.append(
                f"  SMTP              {self.env.get('SMTP_HOST')}:{self.env.get('SMTP_PORT', '(default)')} (external)"
            )
        return lines
