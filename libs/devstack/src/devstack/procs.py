"""Child processes of the stack: started in their own session, logged to a file, stopped in order."""

# ruff: noqa: ASYNC109 - our timeouts are polling deadlines and SIGTERM-to-SIGKILL grace
# periods, which asyncio.timeout() cannot express.

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        # field 3 is the state; 'Z' is a zombie whose parent has not reaped it yet
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def cmdline(pid: int) -> str:
    """The command line of a process, space-joined ('' when unknown or gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return ""
        # No procfs (macOS): ask ps.
        argv = ["ps", "-o", "command=", "-p", str(pid)]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
        return proc.stdout.strip()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read()
    except OSError:
        return ""
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


_TELLING = re.compile(r"(Exception|Error)\b.*:|\b(ERROR|FATAL|PANIC)\b")


def telling_line(text: str) -> str:
    """The line of tool output that says what went wrong.

    A Java stack trace ends with "at ..." frames and Maven-like tools end with chatter: prefer
    the last line naming an exception or an ERROR/FATAL, else the last non-blank line.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        if _TELLING.search(line) and not line.startswith(("at ", "...")):
            return line
    return lines[-1] if lines else "no output"


def last_line(path: Path) -> str:
    """The telling line of the end of a log file."""
    return telling_line(tail(path, 80))


class ManagedProcess:
    """One long-running child: its own session (so a terminal Ctrl-C reaches only us), a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: int | None = None,
        group: int | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.user = user
        self.group = group
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int | None:
        """Pid of the current run, None before the first start."""
        return self.popen.pid if self.popen else None

    @property
    def returncode(self) -> int | None:
        """Exit code once the process has ended, None while it runs."""
        return self.popen.poll() if self.popen else None

    @property
    def running(self) -> bool:
        """True while the process runs."""
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        """Start (or restart) the process, appending its output to the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with self.log_path.open("ab") as log:
            log.write(f"---- {stamp} starting: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(  # noqa: S603 - argv built by us, no shell
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                user=self.user,
                group=self.group,
                # dropping to another user must drop root's supplementary groups too
                extra_groups=[] if self.user is not None else None,
            )
        self.started_at = time.monotonic()

    def send(self, sig: int) -> None:
        """Signal the main process only: it shuts its own children down in order."""
        if self.running and self.popen:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(sig)

    def kill_group(self) -> None:
        """SIGKILL the whole session, so no worker (process pool, backend) outlives it."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    async def wait(self, timeout: float) -> int | None:
        """Wait up to timeout seconds for the exit; the exit code or None."""
        deadline = time.monotonic() + timeout
        while self.popen is not None:
            code = self.popen.poll()
            if code is not None or time.monotonic() >= deadline:
                return code
            await asyncio.sleep(0.05)
        return None

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Ask politely with sig, then SIGKILL the session after timeout; the exit code."""
        if self.popen is None:
            return None
        if self.running:
            self.send(sig)
            if await self.wait(timeout) is None:
                self.kill_group()
        code = await self.wait(5.0)
        # Leftover group members (a pool worker that ignored SIGTERM) must not keep ports busy.
        self.kill_group()
        return code

    def stop_sync(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Blocking twin of stop(), for atexit and teardown code without a loop."""
        if self.popen is None:
            return None
        if self.running:
            self.send(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill_group()
        try:
            code = self.popen.wait(5.0)
        except subprocess.TimeoutExpired:
            code = None
        self.kill_group()
        return code

    def log_tail(self, lines: int = 20) -> str:
        """The last lines this process wrote."""
        return tail(self.log_path, lines)
