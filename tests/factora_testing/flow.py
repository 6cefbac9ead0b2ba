"""Drive N signed partner invoices into the network and count what became of them in the systems of record.

The counts come from the services' own tables (invoicing's `invoice`, signing's `archived_document`,
notifications' `delivery` ledger) and from the SMTP catcher's mail folder, never from logs. Each
flow has its own seller, buyer company and partner key, and a unique buyer e-mail per invoice, so
one flow's figures are untouched by every other flow on the same stack.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.examples import sample_partner_invoice, signed_sample_record
from contracts.topics import identity as identity_topics
from contracts.v1.identity import PartnerCredentialRegistered
from factora_testing.records import plain_dsn

Record = tuple[str, dict[str, str], bytes]  # key, headers, value
INTAKE_GROUP = f"invoicing.{catalogue.PARTNER_INVOICE_SUBMITTED.name}"
# Topics whose records carry one effect each: a record seen twice with one ce_id is an outbox re-send.
EFFECT_TOPICS = (
    catalogue.INVOICE_ISSUED.name,
    catalogue.INVOICE_SEALED.name,
    catalogue.SEND_REQUESTED.name,
)


# --------------------------------------------------------------------------- the flow's parties


@dataclass
class PartnerFlow:
    """One seller's partner system submitting invoices to one buyer company, one buyer e-mail per invoice."""

    run_id: str
    private_key: Ed25519PrivateKey
    key_id: str
    seller_id: str
    buyer_id: str
    partner_id: str
    sent: list[str] = field(default_factory=list)  # external ids of the good submissions published

    @classmethod
    def new(cls, label: str) -> PartnerFlow:
        run_id = f"{label}-{uuid.uuid4().hex[:8]}"
        return cls(
            run_id=run_id,
            private_key=Ed25519PrivateKey.generate(),
            key_id=f"pk-{uuid.uuid4().hex[:16]}",
            seller_id=f"c-fault-seller-{run_id}",
            buyer_id=f"c-fault-buyer-{run_id}",
            partner_id=f"erp-{run_id}",
        )

    def external_id(self, index: int) -> str:
        return f"{self.run_id}-{index:05d}"

    def buyer_email(self, external_id: str) -> str:
        return f"ap-{external_id}@faults.example"

    def record(self, index: int) -> Record:
        """A valid, signed submission: (key, headers, value)."""
        external_id = self.external_id(index)
        event = sample_partner_invoice(buyer_email=self.buyer_email(external_id), external_id=external_id)
        event = event.model_copy(
            update={
                "partner_id": self.partner_id,
                "seller": event.seller.model_copy(update={"company_id": self.seller_id}),
                "buyer": event.buyer.model_copy(update={"company_id": self.buyer_id}),
            }
        )
        key, headers, value = signed_sample_record(event, private_key=self.private_key, key_id=self.key_id)
        return key, headers, value

    def records(self, count: int) -> list[Record]:
        return [self.record(i) for i in range(count)]

    async def register_key(self, bootstrap: str, invoicing_db: str, timeout_s: float = 120.0) -> None:
        """identity.partner-credential-registered.v1, as identity publishes it; waits until invoicing has the key."""
        public = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        event = PartnerCredentialRegistered(
            company_id=self.seller_id,
            partner_id=self.partner_id,
            partner_name="Fault-suite ERP",
            key_id=self.key_id,
            public_key=base64.urlsafe_b64encode(public).rstrip(b"=").decode(),
            registered_at=datetime.now(UTC),
        )
        spec = identity_topics.PARTNER_CREDENTIAL_REGISTERED
        envelope = Envelope.new(source="/factora/identity", type=spec.name, subject=self.key_id, tenant=self.seller_id)
        await publish_records(
            bootstrap, spec.name, [(self.key_id, envelope.to_headers(), event.model_dump_json().encode())]
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            conn = await asyncpg.connect(plain_dsn(invoicing_db))
            try:
                if await conn.fetchval("SELECT 1 FROM partner_key WHERE key_id = $1", self.key_id):
                    return
            finally:
                await conn.close()
            await asyncio.sleep(0.25)
        raise TimeoutError(f"invoicing never stored partner key {self.key_id}")


# --------------------------------------------------------------------------- publishing


async def publish_records(bootstrap: str, topic: str, records: Sequence[Record], **producer_options: Any) -> None:
    """Publish records as-is (no retry): for setup and for hand-made bad records."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", **producer_options)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()])
            for key, headers, value in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


@dataclass
class Publisher:
    """Publishes a stream of records at a steady pace, riding out broker outages by sending again.

    A record sent again after a timeout may reach the broker twice, with the same ce_id: exactly
    what a real partner does, and what the network must absorb.
    """

    bootstrap: str
    topic: str
    per_second: float = 200.0
    chunk: int = 20
    published: int = 0
    resends: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, records: Sequence[Record]) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            enable_idempotence=True,
            acks="all",
            request_timeout_ms=10_000,
            # Room for the 5 MB poison records; compressed, they pass the broker's 1 MB batch limit.
            max_request_size=8 << 20,
            compression_type="gzip",
        )
        await self._start(producer)
        try:
            interval = self.chunk / self.per_second
            for start in range(0, len(records), self.chunk):
                began = time.monotonic()
                await self._send_chunk(producer, records[start : start + self.chunk])
                self.published = min(len(records), start + self.chunk)
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))
        finally:
            with contextlib.suppress(Exception):
                await producer.stop()
            self.done.set()

    async def _start(self, producer: AIOKafkaProducer) -> None:
        for _ in range(120):
            try:
                await producer.start()
                return
            except Exception:
                await asyncio.sleep(1.0)
        await producer.start()

    async def _send_chunk(self, producer: AIOKafkaProducer, records: Sequence[Record]) -> None:
        for attempt in range(600):
            try:
                futures = [
                    await producer.send(
                        self.topic, value, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
                    )
                    for key, headers, value in records
                ]
                await asyncio.wait_for(asyncio.gather(*futures), 30)
                return
            except Exception:
                if attempt == 599:
                    raise
                self.resends += len(records)
                await asyncio.sleep(0.5)


# --------------------------------------------------------------------------- outcomes


@dataclass
class Outcomes:
    """What the systems of record hold for one flow."""

    sent: int
    issued: int
    issued_duplicates: int
    issued_unexpected: int  # invoices of the flow's seller that no good submission asked for
    rejected_good: int
    archived: int
    archive_duplicates: int
    ledger: dict[str, int]
    ledger_duplicates: int
    emails: int
    email_duplicates: int
    emailed_unique: int

    @property
    def lost(self) -> int:
        """Accepted invoices that fell through somewhere: not issued, not archived, or whose buyer e-mail
        never reached the catcher. A message recorded 'unknown' counts as lost here too: only a relay
        that really cut off after DATA (scenario 5b, which checks `in_doubt` instead) may leave one."""
        return (self.sent - self.issued) + (self.issued - self.archived) + max(0, self.archived - self.emailed_unique)

    @property
    def in_doubt(self) -> int:
        """Archived invoices whose e-mail is recorded 'unknown' and did not reach the catcher."""
        return min(self.ledger.get("unknown", 0), max(0, self.archived - self.emailed_unique))

    @property
    def duplicates(self) -> int:
        return self.issued_duplicates + self.archive_duplicates + self.ledger_duplicates + self.email_duplicates


class MailCounter:
    """Counts the catcher's messages per recipient; an .eml never changes, so each is parsed once."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir
        self._seen: dict[str, str] = {}
        self._parser = BytesHeaderParser()

    def per_recipient(self, domain: str = "@faults.example") -> Counter[str]:
        for path in self.mail_dir.glob("*.eml"):
            if path.name in self._seen:
                continue
            try:
                with path.open("rb") as fh:
                    head = fh.read(16384)
            except FileNotFoundError:
                continue
            self._seen[path.name] = str(self._parser.parsebytes(head).get("To", "")).strip().lower()
        return Counter(to for to in self._seen.values() if to.endswith(domain))


@dataclass
class Ledgers:
    """Database URLs of the systems of record."""

    invoicing: str
    signing: str
    notifications: str
    mail: MailCounter


async def _rows(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_dsn(url), timeout=5)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def count_outcomes(flow: PartnerFlow, ledgers: Ledgers, sent: Iterable[str] | None = None) -> Outcomes:
    """Read the three databases and the mail folder for this flow's invoices."""
    expected = set(sent if sent is not None else flow.sent)
    invoices = await _rows(
        ledgers.invoicing,
        "SELECT external_id, count(*) AS n FROM invoice WHERE seller_company_id = $1 GROUP BY external_id",
        flow.seller_id,
    )
    rejected = await _rows(
        ledgers.invoicing,
        "SELECT count(*) AS n FROM outbox WHERE topic = $1 AND key = ANY($2::text[])",
        catalogue.PARTNER_INVOICE_REJECTED.name,
        [f"{flow.seller_id}:{e}" for e in expected],
    )
    archived = await _rows(
        ledgers.signing,
        "SELECT invoice_id, count(*) AS n FROM archived_document WHERE seller_company_id = $1 GROUP BY invoice_id",
        flow.seller_id,
    )
    deliveries = await _rows(
        ledgers.notifications,
        "SELECT recipient, status FROM delivery WHERE tenant = $1 AND template = 'invoice-delivered'",
        flow.buyer_id,
    )
    mails = await asyncio.to_thread(ledgers.mail.per_recipient)
    wanted_mail = {flow.buyer_email(e) for e in expected}
    mine = {to: n for to, n in mails.items() if to in wanted_mail}
    issued = [r for r in invoices if r["external_id"] in expected]
    return Outcomes(
        sent=len(expected),
        issued=len(issued),
        issued_duplicates=sum(r["n"] - 1 for r in issued),
        issued_unexpected=sum(r["n"] for r in invoices if r["external_id"] not in expected),
        rejected_good=int(rejected[0]["n"]) if rejected else 0,
        archived=len(archived),
        archive_duplicates=sum(r["n"] - 1 for r in archived),
        ledger=dict(Counter(r["status"] for r in deliveries)),
        ledger_duplicates=sum(n - 1 for n in Counter(r["recipient"] for r in deliveries).values()),
        emails=sum(mine.values()),
        email_duplicates=sum(n - 1 for n in mine.values()),
        emailed_unique=len(mine),
    )


def settled(outcome: Outcomes) -> bool:
    """Every submission issued and archived, and every ledger row at a final outcome with its mail counted."""
    final = sum(outcome.ledger.get(s, 0) for s in ("sent", "unknown", "failed"))
    return (
        outcome.issued == outcome.sent
        and outcome.archived == outcome.sent
        and final == outcome.sent
        and outcome.emailed_unique >= outcome.ledger.get("sent", 0)
    )


async def wait_settled(
    flow: PartnerFlow, ledgers: Ledgers, *, quiet_s: float = 240.0, poll_s: float = 2.0
) -> tuple[Outcomes, float]:
    """Poll until the flow has settled, or nothing moved for `quiet_s`; the outcomes and the wait in seconds."""
    began = time.monotonic()
    last_change = began
    previous: tuple[Any, ...] | None = None
    outcome: Outcomes | None = None
    while True:
        try:
            outcome = await count_outcomes(flow, ledgers)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            outcome = None
        if outcome is not None:
            if settled(outcome):
                return outcome, time.monotonic() - began
            snapshot = (outcome.issued, outcome.archived, tuple(sorted(outcome.ledger.items())), outcome.emails)
            if snapshot != previous:
                previous, last_change = snapshot, time.monotonic()
        if time.monotonic() - last_change > quiet_s:
            if outcome is None:
                outcome = await count_outcomes(flow, ledgers)
            return outcome, time.monotonic() - began
        await asyncio.sleep(poll_s)


# --------------------------------------------------------------------------- redeliveries seen on the broker


async def topic_end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or await _parts(consumer, t))
        ]
        return dict(await consumer.end_offsets(parts))
    finally:
        await _stop_consumer(consumer)


