"""The SLA monitor: counts breaches once, refreshes the gauges, closes cases past the reopen window."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import col, select

from support import metrics
from support.adapters.tables import SupportCase
from support.domain.sla import ClockStatus
from support.domain.workflow import ACTIVE_STATES, CaseState
from support.service import clocks, notify
from support.service.context import SupportContext
from support.service.desk import mark_breaches

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    """What one pass found and did."""

    breaches: list[tuple[str, str, str]] = field(default_factory=list)  # (reference, clock, category)
    closed: list[str] = field(default_factory=list)
    active: Counter[str] = field(default_factory=Counter)
    breached: Counter[str] = field(default_factory=Counter)
    at_risk: Counter[str] = field(default_factory=Counter)


async def sweep(ctx: SupportContext) -> SweepResult:
    """One pass over the live cases; safe to run on several replicas at once.

    Rows are read without locks and every write is a conditional UPDATE, so a breach is
    counted by the one replica whose update matched, and a request changing the case meanwhile
    is never overwritten.
    """
    result = SweepResult()
    now = ctx.now()
    live = [str(s) for s in (*ACTIVE_STATES, CaseState.RESOLVED)]
    async with ctx.sessions() as session, session.begin():
        calendar = await ctx.calendar(session)
        cases = (
            await session.exec(
                select(SupportCase).where(
                    col(SupportCase.state).in_(live), col(SupportCase.sla_started_at).is_not(None)
                )
            )
        ).all()
        # Detached: marks set on these objects are never flushed; only the conditional UPDATEs write.
        session.expunge_all()
        for case in cases:
            if case.state == CaseState.RESOLVED:
                expired = case.resolved_at is not None and now > case.resolved_at + ctx.reopen_window
                if expired and await _close(ctx, session, case, now):
                    result.closed.append(case.reference)
                continue
            view = clocks.sla_view(case, calendar, now, ctx.settings.at_risk_ratio)
            result.active[case.state] += 1
            for name, clock_view in (("first_response", view.first_response), ("resolution", view.resolution)):
                if clock_view is None:
                    continue
                if clock_view.status == ClockStatus.BREACHED:
                    result.breached[name] += 1
                elif clock_view.status == ClockStatus.AT_RISK:
                    result.at_risk[name] += 1
            for clock, category in mark_breaches(case, view, now):
                name = f"{clock}_breached_at"
                column = col(getattr(SupportCase, name))
                changed = await session.execute(
                    update(SupportCase)
                    .where(col(SupportCase.id) == case.id, column.is_(None))
                    .values({name: getattr(case, name)})
                )
                if changed.rowcount:  # type: ignore[attr-defined]
                    result.breaches.append((case.reference, clock, category))
    for _reference, clock, _category in result.breaches:
        metrics.SLA_BREACHES.labels(clock).inc()
    for state in ACTIVE_STATES:
        metrics.ACTIVE_CASES.labels(str(state)).set(result.active[str(state)])
    for clock in ("first_response", "resolution"):
        metrics.CASES_BREACHED.labels(clock).set(result.breached[clock])
        metrics.CASES_AT_RISK.labels(clock).set(result.at_risk[clock])
    if result.closed:
        ctx.wake_relay()
    return result


async def _close(ctx: SupportContext, session, case: SupportCase, now) -> bool:  # type: ignore[no-untyped-def]
    """Close a resolved case whose reopen window has passed, if nobody changed it meanwhile."""
    changed = await session.execute(
        update(SupportCase)
        .where(col(SupportCase.id) == case.id, col(SupportCase.state) == CaseState.RESOLVED)
        .values(state=CaseState.CLOSED, closed_at=now, updated_at=now)
    )
    if not changed.rowcount:
        return False
    case.state = CaseState.CLOSED
    notify.publish_state_change(ctx, session, case, CaseState.RESOLVED, "system", now)
    return True


class SlaMonitor:
    """Runs `sweep` every few seconds in the background of the HTTP process."""

    def __init__(self, ctx: SupportContext, interval_s: float) -> None:
        self._ctx = ctx
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            try:
                await sweep(self._ctx)
            except Exception as exc:  # keep monitoring through a database hiccup
                log.warning("SLA sweep failed, retrying: %s", exc)
            await asyncio.sleep(self._interval_s)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="support-sla-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
