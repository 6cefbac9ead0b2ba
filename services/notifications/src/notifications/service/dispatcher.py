"""The delivery worker: claims due ledger rows, sends them, records one final outcome each.

A row is marked 'sending' when claimed, and stamped `handed_over_at` (committed) just before its
content goes out (for SMTP: once the relay accepted the recipient, right before DATA), so a crash
leaves evidence: after `stuck_after_s`, a stamped row becomes 'unknown' (the provider may have it:
never re-sent blindly), while a row the crash caught before that point (still waiting in its batch,
or mid MAIL/RCPT) goes back to 'pending' and is sent later.

Throughput without unbounded memory: a few lanes per channel work side by side. An e-mail lane
owns one SMTP connection; it claims a small batch of due rows (`claim_size`, SKIP LOCKED), sends
them one after the other over its connection, records their outcomes in one transaction, and
claims again until nothing is due (the next batch is claimed while this one is sent). At most two
batches per lane, and one rendered message (with its attachment) per lane, are in memory,
whatever the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import select

from contracts import catalogue
from contracts.v1 import DeliveryStatus
from notifications.adapters import SendOutcome, SendResult
from notifications.adapters.documents import DocumentSource
from notifications.adapters.mailer import SESSION_STAGES, Mailer, MailSession
from notifications.adapters.sms import SmsGateway
from notifications.adapters.tables import Delivery
from notifications.adapters.templating import TemplateRenderer
from notifications.metrics import DELIVERIES, DELIVERY_LATENCY
from notifications.service.sending import Attempt, MessageSender, SingleShot
from servicekit.consumer import backoff_delay, is_infrastructure_error
from servicekit.db import SessionFactory
from servicekit.messaging_tables import utcnow
from servicekit.outbox import add_to_outbox

log = logging.getLogger(__name__)

FINAL = {SendOutcome.SENT: "sent", SendOutcome.PERMANENT: "failed", SendOutcome.UNKNOWN: "unknown"}
SWEEP_EVERY_S = 30.0


@dataclass
class RetryPolicy:
    """How often and how patiently a transient failure is retried."""

    max_attempts: int
    base_delay_s: float
    max_delay_s: float
    stuck_after_s: float


@dataclass
class Throughput:
    """How much is sent at once: lanes per channel, rows per claim, rows per pass."""

    email_lanes: int = 4
    sms_lanes: int = 1
    claim_size: int = 10
    # A pass ends after this many rows so the stuck-row sweep still runs during a long backlog.
    pass_limit: int = 1000
    idle_close_s: float = 10.0


class _Budget:
    """Rows a pass may still claim, shared by its lanes."""

    def __init__(self, rows: int) -> None:
        self.left = rows

    def take(self, wanted: int) -> int:
        granted = min(wanted, self.left)
        self.left -= granted
        return granted

    def give_back(self, rows: int) -> None:
        self.left += rows


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
        documents: DocumentSource | None = None,
        throughput: Throughput | None = None,
        default_region: str = "FR",
        on_outbox_write: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._renderer = renderer
        self._mailer = mailer
        self._source = source
        self._retry = retry
        self._documents = documents
        self._sender = MessageSender(
            renderer, mailer, sms, max_attempts=retry.max_attempts, documents=documents, default_region=default_region
        )
        self._throughput = throughput or Throughput()
        self._on_outbox_write = on_outbox_write
        self._lanes: list[MailSession] = [self._new_lane() for _ in range(self._throughput.email_lanes)]
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # When the mail relay was first found unreachable (None: reachable, as far as we know).
        self._relay_down_since: float | None = None
        if documents is None:
            log.info("no signing credential: documents are linked, never attached")

    def _new_lane(self) -> MailSession:
        factory = getattr(self._mailer, "session", None)
        return factory() if callable(factory) else SingleShot(self._mailer)

    @property
    def documents(self) -> DocumentSource | None:
        """Where attachments come from; None when documents are only linked."""
        return self._documents

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ claiming and recording

    async def due_counts(self, due_before: datetime) -> dict[str, int]:
        """Pending rows due by `due_before`, per channel (one cheap read on the partial due index)."""
        query = (
            select(Delivery.channel, func.count())
            .where(Delivery.status == "pending", Delivery.next_attempt_at <= due_before)
            .group_by(Delivery.channel)  # type: ignore[arg-type]
        )
        async with self._sessions() as session:
            rows = (await session.exec(query)).all()
        return {channel: int(count) for channel, count in rows}

    async def claim_due(self, *, channel: str, limit: int, due_before: datetime | None = None) -> list[Delivery]:
        """Mark up to `limit` due rows of a channel 'sending' and commit, so no other worker takes them."""
        due = (
            select(Delivery.id)
            .where(
                Delivery.status == "pending",
                Delivery.channel == channel,
                Delivery.next_attempt_at <= (due_before or utcnow()),
            )
            .order_by(Delivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        claim = (
            update(Delivery)
            .where(Delivery.id == due.c.id)
            .values(status="sending", attempts=Delivery.attempts + 1, updated_at=utcnow(), handed_over_at=None)
            .returning(Delivery)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            rows = list((await session.execute(claim)).scalars().all())
        rows.sort(key=lambda row: (row.next_attempt_at, row.created_at))
        return rows

    async def record(self, delivery: Delivery, result: SendResult | Attempt) -> None:
        """Store one outcome (see record_many)."""
        await self.record_many([(delivery, result if isinstance(result, Attempt) else Attempt(result))])

    async def record_many(
        self, attempts: Sequence[tuple[Delivery, Attempt]], released: Sequence[Delivery] = ()
    ) -> None:
        """Store outcomes in one transaction; final ones are published on notifications.delivery-status.v1.

        `released` rows were claimed but never attempted (shutdown, or too long in the queue):
        they go back to pending with their attempt given back.
        """
        ids = [d.id for d, _ in attempts] + [d.id for d in released]
        if not ids:
            return
        counted: list[tuple[Delivery, str]] = []
        async with self._sessions() as session, session.begin():
            locked = await session.exec(select(Delivery).where(Delivery.id.in_(ids)).with_for_update())  # type: ignore[attr-defined]
            rows = {row.id: row for row in locked.all()}
            now = utcnow()
            for delivery, attempt in attempts:
                row = rows.get(delivery.id)
                if row is None or row.status != "sending":
                    continue
                counted.append((row, self._apply(session, row, attempt, now)))
            for delivery in released:
                row = rows.get(delivery.id)
                if row is not None and row.status == "sending":
                    row.status, row.attempts = "pending", max(0, row.attempts - 1)
                    row.next_attempt_at = row.updated_at = now
                    session.add(row)
        if any(outcome != "retry" for _, outcome in counted):
            self._on_outbox_write()
        for row, outcome in counted:
            self._count(row, outcome)

    async def record_outcomes(
        self, attempts: Sequence[tuple[Delivery, Attempt]], released: Sequence[Delivery] = ()
    ) -> None:
        """record_many, tried again through a database outage for up to half the stuck timeout.

        These messages already went out: an outcome dropped here leaves them 'sending', and the
        sweep then calls them 'unknown'. Half the stuck timeout keeps the retries clear of it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry.stuck_after_s / 2
        tries = 0
        while True:
            try:
                await self.record_many(attempts, released)
                return
            except Exception as exc:
                tries += 1
                if not is_infrastructure_error(exc) or loop.time() >= deadline:
                    raise
                log.info("recording %d outcomes failed (%s); trying again", len(attempts), type(exc).__name__)
            await asyncio.sleep(min(backoff_delay(tries, 0.2, 2.0), max(0.0, deadline - loop.time())))

    def _apply(self, session, row: Delivery, attempt: Attempt, now: datetime) -> str:  # type: ignore[no-untyped-def]
        result = attempt.result
        row.last_error = None if result.outcome is SendOutcome.SENT else result.detail
        row.updated_at = now
        if attempt.document_attached is not None:
            row.document_attached = attempt.document_attached
        if result.outcome is SendOutcome.TRANSIENT and result.stage in SESSION_STAGES and row.channel == "email":
            # The relay was never reached (connect, greeting, STARTTLS, AUTH): nothing was handed
            # over, so this is an outage of the relay, not an attempt on the message. Counting it
            # used up a message's attempts within a minute of outage (fault suite, issue #10) and
            # failed it for good. The row gives its attempt back and waits for the relay, tried
            # less and less often the longer the outage lasts (capped at max_delay_s).
            row.status = "pending"
            row.attempts = max(0, row.attempts - 1)
            row.next_attempt_at = now + timedelta(seconds=self._outage_delay())
            session.add(row)
            return "retry"
        if result.outcome is SendOutcome.TRANSIENT and row.attempts < self._retry.max_attempts:
            row.status = "pending"
            delay = backoff_delay(row.attempts, self._retry.base_delay_s, self._retry.max_delay_s)
            if result.retry_after is not None:  # the provider said when; never past our own cap
                delay = max(delay, min(result.retry_after, self._retry.max_delay_s))
            row.next_attempt_at = now + timedelta(seconds=max(delay, 0.05))
            session.add(row)
            return "retry"
        row.status = FINAL.get(result.outcome, "failed")
        row.completed_at = now
        self._publish_status(session, row, result.detail)
        session.add(row)
        return row.status

    def _outage_delay(self) -> float:
        """Wait before retrying a message held up by an unreachable relay: grows with the outage, jittered."""
        down_for = time.monotonic() - (self._relay_down_since or time.monotonic())
        cap = min(self._retry.max_delay_s, max(self._retry.base_delay_s, down_for))
        return random.uniform(cap / 2, cap)

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
                request_event_id=row.request_event_id,
                document_attached=row.document_attached,
            ),
            source=self._source,
            key=str(row.id),
            tenant=row.tenant,
        )

    def _count(self, row: Delivery, outcome: str) -> None:
        template = row.template if row.template in self._renderer.template_ids else "unknown"
        DELIVERIES.labels(template, row.channel, outcome).inc()
        if outcome != "retry":
            waited = (utcnow() - row.created_at).total_seconds()
            DELIVERY_LATENCY.labels(row.channel, outcome).observe(max(waited, 0.0))

    async def mark_handed_over(self, delivery: Delivery) -> None:
        """Commit that this attempt is about to reach the provider (see mark_stuck_unknown)."""
        stamp = update(Delivery).where(Delivery.id == delivery.id).values(handed_over_at=utcnow())
        async with self._sessions() as session, session.begin():
            await session.execute(stamp)

    async def mark_stuck_unknown(self) -> int:
        """Rows left 'sending' by a crash. Handed over: the provider may have them, so 'unknown'.
        Never handed over: nothing left this service, so back to 'pending' with the attempt given back."""
        cutoff = utcnow() - timedelta(seconds=self._retry.stuck_after_s)
        async with self._sessions() as session, session.begin():
            rows = (
                await session.exec(
                    select(Delivery)
                    .where(Delivery.status == "sending", Delivery.updated_at < cutoff)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            unknown = [row for row in rows if row.handed_over_at is not None]
            now = utcnow()
            for row in rows:
                if row.handed_over_at is None:
                    row.status, row.attempts = "pending", max(0, row.attempts - 1)
                    row.next_attempt_at = row.updated_at = now
                else:
                    row.status = "unknown"
                    row.updated_at = row.completed_at = now
                    self._publish_status(session, row, "interrupted while sending; not re-sent")
                session.add(row)
        if unknown:
            self._on_outbox_write()
            for row in unknown:
                self._count(row, "unknown")
        return len(unknown)

    # ------------------------------------------------------------------ sending

    async def attempt(self, delivery: Delivery, lane: MailSession | None = None) -> Attempt:
        """Render and hand one message to its channel without touching the ledger (a dry try); never raises."""
        return await self._sender.attempt(delivery, lane)

    # ------------------------------------------------------------------ passes

    async def run_once(self) -> int:
        """One pass: every lane claims and sends until nothing is due; returns how many rows were claimed.

        Only rows due when the pass started are taken, so a row put back for a retry waits for a
        later pass instead of being hammered within this one.
        """
        due_before = utcnow()
        due = await self.due_counts(due_before)
        if not due:
            return 0
        budget = _Budget(self._throughput.pass_limit)
        # Only as many lanes as the due rows fill: each lane's claim is a transaction, and a pass
        # per consumer commit would otherwise cost every lane's claim for one message.
        claim = self._throughput.claim_size
        email_lanes = self._lanes[: -(-due.get("email", 0) // claim)]
        lanes = [self._drain("email", lane, due_before, budget) for lane in email_lanes]
        sms_lanes = min(self._throughput.sms_lanes, -(-due.get("sms", 0) // claim))
        lanes += [self._drain("sms", None, due_before, budget) for _ in range(sms_lanes)]
        # Lanes are not cancelled when one fails (a database error): the others finish their batch.
        results = await asyncio.gather(*lanes, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return sum(r for r in results if isinstance(r, int))

    async def _drain(self, channel: str, lane: MailSession | None, due_before: datetime, budget: _Budget) -> int:
        """Claim, send, record until nothing is due. The next batch is claimed while this one is
        sent, and outcomes are recorded while the next one is sent, so the lane's connection
        rarely waits on the database."""
        claimed = 0
        prefetch: asyncio.Task[tuple[list[Delivery], bool]] | None = None
        recording: asyncio.Task[None] | None = None
        try:
            rows, more = await self._claim_some(channel, due_before, budget)
            while rows:
                claimed += len(rows)
                if more and not self._stopping:
                    prefetch = asyncio.create_task(self._claim_some(channel, due_before, budget))
                attempts, released = await self._send_batch(rows, lane)
                if recording is not None:
                    await recording
                recording = asyncio.create_task(self.record_outcomes(attempts, released))
                rows, more = await prefetch if prefetch is not None else ([], False)
                prefetch = None
        finally:
            if prefetch is not None:  # interrupted: what was claimed ahead was never tried
                with contextlib.suppress(Exception):
                    rows, _ = await prefetch
                    await self.record_many([], rows)
            if recording is not None:
                await recording
        return claimed

    async def _claim_some(self, channel: str, due_before: datetime, budget: _Budget) -> tuple[list[Delivery], bool]:
        """A batch for one lane, and whether more may be due (the batch came back full)."""
        wanted = budget.take(self._throughput.claim_size)
        if wanted == 0:
            return [], False
        rows = await self.claim_due(channel=channel, limit=wanted, due_before=due_before)
        budget.give_back(wanted - len(rows))
        return rows, len(rows) == wanted

    async def _send_batch(
        self, rows: list[Delivery], lane: MailSession | None
    ) -> tuple[list[tuple[Delivery, Attempt]], list[Delivery]]:
        """Send claimed rows in order over one lane; returns the attempts and the rows left untried."""
        loop = asyncio.get_running_loop()
        # Past half the stuck timeout a row could be swept to 'unknown' by another replica: not sent.
        deadline = loop.time() + self._retry.stuck_after_s / 2
        attempts: list[tuple[Delivery, Attempt]] = []
        released: list[Delivery] = []
        relay_down: SendResult | None = None
        for row in rows:
            if self._stopping or loop.time() > deadline:
                released.append(row)
            elif relay_down is not None:
                attempts.append((row, Attempt(relay_down)))
            else:
                attempt = await self._sender.attempt(
                    row, lane, before_hand_over=lambda row=row: self.mark_handed_over(row)
                )
                attempts.append((row, attempt))
                result = attempt.result
                if result.stage in SESSION_STAGES and result.outcome is SendOutcome.TRANSIENT:
                    self._relay_down_since = self._relay_down_since or time.monotonic()
                elif result.outcome is SendOutcome.SENT and row.channel == "email":
                    self._relay_down_since = None
                if lane is not None and result.outcome is SendOutcome.TRANSIENT and result.stage in SESSION_STAGES:
                    # No connection to the relay: the rest of the batch waits for a later attempt
                    # instead of each paying a connect timeout.
                    relay_down = replace(result, detail=f"relay unavailable: {result.detail}")
        return attempts, released

    async def close_idle(self) -> None:
        """QUIT connections unused for `idle_close_s`, before the relay drops them itself."""
        horizon = time.monotonic() - self._throughput.idle_close_s
        for lane in self._lanes:
            if lane.is_open and lane.last_used < horizon:
                await lane.close()

    async def close(self) -> None:
        for lane in self._lanes:
            await lane.close()

    async def run(self) -> None:
        next_sweep = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            # Cleared before the pass: a wake() during the pass (a request it did not see) means another pass.
            self._wake.clear()
            try:
                if loop.time() >= next_sweep:
                    await self.mark_stuck_unknown()
                    next_sweep = loop.time() + SWEEP_EVERY_S
                if await self.run_once() >= self._throughput.pass_limit:
                    continue
                await self.close_idle()
            except Exception as exc:
                log.warning("dispatcher pass failed, retrying: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.5)

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="delivery-dispatcher")

    async def stop(self) -> None:
        """Messages being sent complete and are recorded; claimed ones not yet started go back to pending."""
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task
        await self.close()
        closer = getattr(self._documents, "aclose", None)
        if callable(closer):
            await closer()
