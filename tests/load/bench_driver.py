"""The load generator: signed partner invoices published at a fixed offered rate, paced on the wall clock."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from bench_parties import PARTNER_ID, TradingPair

from contracts import catalogue
from contracts.examples import sample_partner_invoice, signed_sample_record
from contracts.v1 import PartnerInvoiceSubmitted

TICK_S = 0.02


@dataclass
class Submission:
    """One invoice sent: when (epoch seconds, taken just before the send) and in which step."""

    external_id: str
    sent_at: float
    step: int


@dataclass
class Driver:
    """Publishes `invoicing.partner-invoice-submitted.v1` records round-robin over the trading pairs."""

    bootstrap: str
    pairs: list[TradingPair]
    submissions: dict[str, Submission] = field(default_factory=dict)
    _producer: AIOKafkaProducer | None = None

    def __post_init__(self) -> None:
        self._templates = [self._template(pair) for pair in self.pairs]
        self._next_pair = itertools.cycle(range(len(self.pairs)))

    @staticmethod
    def _template(pair: TradingPair) -> PartnerInvoiceSubmitted:
        event = sample_partner_invoice()
        return event.model_copy(
            update={
                "partner_id": PARTNER_ID,
                "seller": event.seller.model_copy(update={"company_id": pair.seller_id}),
                "buyer": event.buyer.model_copy(
                    update={"company_id": pair.buyer_id, "email": None, "address": event.seller.address}
                ),
            }
        )

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all", linger_ms=2
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def _send_one(self, step: int) -> asyncio.Future:
        assert self._producer is not None
        index = next(self._next_pair)
        pair = self.pairs[index]
        external_id = f"LB-{uuid.uuid4().hex[:16]}"
        event = self._templates[index].model_copy(update={"external_id": external_id})
        key, headers, value = signed_sample_record(event, private_key=pair.private_key, key_id=pair.key_id)
        self.submissions[external_id] = Submission(external_id, time.time(), step)
        return await self._producer.send(
            catalogue.PARTNER_INVOICE_SUBMITTED.name,
            value,
            key=key.encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )

    async def run_step(self, step: int, rate: float, duration_s: float) -> int:
        """Send `rate` invoices per second for `duration_s`; returns how many were sent (all acknowledged)."""
        started = time.monotonic()
        total = int(duration_s * rate)
        sent = 0
        pending: list[asyncio.Future] = []
        while sent < total:
            # Past the end of the step (a late tick on a busy machine), whatever is left goes at once.
            due = min(total, int((time.monotonic() - started) * rate) + 1)
            while sent < due:
                pending.append(await self._send_one(step))
                sent += 1
            if len(pending) > 500:
                await asyncio.gather(*pending)
                pending.clear()
            if sent < total:
                await asyncio.sleep(TICK_S)
        await asyncio.gather(*pending)
        return sent
