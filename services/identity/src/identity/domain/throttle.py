"""Back-off arithmetic of sign-in throttling: slow guessing down, never lock anyone out for good."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class FailureCount:
    """Failures counted in the sliding window (since the last success) and the latest one."""

    failures: int
    last_failure_at: datetime | None


def backoff_s(failures: int, *, free: int, base_s: float, cap_s: float) -> float:
    """Wait owed after `failures`: none for the first `free`, then base, 2 x base, 4 x base... up to cap."""
    if failures < free:
        return 0.0
    return min(cap_s, base_s * 2 ** (failures - free))


def wait_s(count: FailureCount, now: datetime, *, free: int, base_s: float, cap_s: float) -> float:
    """Seconds still to wait before the next attempt is even looked at (0 = go ahead)."""
    if count.last_failure_at is None:
        return 0.0
    delay = backoff_s(count.failures, free=free, base_s=base_s, cap_s=cap_s)
    remaining = (count.last_failure_at + timedelta(seconds=delay) - now).total_seconds()
    return max(0.0, remaining)


def window_wait_s(oldest_counted_at: datetime | None, now: datetime, window_s: float) -> float:
    """For a plain limit: seconds until the oldest event that keeps the count at the limit leaves the window."""
    if oldest_counted_at is None:
        return 0.0
    return max(0.0, (oldest_counted_at + timedelta(seconds=window_s) - now).total_seconds())
