"""The delivery worker: claims due ledger rows, sends them, records one final outcome each.

A row is marked 'sending' and committed before the provider is called, so a crash mid-send
leaves evidence: such rows become 'unknown' (never re-sent blindly) after `stuck_after_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from contracts import catalogue
from contracts.v1 import DeliveryStatus
from notifications.adapters import SendOutcome, SendResult
from notifications.adapters.mailer import Mailer, OutgoingEmail
from notifications.adapters.sms import SmsGateway
from notifications.adapters.tables import Delivery
from notifications.adapters.templating import TemplateError, TemplateRenderer
from servicekit.consumer import backoff_delay
from servicekit.db import SessionFactory
from servicekit.messaging_tables import utcnow
from servicekit.outbox import add_to_outbox

log = logging.getLogger(__name__)

FINAL = {SendOutcome.SENT: "sent", SendOutcome.PERMANENT: "failed", SendOutcome.UNKNOWN: "unknown"}


@dataclass
class RetryPolicy:
    """How often and how patiently a transient failure is retried."""

    max_attempts: int
    base_delay_s: float
    max_delay_s: float
    stuck_after_s: float


class DeliveryDispatcher:
    """Runs in the service process next to the Kafka consumers."""

    def __init__(
        self,
        sessions: SessionFactory,
        renderer: TemplateRenderer,
        mailer: Mailer,
        sms: SmsGateway,
        *,
        source: str,
        retry: RetryPolicy,
        on_outbox_write: Callable[[], None] = lambda: None,
        batch_size: int = 20,
    ) -> None:
        self._sessions = sessions
        self._renderer = renderer
        self._mailer = mailer
        self._sms = sms
        self._source = source
        self._retry = retry
        self._on_outbox_write = on_outbox_write
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def claim_due(self) -> list[Delivery]:
        """Mark up to a batch of due rows 'sending' and commit, so no other worker takes them."""
        async with self._sessions() as session, session.begin():
            rows = (
                await session.exec(
                    select(Delivery)
                    .where(Delivery.status == "pending", Delivery.next_attempt_at <= utcnow())
                    .order_by(Delivery.next_attempt_at)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                row.status = "sending"
                row.attempts += 1
                row.updated_at = utcnow()
                session.add(row)
        return list(rows)

    async def attempt(self, delivery: Delivery) -> SendResult:
        """Render and hand the message to its channel; never raises."""
        try:
            rendered = self._renderer.render(delivery.template, delivery.locale, delivery.params)
        except TemplateError as exc:
            return SendResult(SendOutcome.PERMANENT, f"template: {exc}")
        try:
            if delivery.channel == "sms":
                return await self._sms.send(delivery.recipient, rendered.sms or rendered.text, str(delivery.id))
            return await self._mailer.send(
                OutgoingEmail(
                    ledger_id=str(delivery.id),
                    to=delivery.recipient,
                    subject=rendered.subject,
                    text=rendered.text,
                    html=rendered.html,
                )
            )
        except Exception as exc:  # an adapter bug must not kill the worker; the message may have left
            log.exception("delivery %s: unexpected adapter error", delivery.id)
            return SendResult(SendOutcome.UNKNOWN, f"adapter error: {type(exc).__name__}")

    async def record(self, delivery: Delivery, result: SendResult) -> None:
        """Store the outcome; final ones are published on notifications.delivery-status.v1."""
        async with self._sessions() as session, session.begin():
            row = await session.get(Delivery, delivery.id, with_for_update=True)
            if row is None or row.status != "sending":
                return
            row.last_error = None if result.outcome is SendOutcome.SENT else result.detail
            row.updated_at = utcnow()
            if result.outcome is SendOutcome.TRANSIENT and row.attempts < self._retry.max_attempts:
                row.status = "pending"
                delay = backoff_delay(row.attempts, self._retry.base_delay_s, self._retry.max_delay_s)
                row.next_attempt_at = utcnow() + timedelta(seconds=max(delay, 0.05))
            else:
                row.status = FINAL.get(result.outcome, "failed")
                self._publish_status(session, row, result.detail)
            session.add(row)
        self._on_outbox_write()

    def _publish_status(self, session, row: Delivery, detail: str | None) -> None:  # type: ignore[no-untyped-def]
        add_to_outbox(
            session,
            catalogue.DELIVERY_STATUS,
            DeliveryStatus(
                ledger_id=str(row.id),
                idempotency_key=row.idempotency_key,
                channel=row.channel,  # type: ignore[arg-type]
                template=row.template,
                outcome=row.status,  # type: ignore[arg-type]
                attempts=row.attempts,
                detail=detail,
                at=datetime.now(UTC),
            ),
            source=self._source,
            key=str(row.id),
            tenant=row.tenant,
        )

    async def mark_stuck_unknown(self) -> int:
        """Rows left 'sending' by a crash: the provider may have them, so they become 'unknown'."""
        cutoff = utcnow() - timedelta(seconds=self._retry.stuck_after_s)
        async with self._sessions() as session, session.begin():
            rows = (
                await session.exec(
                    select(Delivery)
                    .where(Delivery.status == "sending", Delivery.updated_at < cutoff)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                row.status = "unknown"
                row.updated_at = utcnow()
                session.add(row)
                self._publish_status(session, row, "interrupted while sending; not re-sent")
        if rows:
            self._on_outbox_write()
        return len(rows)

    async def run_once(self) -> int:
        """Claim, send concurrently, record; returns how many were attempted."""
        due = await self.claim_due()
        results = await asyncio.gather(*(self.attempt(d) for d in due))
        for delivery, result in zip(due, results, strict=True):
            await self.record(delivery, result)
        return len(due)

    async def run(self) -> None:
        next_sweep = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if loop.time() >= next_sweep:
                    await self.mark_stuck_unknown()
                    next_sweep = loop.time() + 30
                if await self.run_once() >= self._batch_size:
                    continue
            except Exception as exc:
                log.warning("dispatcher pass failed, retrying: %s", exc)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.5)

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="delivery-dispatcher")

    async def stop(self) -> None:
        """Let the current pass finish (in-flight sends complete), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task
