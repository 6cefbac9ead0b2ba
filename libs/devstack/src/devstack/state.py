"""The state file of a running stack: which processes belong to it, so `down` can stop them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from devstack.procs import cmdline, pid_alive

STATE_FILE = "stack.json"


class StateFile:
    """JSON record of the supervisor and each child; rewritten atomically on every change."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / STATE_FILE

    def read(self) -> dict[str, Any]:
        """The recorded state ({} when there is none or it is unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write(self, data: dict[str, Any]) -> None:
        """Replace the state atomically so a concurrent `down` never reads half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)

    def begin(self, mode: str, info: dict[str, Any] | None = None) -> None:
        """Record this process as the owner of the stack."""
        self.write(
            {
                "owner_pid": os.getpid(),
                "owner_cmdline": cmdline(os.getpid()),
                "mode": mode,
                "started": time.time(),
                "processes": {},
                **(info or {}),
            }
        )

    def record(self, key: str, pid: int | None, match: str) -> None:
        """Remember one child; match is a substring of its command line (guards pid reuse)."""
        data = self.read()
        procs = data.setdefault("processes", {})
        if pid is None:
            procs.pop(key, None)
        else:
            procs[key] = {"pid": pid, "match": match}
        self.write(data)

    def update(self, **fields: Any) -> None:
        """Add top-level facts (URLs, ports) for `status` to show."""
        data = self.read()
        data.update(fields)
        self.write(data)

    def clear(self) -> None:
        """Forget the stack (it stopped cleanly)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def owner_alive(self) -> int | None:
        """Pid of the live process that owns the recorded stack, else None."""
        data = self.read()
        pid = data.get("owner_pid")
        if not isinstance(pid, int) or pid == os.getpid() or not pid_alive(pid):
            return None
        recorded = data.get("owner_cmdline") or ""
        # After a reboot the pid may belong to someone else: the command line must match.
        if recorded and cmdline(pid) != recorded:
            return None
        return pid

    def live_children(self) -> dict[str, int]:
        """Recorded children still running with the command line they were started with."""
        alive: dict[str, int] = {}
        for key, entry in self.read().get("processes", {}).items():
            pid, match = entry.get("pid"), entry.get("match", "")
            if isinstance(pid, int) and pid_alive(pid) and match in cmdline(pid):
                alive[key] = pid
        return alive


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in pids if pid_alive(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)


def _stop_children(children: dict[str, int], timeout: float) -> list[str]:
    for key, pid in children.items():
        # postgres takes SIGINT as "fast shutdown"; everyone else expects SIGTERM
        sig = signal.SIGINT if key == "postgres" else signal.SIGTERM
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    stubborn = _wait_gone(list(children.values()), timeout)
    report = []
    for key, pid in children.items():
        if pid in stubborn:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            report.append(f"{key} (pid {pid}) killed after {timeout:.0f} s")
        else:
            report.append(f"{key} (pid {pid}) stopped")
    return report


def stop_recorded(state: StateFile, owner_timeout: float = 90.0, child_timeout: float = 20.0) -> list[str]:
    """Stop a recorded stack: its owner first (it stops children in order), then stragglers."""
    report: list[str] = []
    owner = state.owner_alive()
    if owner is not None:
        os.kill(owner, signal.SIGTERM)
        if _wait_gone([owner], owner_timeout):
            os.kill(owner, signal.SIGKILL)
            report.append(f"supervisor pid {owner} did not stop in {owner_timeout:.0f} s: killed")
        else:
            report.append(f"supervisor pid {owner} stopped")
    children = state.live_children()
    # Services first (they flush to Kafka and PostgreSQL), then the infrastructure.
    services = {k: p for k, p in children.items() if k.startswith("service:")}
    infra = {k: p for k, p in children.items() if k not in services}
    for group in (services, infra):
        report += _stop_children(group, child_timeout)
    state.clear()
    return report