async def _parts(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


async def read_topic(
    bootstrap: str, topic: str, start: dict[TopicPartition, int] | None = None
) -> list[tuple[dict[str, str], bytes]]:
    """Every record of `topic` from `start` (or the beginning) to its end offsets now: (headers, value)."""
    ends = await topic_end_offsets(bootstrap, [topic])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=8 << 20
    )
    await consumer.start()
    found: list[tuple[dict[str, str], bytes]] = []
    try:
        parts = [tp for tp, end in ends.items() if end > (start or {}).get(tp, 0)]
        if not parts:
            return found
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, (start or {}).get(tp, 0))
        remaining = set(parts)
        deadline = time.monotonic() + 120
        while remaining and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < ends[tp]:
                        headers = {k: v.decode(errors="replace") for k, v in record.headers or []}
                        found.append((headers, record.value or b""))
                    if record.offset >= ends[tp] - 1:
                        remaining.discard(tp)
    finally:
        await _stop_consumer(consumer)
    return found


async def _stop_consumer(consumer: AIOKafkaConsumer) -> None:
    # aiokafka's stop() of a group-less consumer can re-raise the CancelledError of its own
    # internal task when stopped soon after start; the consumer is closed all the same.
    with contextlib.suppress(asyncio.CancelledError):
        await consumer.stop()


