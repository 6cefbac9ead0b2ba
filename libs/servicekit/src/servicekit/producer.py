"""The one Kafka producer of a service: idempotent, acks=all, every send bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaProducer

from servicekit.settings import KafkaSettings

Record = tuple[str, str | None, Mapping[str, str], bytes]


class SafeProducer:
    """Wraps AIOKafkaProducer with the delivery guarantees ARCHITECTURE.md requires."""

    def __init__(self, settings: KafkaSettings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._timeout = settings.send_timeout_s
        self._producer: AIOKafkaProducer | None = None

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("SafeProducer used before start()")
        return self._producer

    async def start(self) -> None:
        # aiokafka binds to the running loop, so the client is built here, not in __init__.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._settings.bootstrap_servers,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            request_timeout_ms=int(self._timeout * 1000),
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send_batch(self, records: Sequence[Record]) -> None:
        """Send all records and wait until every one is acknowledged by the broker."""
        futures = [
            await self.producer.send(
                topic,
                value=payload,
                key=key.encode() if key else None,
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
            for topic, key, headers, payload in records
        ]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=self._timeout)

    async def send(self, topic: str, key: bytes | None, headers: Sequence[tuple[str, bytes]], value: bytes) -> None:
        """Send one raw record (used for dead letters, which keep the original bytes)."""
        future = await self.producer.send(topic, value=value, key=key, headers=list(headers))
        await asyncio.wait_for(future, timeout=self._timeout)

    async def is_connected(self) -> bool:
        """True when the producer can fetch cluster metadata."""
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=3)
            return True
        except Exception:
            return False
