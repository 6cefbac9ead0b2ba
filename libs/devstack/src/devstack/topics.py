"""Creates every catalogue topic and its dead-letter twin on a broker, idempotently."""

# ruff: noqa: ASYNC109 - our timeouts are polling deadlines and SIGTERM-to-SIGKILL grace
# periods, which asyncio.timeout() cannot express.

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devstack.errors import StackError

if TYPE_CHECKING:
    from contracts.catalogue import TopicSpec

TOPIC_ALREADY_EXISTS = 36


@dataclass(frozen=True)
class TopicPlan:
    """One topic to create: name, partitions and config."""

    name: str
    partitions: int
    config: dict[str, str]


def plan_topics(specs: tuple[TopicSpec, ...] | None = None) -> list[TopicPlan]:
    """Each catalogue topic, then its .dlq twin (same partitions so a key keeps its partition)."""
    # Imported here: the pydantic models behind the catalogue cost ~0.5 s, and the pytest
    # plugin (loaded by every session) only needs them when a test asks for Kafka.
    from contracts.catalogue import TOPICS

    plans: list[TopicPlan] = []
    for spec in TOPICS if specs is None else specs:
        plans.append(TopicPlan(spec.name, spec.partitions, {**spec.config, "retention.ms": str(spec.retention_ms)}))
        plans.append(
            TopicPlan(
                spec.dlq,
                spec.partitions,
                {**spec.config, "retention.ms": str(spec.dlq_retention_ms)},
            )
        )
    return plans


def replication_factor() -> int:
    """Replicas per topic: 1 for the local broker, FACTORA_KAFKA_REPLICATION_FACTOR for a cluster."""
    return int(os.environ.get("FACTORA_KAFKA_REPLICATION_FACTOR", "1"))


async def ensure_topics(bootstrap: str, *, timeout: float = 30.0) -> list[str]:
    """Create the missing catalogue topics; returns the names created (existing ones are kept)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    plans = plan_topics()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [p for p in plans if p.name not in existing]
        if missing:
            rf = replication_factor()
            response = await admin.create_topics(
                [NewTopic(p.name, p.partitions, rf, topic_configs=p.config) for p in missing],
                timeout_ms=int(timeout * 1000),
            )
            failures = [
                f"{name}: error {code} {message or ''}".strip()
                for name, code, message in _topic_errors(response)
                if code not in (0, TOPIC_ALREADY_EXISTS)
            ]
            if failures:
                raise StackError(f"creating Kafka topics on {bootstrap} failed: {'; '.join(failures)}")
            await _wait_visible(admin, {p.name for p in plans}, timeout)
        return [p.name for p in missing]
    except StackError:
        raise
    except Exception as exc:
        raise StackError(f"cannot create Kafka topics on {bootstrap}: {exc!r}") from None
    finally:
        await admin.close()


def _topic_errors(response: object) -> list[tuple[str, int, str]]:
    # CreateTopicsResponse v0 has (name, code); v1+ adds the message; later versions add more.
    rows = getattr(response, "topic_errors", None) or getattr(response, "topics", None) or []
    return [(str(r[0]), int(r[1]), str(r[2]) if len(r) > 2 and r[2] else "") for r in rows]


async def _wait_visible(admin: object, names: set[str], timeout: float) -> None:
    # The controller commits creation before every broker's metadata cache has the topics;
    # a producer started right after would see "unknown topic" for a moment.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if names <= set(await admin.list_topics()):  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.1)
    raise StackError(f"Kafka topics not visible after {timeout:.0f} s")