async def outbox_resends(bootstrap: str, tenants: set[str], start: dict[TopicPartition, int]) -> dict[str, int]:
    """Per effect topic: records of these tenants whose ce_id had been published before (re-sent after a crash)."""
    resends: dict[str, int] = {}
    for topic in EFFECT_TOPICS:
        ids = Counter(
            h.get("ce_id") for h, _ in await read_topic(bootstrap, topic, start) if h.get("factora_tenant") in tenants
        )
        resends[topic] = sum(n - 1 for n in ids.values())
    return resends


# --------------------------------------------------------------------------- progress, stalls and redeliveries


@dataclass
class Sample:
    at: float
    progress: int  # issued + archived + ledger rows at a final outcome
    final: int  # ledger rows at a final outcome: invoices whose whole journey is over
    committed: dict[int, int]
    ends: dict[int, int]


class Monitor:
    """Samples the pipeline every second while a scenario runs.

    Progress is read from the systems of record; the intake group's committed offsets per
    partition give the longest partition stall; each service's /metrics gives the inbox
    duplicates skipped and the handler retries (counters reset by a restart are carried over).
    """

    def __init__(self, flow: PartnerFlow, ledgers: Ledgers, bootstrap: str, metrics_urls: dict[str, str]) -> None:
        self.flow = flow
        self.ledgers = ledgers
        self.bootstrap = bootstrap
        self.metrics_urls = metrics_urls
        self.samples: list[Sample] = []
        self.restored: list[tuple[str, float]] = []
        self._counters: dict[tuple[str, str], tuple[float, float]] = {}  # (service, family) -> (base, last)
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def mark_restored(self, label: str) -> None:
        """The fault named `label` just ended: recovery is measured from now to the next progress."""
        self.restored.append((label, time.monotonic()))

    async def __aenter__(self) -> Monitor:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task:
            await self._task

    async def _run(self) -> None:
        admin: AIOKafkaAdminClient | None = None
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
            while not self._stop.is_set():
                counts = await self._progress()
                committed, ends, admin = await self._offsets(admin)
                if counts is not None:
                    self.samples.append(Sample(time.monotonic(), sum(counts), counts[2], committed, ends))
                await self._scrape(http)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()

    async def _progress(self) -> tuple[int, int, int] | None:
        try:
            issued = await _rows(
                self.ledgers.invoicing,
                "SELECT count(*) AS n FROM invoice WHERE seller_company_id = $1",
                self.flow.seller_id,
            )
            archived = await _rows(
                self.ledgers.signing,
                "SELECT count(*) AS n FROM archived_document WHERE seller_company_id = $1",
                self.flow.seller_id,
            )
            final = await _rows(
                self.ledgers.notifications,
                "SELECT count(*) AS n FROM delivery WHERE tenant = $1 AND status IN ('sent', 'unknown', 'failed')",
                self.flow.buyer_id,
            )
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return None
        return int(issued[0]["n"]), int(archived[0]["n"]), int(final[0]["n"])

    async def _offsets(
        self, admin: AIOKafkaAdminClient | None
    ) -> tuple[dict[int, int], dict[int, int], AIOKafkaAdminClient | None]:
        topic = catalogue.PARTNER_INVOICE_SUBMITTED.name
        try:
            if admin is None:
                admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
                await asyncio.wait_for(admin.start(), 5)
            offsets = await asyncio.wait_for(admin.list_consumer_group_offsets(INTAKE_GROUP), 5)
            committed = {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}
            ends = {tp.partition: end for tp, end in (await topic_end_offsets(self.bootstrap, [topic])).items()}
            return committed, ends, admin
        except Exception:
            if admin is not None:
                with contextlib.suppress(Exception):
                    await admin.close()
            return {}, {}, None

    async def _scrape(self, http: httpx.AsyncClient) -> None:
        for service, url in self.metrics_urls.items():
            try:
                text = (await http.get(url)).text
            except httpx.HTTPError:
                continue
            values = {
                "duplicates": _metric_sum(text, "factora_messages_consumed_total", 'outcome="duplicate"'),
                "retries": _metric_sum(text, "factora_handler_retries_total", ""),
                "relay_failures": _metric_sum(text, "factora_outbox_relay_failures_total", ""),
            }
            for family, value in values.items():
                if (service, family) not in self._counters:
                    # The counters count since the process started: only what happens from now is ours.
                    self._counters[(service, family)] = (-value, value)
                    continue
                base, last = self._counters[(service, family)]
                if value < last:  # the process restarted: its counter began again at zero
                    base += last
                self._counters[(service, family)] = (base, value)

    def counter(self, family: str) -> int:
        """A /metrics counter summed over services and restarts (as last scraped)."""
        return int(sum(base + last for (_, fam), (base, last) in self._counters.items() if fam == family))

    def recovery_s(self) -> float | None:
        """Longest time from a fault's end to the next progress in the systems of record."""
        worst: float | None = None
        for _, at in self.restored:
            before = [s.progress for s in self.samples if s.at <= at]
            after = [s for s in self.samples if s.at > at]
            base = before[-1] if before else 0
            moved = next((s.at for s in after if s.progress > base), None)
            if moved is not None:
                worst = max(worst or 0.0, moved - at)
        return worst

    def longest_stall_s(self) -> float:
        """Longest time a partition of the intake topic had records waiting and its committed offset did not move."""
        longest = 0.0
        since: dict[int, tuple[float, int]] = {}
        for sample in self.samples:
            for partition, end in sample.ends.items():
                offset = sample.committed.get(partition, -1)
                if offset >= end:
                    since.pop(partition, None)
                    continue
                start = since.get(partition)
                if start is None or start[1] != offset:
                    since[partition] = (sample.at, offset)
                else:
                    longest = max(longest, sample.at - start[0])
        return longest

    def longest_pipeline_stall_s(self) -> float:
        """Longest time the flow's progress counter stood still while work was outstanding."""
        longest, last_at, last = 0.0, None, None
        target = 3 * len(self.flow.sent)
        for sample in self.samples:
            if last is None or sample.progress != last or sample.progress >= target:
                last, last_at = sample.progress, sample.at
            elif last_at is not None:
                longest = max(longest, sample.at - last_at)
        return longest


def _metric_sum(text: str, family: str, label: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(family) and not line.startswith(family + "_created") and label in line:
            with contextlib.suppress(ValueError):
                total += float(line.rsplit(" ", 1)[1])
    return total


async def wait_until(check: Callable[[], Awaitable[bool]], timeout_s: float, poll_s: float = 0.5) -> bool:
    """Poll `check` until true or the timeout; whether it became true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if await check():
                return True
        await asyncio.sleep(poll_s)
    return False


DUPLICATE_FIGURES = ("dup_invoices", "dup_archive", "dup_ledger", "dup_emails", "rejected_good")


def assert_exactly_once(figures: dict[str, Any], *, cut_mid_send: int = 0) -> None:
    """No duplicate anywhere, and nothing lost but e-mails left in doubt by a send cut off mid-way.

    `cut_mid_send` is how many SMTP transactions the scenario may have cut (one per e-mail lane each
    time the sender or the relay died): such a message is recorded 'unknown' and never re-sent, as
    the relay may keep a message it did not acknowledge. Any other missing e-mail is a loss.
    """
    for name in DUPLICATE_FIGURES:
        assert figures[name] == 0, (name, figures)
    assert figures["lost"] == figures["in_doubt"] <= cut_mid_send, figures
