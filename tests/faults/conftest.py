"""The fault suite's own stack (broker, PostgreSQL, SMTP catcher, five services) and its figures table.

The faults stop the broker and the database, so they run on a stack of their own, on free ports,
beside the session's: the other end-to-end tests never see a fault, whatever order pytest picks.
Every scenario ends with `FaultStack.heal()` in a finally block, so the next one starts healthy.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from devstack.config import SERVICES, kafka_home, ports_for_tests, repo_root
from devstack.errors import StackError
from devstack.kafka import KafkaBroker
from devstack.pg_admin import host_port, provision_services
from devstack.postgres import PostgresCluster
from devstack.pytest_plugin import (
    KafkaHandle,
    PostgresServer,
    RunningNetwork,
    StackLayout,
    _free_port_env,
    run_blocking,
    start_network,
)
from devstack.services import http_ready
from devstack.smtp_catcher import SmtpCatcher
from devstack.state import StateFile
from devstack.topics import ensure_topics
from factora_testing.flow import (
    EFFECT_TOPICS,
    Ledgers,
    MailCounter,
    Monitor,
    Outcomes,
    PartnerFlow,
    Publisher,
    Record,
    outbox_resends,
    read_topic,
    topic_end_offsets,
    wait_settled,
)

# The figure is 2,000 invoices per scenario (`make test-faults`); plain `make test` runs fewer.
DEFAULT_INVOICES = 100
FIGURES: list[dict[str, Any]] = []
SUBMITTED_TOPIC = "invoicing.partner-invoice-submitted.v1"
REJECTED_TOPIC = "invoicing.partner-invoice-rejected.v1"

FAULT_ENV = {
    # Production-strict intake: partner records must be signed (the forged-signature case needs it).
    "INVOICING_REQUIRE_PARTNER_SIGNATURE": "true",
    # Every flow has its own seller; credits must not be what stops it.
    "INVOICING_WELCOME_CREDITS": "100000000",
    # A row cut off mid-send turns 'unknown' after this long (production: 120 s); keeps waits short.
    "NOTIFICATIONS_STUCK_AFTER_S": "20",
    # No trace export: the CPU goes to the flow.
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_SDK_DISABLED": "true",
}


def invoice_count() -> int:
    """FACTORA_FAULT_INVOICES, or the reduced default."""
    return int(os.environ.get("FACTORA_FAULT_INVOICES", str(DEFAULT_INVOICES)))


@dataclass
class FaultStack:
    """Everything a fault can hit, with the means to hit it and to heal it."""

    directory: Path
    postgres: PostgresServer
    kafka: KafkaHandle
    smtp: SmtpCatcher
    network: RunningNetwork
    state: StateFile

    @property
    def cluster(self) -> PostgresCluster:
        assert self.postgres.cluster is not None
        return self.postgres.cluster

    @property
    def broker(self) -> KafkaBroker:
        assert self.kafka.broker is not None
        return self.kafka.broker

    def ledgers(self) -> Ledgers:
        return Ledgers(
            invoicing=self.network.database_url("invoicing"),
            signing=self.network.database_url("signing"),
            notifications=self.network.database_url("notifications"),
            mail=MailCounter(self.smtp.mail_dir),
        )

    def metrics_urls(self) -> dict[str, str]:
        return {s: f"{self.network.service_url(s)}/metrics" for s in ("invoicing", "signing", "notifications")}

    async def stop_kafka(self) -> None:
        await self.broker.stop(timeout=20)

    async def start_kafka(self) -> None:
        await self.broker.start()
        assert self.broker.process is not None
        self.state.record("faults-kafka", self.broker.process.pid, str(self.broker.properties_path))

    async def stop_postgres(self) -> None:
        await self.cluster.stop(timeout=20)

    async def start_postgres(self) -> None:
        await self.cluster.start()
        assert self.cluster.process is not None
        self.state.record("faults-postgres", self.cluster.process.pid, str(self.cluster.data_dir))

    def smtp_up(self) -> bool:
        return self.smtp._controller is not None

    async def heal(self) -> None:
        """Broker, database and catcher up, every service (and no extra instance) running and ready."""
        if not (self.cluster.process and self.cluster.process.running):
            await self.start_postgres()
        if not (self.broker.process and self.broker.process.running):
            await self.start_kafka()
        if not self.smtp_up():
            self.smtp.start()
        for instance in list(self.network.extra_instances):
            await self.network.stop_extra_instance(instance)
        for name in SERVICES:
            if not self.network.supervisor.services[name].process.running:
                self.network.supervisor.start_one(name)
        await self.network.supervisor.wait_ready(self.network.ready_timeout)

    async def all_ready(self) -> bool:
        checks = [http_ready(f"{self.network.service_url(s)}/health/ready", 3.0) for s in SERVICES]
        return all(await asyncio.gather(*checks))


@dataclass
class Run:
    """One scenario's flow while it runs: what faults look at to time themselves."""

    stack: FaultStack
    flow: PartnerFlow
    monitor: Monitor
    publisher: Publisher
    count: int
    notes: dict[str, Any] = field(default_factory=dict)

    async def progressed(self, fraction: float, timeout_s: float = 300.0) -> None:
        """Wait until the flow's progress (issued + archived + final ledger rows) passed `fraction` of the end."""
        target = fraction * 3 * self.count
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.monitor.samples and self.monitor.samples[-1].progress >= target:
                return
            await asyncio.sleep(0.5)

    def in_flight(self) -> int:
        """Submissions published whose journey is not over yet (as last sampled): the work a fault can hit."""
        final = self.monitor.samples[-1].final if self.monitor.samples else 0
        return max(0, min(self.count, self.publisher.published) - final)

    async def published(self, fraction: float) -> None:
        """Wait until the partner published `fraction` of the good submissions."""
        while self.publisher.published < fraction * self.count and not self.publisher.done.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.2)


