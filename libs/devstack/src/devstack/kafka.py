"""A single-node KRaft Kafka broker run from Maven jars with the machine's Java."""

# ruff: noqa: ASYNC109 - our timeouts are polling deadlines and SIGTERM-to-SIGKILL grace
# periods, which asyncio.timeout() cannot express.

from __future__ import annotations

import asyncio
import base64
import logging
import signal
import subprocess
import time
import uuid
from pathlib import Path

from devstack import errors
from devstack.config import LOCALHOST, PortSpec
from devstack.kafka_jars import check_java, ensure_jars
from devstack.ports import ensure_port_free
from devstack.procs import ManagedProcess, last_line, telling_line

HEAP = ["-Xms256m", "-Xmx512m"]
# The JVM options of Kafka's own kafka-run-class.sh, which the recipe copied.
JVM_OPTS = [
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
]
# A short-lived tool needs no optimising compiler: C1 only starts it faster.
TOOL_OPTS = ["-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
CDS_ARCHIVE = "kafka.jsa"

_log = logging.getLogger(__name__)


def random_cluster_id() -> str:
    """A cluster id as `StorageTool random-uuid` prints it (URL-safe base64 of a v4 UUID).

    Same algorithm as org.apache.kafka.common.Uuid.randomUuid, without a 0.6 s JVM start.
    """
    while True:
        raw = uuid.uuid4().bytes
        text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        # Kafka rejects ids starting with '-' and its two reserved ids (all zero, metadata id 1).
        if not text.startswith("-") and int.from_bytes(raw, "big") > 1:
            return text


def render_server_properties(template: str, data_dir: Path, port: int, controller_port: int) -> str:
    """server.properties for one data dir and pair of ports."""
    return (
        template.replace("@DATA@", str(data_dir)).replace("@PORT@", str(port)).replace("@CPORT@", str(controller_port))
    )


async def broker_answers(bootstrap: str, timeout: float = 3.0) -> list[str] | None:
    """The topic list when a broker answers a metadata request, else None."""
    from aiokafka.admin import AIOKafkaAdminClient

    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        # A plain TCP probe first: aiokafka logs an ERROR line per refused connection.
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
        writer.close()
    except (OSError, TimeoutError):
        return None
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        return await asyncio.wait_for(admin.list_topics(), timeout)
    except Exception:
        return None
    finally:
        await admin.close()


class KafkaBroker:
    """One broker+controller process with its data under data_dir."""

    def __init__(
        self,
        *,
        home: Path,
        data_dir: Path,
        port: PortSpec,
        controller_port: PortSpec,
        log_path: Path,
    ) -> None:
        self.home = home
        self.data_dir = data_dir
        self.port = port
        self.controller_port = controller_port
        self.log_path = log_path
        self.process: ManagedProcess | None = None
        self._pending_archive: Path | None = None

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers string clients use."""
        return f"{LOCALHOST}:{self.port.port}"

    @property
    def properties_path(self) -> Path:
        """The rendered server.properties of this data dir."""
        return self.data_dir / "server.properties"

    def _common_opts(self) -> list[str]:
        return [
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.data_dir}",
        ]

    def _format_once(self, java: str, lib: Path) -> None:
        if (self.data_dir / "kraft" / "meta.properties").exists():
            return
        archive = lib / CDS_ARCHIVE
        # The broker's class archive also covers most of what StorageTool loads: ~0.35 s saved.
        cds = [f"-XX:SharedArchiveFile={archive}", "-Xshare:auto"] if archive.is_file() else []
        argv = [
            java,
            "-cp",
            str(lib / "*"),
            *TOOL_OPTS,
            *cds,
            *self._common_opts(),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            random_cluster_id(),
            "-c",
            str(self.properties_path),
            "--standalone",
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
        if proc.returncode != 0:
            output = proc.stdout + proc.stderr
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a") as log:
                log.write(f"---- storage format failed: {' '.join(argv)}\n{output}\n")
            raise errors.kafka_failed(f"storage format failed: {telling_line(output)}", str(self.log_path))

    def _cds_opts(self, lib: Path) -> list[str]:
        # AppCDS: the first run records the classes it loaded; later runs map them and the
        # broker is ready in ~1.3 s instead of ~2.4 s. A stale archive (new jars or JVM) is
        # ignored by the JVM with a warning, never fatal.
        archive = lib / CDS_ARCHIVE
        for stale in lib.glob(f".{CDS_ARCHIVE}.*"):
            # Dumped by a broker someone else stopped (`down`): never adopted, just disk.
            if time.time() - stale.stat().st_mtime > 60:
                stale.unlink(missing_ok=True)
        if archive.is_file():
            return [f"-XX:SharedArchiveFile={archive}", "-Xshare:auto"]
        self._pending_archive = lib / f".{CDS_ARCHIVE}.{uuid.uuid4().hex}"
        return [f"-XX:ArchiveClassesAtExit={self._pending_archive}"]

    def prepare(self) -> tuple[str, str, Path]:
        """Blocking checks and setup: ports, Java, jars, config, storage format."""
        ensure_port_free(self.port)
        ensure_port_free(self.controller_port)
        java = check_java()
        lib = ensure_jars(self.home)
        classpath = str(lib / "*")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        template = (self.home / "server.properties.template").read_text(encoding="utf-8")
        self.properties_path.write_text(
            render_server_properties(template, self.data_dir, self.port.port, self.controller_port.port),
            encoding="utf-8",
        )
        self._format_once(java, lib)
        return java, classpath, lib

    async def start(self, timeout: float = 90.0) -> None:
        """Start the broker and return once it answers metadata requests."""
        java, classpath, lib = await asyncio.to_thread(self.prepare)
        argv = [
            java,
            "-cp",
            classpath,
            *HEAP,
            *JVM_OPTS,
            *self._cds_opts(lib),
            *self._common_opts(),
            "kafka.Kafka",
            str(self.properties_path),
        ]
        self.process = ManagedProcess("kafka", argv, log_path=self.log_path, cwd=self.home)
        self.process.start()
        await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float) -> None:
        """Poll until the broker answers, failing early if the JVM exits."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.running:
                detail = f"exit code {self.process.returncode}: {last_line(self.log_path)}"
                raise errors.kafka_failed(detail, str(self.log_path))
            if await broker_answers(self.bootstrap, timeout=2.0) is not None:
                return
            await asyncio.sleep(0.1)
        raise errors.kafka_failed(f"no answer on {self.bootstrap} after {timeout:.0f} s", str(self.log_path))

    def _adopt_archive(self) -> None:
        pending, self._pending_archive = self._pending_archive, None
        if pending is None:
            return
        target = pending.with_name(CDS_ARCHIVE)
        if pending.is_file() and pending.stat().st_size > 0 and not target.exists():
            pending.replace(target)
        else:
            pending.unlink(missing_ok=True)

    async def stop(self, timeout: float = 20.0) -> None:
        """Controlled shutdown on SIGTERM; SIGKILL after timeout."""
        if self.process is None:
            return
        code = await self.process.stop(signal.SIGTERM, timeout)
        # Only a clean exit writes a whole class archive.
        if code in (0, 143):
            self._adopt_archive()
        elif self._pending_archive is not None:
            self._pending_archive.unlink(missing_ok=True)
            self._pending_archive = None
        _log.debug("kafka stopped with %s", code)
