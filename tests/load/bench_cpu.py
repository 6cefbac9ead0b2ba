"""CPU seconds used by each part of the stack (a process and all its children), read with psutil."""

from __future__ import annotations

import os

import psutil


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU of each part's process tree so far (sealing workers, Postgres backends included)."""
    totals: dict[str, float] = {}
    for name, pid in pids.items():
        total = 0.0
        for proc in _tree(pid):
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:  # a backend that ended between listing and reading
                continue
            total += times.user + times.system
        totals[name] = total
    me = psutil.Process(os.getpid()).cpu_times()
    totals["load-generator"] = me.user + me.system
    return totals


def used_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds each part used between two readings."""
    return {name: max(0.0, after[name] - before.get(name, 0.0)) for name in after}
