"""Transactional outbox: write events with the state change, publish them afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from opentelemetry import propagate
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.catalogue import TopicSpec
from contracts.envelope import Envelope
from servicekit.db import SessionFactory
from servicekit.messaging_tables import OutboxMessage
from servicekit.metrics import OUTBOX_PUBLISH_DELAY, OUTBOX_PUBLISHED, OUTBOX_RELAY_FAILURES
from servicekit.producer import SafeProducer
from servicekit.telemetry import TRACEPARENT

log = logging.getLogger(__name__)


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, so the relay's publish joins the same trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


def add_to_outbox(
    session: AsyncSession,
    spec: TopicSpec,
    event: BaseModel,
    *,
    source: str,
    key: str,
    subject: str | None = None,
    tenant: str | None = None,
    event_id: str | None = None,
) -> Envelope:
    """Stage `event` for `spec.name` in the caller's transaction; returns its envelope."""
    if not isinstance(event, spec.schema):
        raise TypeError(f"{spec.name} carries {spec.schema.__name__}, not {type(event).__name__}")
    envelope = Envelope.new(
        source=source,
        type=spec.schema_name,
        subject=subject or key,
        tenant=tenant,
        traceparent=current_traceparent(),
        id=event_id,
    )
    session.add(
        OutboxMessage(
            topic=spec.name,
            key=key,
            headers=envelope.to_headers(),
            payload=event.model_dump_json().encode(),
        )
    )
    return envelope


class OutboxRelay:
    """Publishes unpublished outbox rows in creation order and marks them published.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so several relays (replicas) never
    publish the same row concurrently; a crash between publish and commit republishes the
    row, which consumers absorb through their inbox. Each record is published in a PRODUCER
    span whose parent is the trace context stored with its row (see SafeProducer.send_batch).
    """

    def __init__(
        self,
        sessions: SessionFactory,
        producer: SafeProducer,
        *,
        batch_size: int = 200,
        poll_interval_s: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Ask for an immediate pass (called after a local commit wrote outbox rows)."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """One pass: publish up to a batch of rows; returns how many were published."""
        async with self._sessions() as session, session.begin():
            # Plain rows, not ORM objects: building a model per row cost more than publishing it.
            table = OutboxMessage.__table__  # type: ignore[attr-defined]
            rows = (
                await session.execute(
                    select(table.c.id, table.c.topic, table.c.key, table.c.headers, table.c.payload, table.c.created_at)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.created_at)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await self._producer.send_batch([(row.topic, row.key, row.headers, row.payload) for row in rows])
            published_at = datetime.now(UTC)
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([row.id for row in rows]))  # type: ignore[attr-defined]
                .values(published_at=published_at, attempts=OutboxMessage.attempts + 1)
            )
        OUTBOX_PUBLISHED.inc(len(rows))
        for row in rows:
            OUTBOX_PUBLISH_DELAY.labels(row.topic).observe(max(0.0, (published_at - row.created_at).total_seconds()))
        return len(rows)

    async def backlog(self) -> tuple[int, float]:
        """Unpublished rows and the age in seconds of the oldest one."""
        async with self._sessions() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.published_at.is_(None)  # type: ignore[union-attr]
                    )
                )
            ).one()
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        return int(count), age

    async def run(self) -> None:
        """Loop until stopped; back off on errors instead of dying."""
        delay = self._poll_interval_s
        while not self._stopping:
            # Cleared before the pass, not after it: a wake() arriving during the pass (a commit
            # the pass's SELECT did not see) must trigger another pass instead of being lost.
            self._wake.clear()
            try:
                published = await self.publish_pending()
                delay = self._poll_interval_s
            except Exception as exc:
                OUTBOX_RELAY_FAILURES.inc()
                log.warning("outbox relay pass failed, retrying: %s", exc)
                published = 0
                delay = min(delay * 2, 10.0)
            if published >= self._batch_size:
                continue  # more is waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    def start(self) -> None:
        """Run the loop in the background."""
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        """Flush what is pending (best effort), then stop the loop."""
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task
        try:
            while await self.publish_pending():
                pass
        except Exception as exc:
            log.warning("outbox flush at shutdown failed; rows stay for the next start: %s", exc)
