"""What the support use cases need besides a database session: settings, the clock, the calendar."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.db import SessionFactory
from support.adapters.tables import SlaHoliday
from support.domain.business_time import BusinessCalendar
from support.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CalendarCache:
    """The desk calendar with its holidays from the database, reloaded every few minutes."""

    calendars: Sequence[str]
    refresh_after_s: float = 300.0
    _calendar: BusinessCalendar | None = None
    _loaded_at: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, session: AsyncSession) -> BusinessCalendar:
        if self._calendar is not None and time.monotonic() - self._loaded_at < self.refresh_after_s:
            return self._calendar
        async with self._lock:
            if self._calendar is None or time.monotonic() - self._loaded_at >= self.refresh_after_s:
                rows = await session.exec(select(SlaHoliday).where(col(SlaHoliday.calendar).in_(list(self.calendars))))
                self._calendar = BusinessCalendar.standard(h.day for h in rows.all())
                self._loaded_at = time.monotonic()
        return self._calendar

    def invalidate(self) -> None:
        self._calendar = None


@dataclass
class SupportContext:
    """Settings-derived knobs, the clock (replaceable in tests) and the calendar cache."""

    settings: Settings
    sessions: SessionFactory
    calendar_cache: CalendarCache
    clock: Callable[[], datetime] = utc_now
    wake_relay: Callable[[], None] = lambda: None

    @classmethod
    def build(cls, settings: Settings, sessions: SessionFactory, wake_relay: Callable[[], None]) -> SupportContext:
        return cls(
            settings=settings,
            sessions=sessions,
            calendar_cache=CalendarCache(settings.holiday_calendars),
            wake_relay=wake_relay,
        )

    def now(self) -> datetime:
        return self.clock()

    @property
    def source(self) -> str:
        return self.settings.source

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(days=self.settings.reopen_window_days)

    async def calendar(self, session: AsyncSession) -> BusinessCalendar:
        return await self.calendar_cache.get(session)
