"""Settings base shared by every service: Kafka, database, HTTP and telemetry knobs."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """Kafka connection, shared by all services (env prefix KAFKA_)."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = Field(default="127.0.0.1:19092", description="Comma-separated host:port list of brokers.")
    send_timeout_s: float = Field(default=10.0, description="Upper bound on one publish.")
    retry_attempts: int = Field(
        default=5, description="In-process attempts of a handler before giving up on a message."
    )
    retry_base_delay_s: float = Field(
        default=0.2, description="First back-off delay; doubles each attempt, with jitter."
    )
    retry_max_delay_s: float = Field(default=5.0, description="Cap on one back-off delay.")
    batch_max_records: int = Field(
        default=50,
        ge=1,
        description="Most records a consumer takes at once; their events are handled in one transaction.",
    )
    batch_timeout_ms: int = Field(
        default=50, ge=1, description="How long a consumer waits for records before it looks again (ms)."
    )
    max_partition_fetch_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description=(
            "Most bytes one fetch buffers per partition. A consumer drains a partition's buffer before it "
            "moves on, so a small buffer takes turns between busy partitions instead of starving all but one."
        ),
    )


class ServiceSettings(BaseSettings):
    """Fields every service has; each service subclasses it with its own env prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = Field(description="Short name of the service, e.g. invoicing.")
    database_url: SecretStr = Field(
        description="SQLAlchemy URL of the service's own database (postgresql+asyncpg://...)."
    )
    http_host: str = Field(default="127.0.0.1", description="Interface the HTTP API binds to.")
    http_port: int = Field(description="Port of the HTTP API.")
    db_pool_size: int = Field(default=5, description="Connections kept in the pool.")
    outbox_batch_size: int = Field(default=200, description="Rows the relay publishes per batch.")
    outbox_poll_interval_s: float = Field(
        default=0.5, description="How often the relay looks for rows written by other processes."
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)

    @property
    def source(self) -> str:
        """CloudEvents ce_source of events this service publishes."""
        return f"/factora/{self.service_name}"
