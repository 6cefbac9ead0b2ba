"""The per-process runtime of a service: database, producer, outbox relay and Kafka consumers."""

from __future__ import annotations

import asyncio
import logging

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from contracts.catalogue import TopicSpec
from servicekit.consumer import ConsumerRuntime, Handler, InvalidHandler, Prepare, subscribe_event
from servicekit.db import database_is_ready, make_engine, make_session_factory
from servicekit.lag import ConsumerLagMonitor, broker_subscriptions
from servicekit.outbox import OutboxRelay
from servicekit.producer import SafeProducer
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)


class ServiceRuntime:
    """Builds the shared runtime parts once; `start`/`stop` order them safely."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        name = settings.service_name
        self.engine = make_engine(settings.database_url.get_secret_value(), pool_size=settings.db_pool_size)
        self.sessions = make_session_factory(self.engine)
        self.producer = SafeProducer(settings.kafka, client_id=f"{name}-producer")
        self.relay = OutboxRelay(
            self.sessions,
            self.producer,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
        )
        self.broker = KafkaBroker(
            settings.kafka.bootstrap_servers,
            client_id=f"{name}-consumer",
            graceful_timeout=30.0,
            logger=logging.getLogger("faststream"),
            middlewares=[
                KafkaTelemetryMiddleware(),
                KafkaPrometheusMiddleware(registry=REGISTRY, app_name=name),
            ],
            description=f"Kafka topics the {name} service consumes and publishes.",
            # A fixed address keeps the committed AsyncAPI documents independent of the environment.
            specification_url="kafka.factora.internal:9092",
        )
        # Lag per group and partition, and the size of the DLQs this service writes, every 15 s.
        self.lag = ConsumerLagMonitor(
            settings.kafka, lambda: broker_subscriptions(self.broker), client_id=f"{name}-lag"
        )
        self.consumers = ConsumerRuntime(
            service=name,
            sessions=self.sessions,
            producer=self.producer,
            kafka=settings.kafka,
            after_commit=self.relay.wake,
        )
        self._started = False

    def subscribe(
        self,
        spec: TopicSpec,
        handler: Handler,
        *,
        on_invalid: InvalidHandler | None = None,
        group_id: str | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        """Consume `spec` in a group of its own per service (fewer cross-topic rebalances)."""
        subscribe_event(
            self.broker,
            spec,
            handler,
            runtime=self.consumers,
            group_id=group_id or f"{self.settings.service_name}.{spec.name}",
            on_invalid=on_invalid,
            prepare=prepare,
        )

    def declare_publications(self, *specs: TopicSpec) -> None:
        """Document the topics this service writes (through the outbox) in its AsyncAPI."""
        for spec in specs:
            self.broker.publisher(spec.name, schema=spec.schema, title=spec.name, description=spec.description)

    async def start(self) -> None:
        """Producer first (the relay and dead letters need it), then relay, then consumers."""
        await self.producer.start()
        self.relay.start()
        await self.broker.start()
        self.lag.start()
        self._started = True

    async def stop_consuming(self) -> None:
        """Stop taking messages; in-flight handlers finish (FastStream's graceful timeout)."""
        if self._started:
            await self.broker.stop()

    async def stop(self) -> None:
        """Consumers stop, the relay flushes, then connections close."""
        if self._started:
            await self.lag.stop()
            await self.broker.stop()
            await self.relay.stop()
            await self.producer.stop()
        await self.engine.dispose()
        self._started = False

    async def readiness(self) -> dict[str, bool]:
        """Which dependencies answer right now."""
        database, kafka = await asyncio.gather(database_is_ready(self.engine), self.producer.is_connected())
        return {"database": database, "kafka": kafka and self._started}
