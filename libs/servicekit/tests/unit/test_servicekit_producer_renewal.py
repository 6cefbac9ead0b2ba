"""SafeProducer replaces an idempotent producer whose sequence state the broker no longer accepts."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import KafkaTimeoutError, OutOfOrderSequenceNumber
from aiokafka.structs import RecordMetadata, TopicPartition

from servicekit.producer import SafeProducer
from servicekit.settings import KafkaSettings

pytestmark = pytest.mark.unit


class FakeProducer:
    """Answers every send with `error`, or acknowledges it at the next offset."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.started = self.stopped = False
        self.sent: list[bytes] = []

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic, value, key, headers):  # type: ignore[no-untyped-def]
        if self.error is not None:
            raise self.error
        self.sent.append(value)
        done: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        done.set_result(RecordMetadata(topic, 0, TopicPartition(topic, 0), len(self.sent), -1, 0, 0))
        return done


async def started_with(*producers: FakeProducer, monkeypatch) -> SafeProducer:  # type: ignore[no-untyped-def]
    safe = SafeProducer(KafkaSettings(bootstrap_servers="127.0.0.1:1", send_timeout_s=1.0), client_id="test")
    queue = list(producers)
    monkeypatch.setattr(safe, "_build", lambda: queue.pop(0))
    await safe.start()
    return safe


async def test_an_out_of_order_sequence_error_replaces_the_producer_and_the_next_send_goes_through(monkeypatch):
    broken, fresh = FakeProducer(OutOfOrderSequenceNumber()), FakeProducer()
    safe = await started_with(broken, fresh, monkeypatch=monkeypatch)
    with pytest.raises(OutOfOrderSequenceNumber):
        await safe.send_batch([("topic.v1", "k", {"ce_id": "e-1"}, b"one")])
    assert broken.stopped and fresh.started and safe.renewals == 1
    await safe.send_batch([("topic.v1", "k", {"ce_id": "e-1"}, b"one")])  # the relay's next pass
    assert fresh.sent == [b"one"]


async def test_an_ordinary_failure_keeps_the_producer(monkeypatch):
    slow, spare = FakeProducer(KafkaTimeoutError()), FakeProducer()
    safe = await started_with(slow, spare, monkeypatch=monkeypatch)
    with pytest.raises(KafkaTimeoutError):
        await safe.send_batch([("topic.v1", "k", {}, b"one")])
    assert safe.renewals == 0 and not slow.stopped and not spare.started