@dataclass
class Result:
    """What a scenario measured: the outcomes from the systems of record and the figures row."""

    flow: PartnerFlow
    outcome: Outcomes
    figures: dict[str, Any]
    dead_letters: list[tuple[dict[str, str], bytes]]
    rejections: list[tuple[dict[str, str], bytes]]


Fault = Callable[[Run], Awaitable[None]]


async def run_flow(
    stack: FaultStack,
    label: str,
    count: int,
    fault: Fault,
    *,
    per_second: float = 150.0,
    extra: Callable[[PartnerFlow], Awaitable[list[Record]]] | None = None,
    settle_quiet_s: float = 240.0,
) -> Result:
    """Publish `count` good submissions (plus the `extra` records, spread among them) while `fault` runs;
    count the outcomes.

    The fault always ends with the stack healed, even when it fails.
    """
    began = time.monotonic()
    ledgers = stack.ledgers()
    bootstrap = stack.kafka.bootstrap
    flow = PartnerFlow.new(label)
    await flow.register_key(bootstrap, ledgers.invoicing)
    dlq_topics = [f"{t}.dlq" for t in _catalogue_topics()]
    watched = [*EFFECT_TOPICS, *dlq_topics, REJECTED_TOPIC]
    before = await topic_end_offsets(bootstrap, watched)
    records = flow.records(count)
    flow.sent = [flow.external_id(i) for i in range(count)]
    extra_records = await extra(flow) if extra else []
    if extra_records:
        step = max(1, len(records) // (len(extra_records) + 1))
        for n, bad in enumerate(extra_records):
            records.insert(min(len(records), (n + 1) * step + n), bad)
    publisher = Publisher(bootstrap, SUBMITTED_TOPIC, per_second=per_second)
    monitor = Monitor(flow, ledgers, bootstrap, stack.metrics_urls())
    async with monitor:
        run = Run(stack, flow, monitor, publisher, count)
        print(f"[faults] {label}: {count} invoices (+{len(extra_records)} bad), seller {flow.seller_id}")
        publishing = asyncio.create_task(publisher.run(records))
        try:
            await fault(run)
        finally:
            await stack.heal()
        await publishing
        published_s = elapsed(began)
        outcome, settle_s = await wait_settled(flow, ledgers, quiet_s=settle_quiet_s)
        print(f"[faults] {label}: published in {published_s} s, settled after {settle_s:.1f} s more")
    resends = await outbox_resends(bootstrap, {flow.seller_id, flow.buyer_id}, before)
    dead_letters: list[tuple[dict[str, str], bytes]] = []
    for topic in dlq_topics:
        dead_letters += await read_topic(bootstrap, topic, before)
    rejections = [
        (h, v)
        for h, v in await read_topic(bootstrap, REJECTED_TOPIC, before)
        if h.get("factora_tenant") == flow.seller_id
    ]
    redeliveries = {
        "inbox_duplicates_skipped": monitor.counter("duplicates"),
        "outbox_resends": sum(resends.values()),
        "handler_retries": monitor.counter("retries"),
        "relay_failures": monitor.counter("relay_failures"),
        "partner_resends": publisher.resends,
    }
    figures: dict[str, Any] = {
        "sent": outcome.sent,
        "issued": outcome.issued,
        "archived": outcome.archived,
        "emails": outcome.emails,
        "unknown": outcome.ledger.get("unknown", 0),
        "failed": outcome.ledger.get("failed", 0),
        "lost": outcome.lost,
        "in_doubt": outcome.in_doubt,
        "dup_invoices": outcome.issued_duplicates,
        "issued_unexpected": outcome.issued_unexpected,
        "dup_archive": outcome.archive_duplicates,
        "dup_ledger": outcome.ledger_duplicates,
        "dup_emails": outcome.email_duplicates,
        "rejected_good": outcome.rejected_good,
        "dead_lettered": len(dead_letters),
        "redeliveries": sum(v for k, v in redeliveries.items() if k != "handler_retries"),
        "redelivery_detail": redeliveries,
        "outbox_resends_by_topic": resends,
        "recovery_s": round(monitor.recovery_s() or 0.0, 1),
        "stall_s": round(monitor.longest_stall_s(), 1),
        "pipeline_stall_s": round(monitor.longest_pipeline_stall_s(), 1),
        "settle_s": round(settle_s, 1),
        "duration_s": elapsed(began),
        **run.notes,
    }
    return Result(flow, outcome, figures, dead_letters, rejections)


def _catalogue_topics() -> list[str]:
    from contracts.catalogue import all_topic_names

    return [t for t in all_topic_names() if not t.endswith(".dlq")]


def _start_fault_stack(directory: Path, session_state: StateFile) -> FaultStack:
    ports = ports_for_tests(_free_port_env())
    layout = StackLayout(directory, ports, private=True)
    cluster = PostgresCluster(
        root_dir=directory / "pg", port=ports.postgres, log_path=directory / "logs" / "postgres.log", durable=False
    )
    broker = KafkaBroker(
        home=kafka_home(repo_root()),
        data_dir=directory / "kafka",
        port=ports.kafka,
        controller_port=ports.kafka_controller,
        log_path=directory / "logs" / "kafka.log",
    )
    smtp = SmtpCatcher(port=ports.smtp, mail_dir=directory / "mail")
    run_blocking(cluster.start())
    assert cluster.process is not None
    # Recorded in the session's state file: a session killed outright has them stopped by the next one.
    session_state.record("faults-postgres", cluster.process.pid, str(cluster.data_dir))
    atexit.register(lambda: cluster.process and cluster.process.stop_sync(signal.SIGINT, 10.0))
    run_blocking(broker.start())
    assert broker.process is not None
    session_state.record("faults-kafka", broker.process.pid, str(broker.properties_path))
    atexit.register(lambda: broker.process and broker.process.stop_sync(signal.SIGTERM, 10.0))
    run_blocking(ensure_topics(broker.bootstrap))
    smtp.start()
    urls = run_blocking(provision_services(cluster.admin_url, SERVICES, lock_maintenance_db=True))
    host, port = host_port(cluster.admin_url)
    postgres = PostgresServer(
        admin_url=cluster.admin_url, host=host, port=port, external=False, service_urls=urls, cluster=cluster
    )
    kafka = KafkaHandle(bootstrap=broker.bootstrap, external=False, broker=broker)
    network = start_network(
        stack_dir=layout.directory,
        postgres=postgres,
        kafka=kafka,
        smtp=smtp,
        ports={s: ports.service(s) for s in SERVICES},
        extra_env=FAULT_ENV,
    )
    return FaultStack(directory, postgres, kafka, smtp, network, session_state)


@pytest.fixture(scope="session")
def fault_stack(test_stack_dir: Path) -> Iterator[FaultStack]:
    """A whole stack for the fault suite, in <test stack>/faults on free ports."""
    try:
        stack = _start_fault_stack(test_stack_dir / "faults", StateFile(test_stack_dir))
    except StackError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield stack
    stack.network.stop()
    stack.smtp.stop()
    run_blocking(stack.broker.stop(timeout=10))
    run_blocking(stack.cluster.stop(timeout=10))


def record_figures(scenario: str, figures: dict[str, Any]) -> None:
    """Keep a scenario's figures for the table printed at the end, and print them now."""
    row = {"scenario": scenario, **figures}
    FIGURES.append(row)
    print(f"\n[faults] {scenario}: " + json.dumps(figures, default=str))


@dataclass
class Faults:
    """What a scenario test gets: the stack, the invoice count, the runner and the figures recorder."""

    stack: FaultStack
    count: int

    async def run(self, label: str, fault: Fault, *, count: int | None = None, **options: Any) -> Result:
        return await run_flow(self.stack, label, count or self.count, fault, **options)

    def record(self, scenario: str, figures: dict[str, Any]) -> None:
        record_figures(scenario, figures)


@pytest.fixture
def faults(fault_stack: FaultStack) -> Faults:
    """The fault suite's handle (see Faults)."""
    return Faults(fault_stack, invoice_count())


COLUMNS = [
    ("scenario", 34),
    ("sent", 6),
    ("issued", 6),
    ("archived", 8),
    ("emails", 6),
    ("unknown", 7),
    ("failed", 6),
    ("lost", 4),
    ("dup_archive", 11),
    ("dup_emails", 10),
    ("dead_lettered", 13),
    ("redeliveries", 12),
    ("recovery_s", 10),
    ("stall_s", 7),
    ("duration_s", 10),
]


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """The figures table of every scenario that ran, also written to .local/results/faults-<time>.json."""
    if not FIGURES:
        return
    terminalreporter.section(f"fault suite figures ({invoice_count()} invoices per scenario)")
    terminalreporter.write_line(
        " ".join(name.rjust(width) if i else name.ljust(width) for i, (name, width) in enumerate(COLUMNS))
    )
    for row in FIGURES:
        cells = []
        for i, (name, width) in enumerate(COLUMNS):
            value = row.get(name, "")
            text = f"{value:.1f}" if isinstance(value, float) else str(value)
            cells.append(text.rjust(width) if i else text.ljust(width))
        terminalreporter.write_line(" ".join(cells))
    results = repo_root() / ".local" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"faults-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({"invoices_per_scenario": invoice_count(), "scenarios": FIGURES}, indent=2, default=str))
    terminalreporter.write_line(f"figures written to {path}")


def elapsed(since: float) -> float:
    return round(time.monotonic() - since, 1)
