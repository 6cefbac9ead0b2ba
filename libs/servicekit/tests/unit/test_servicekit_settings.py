"""Settings come from the environment: KAFKA_* for every service, <SERVICE>_* for its own fields."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from servicekit.settings import KafkaSettings, ServiceSettings

pytestmark = pytest.mark.unit


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")


@pytest.fixture
def clean_env(monkeypatch):
    # A developer's shell must not leak into these tests.
    for name in list(os.environ):
        if name.startswith(("KAFKA_", "DEMO_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_kafka_settings_read_the_kafka_prefix(clean_env):
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-1:9092,broker-2:9092")
    clean_env.setenv("KAFKA_RETRY_ATTEMPTS", "7")
    clean_env.setenv("KAFKA_SEND_TIMEOUT_S", "2.5")
    kafka = KafkaSettings()
    assert kafka.bootstrap_servers == "broker-1:9092,broker-2:9092"
    assert kafka.retry_attempts == 7
    assert kafka.send_timeout_s == 2.5


def test_kafka_settings_default_to_the_local_broker(clean_env):
    kafka = KafkaSettings()
    assert kafka.bootstrap_servers == "127.0.0.1:19092"
    assert kafka.retry_base_delay_s <= kafka.retry_max_delay_s


def test_a_service_subclass_reads_its_own_prefix_and_the_shared_kafka_one(clean_env):
    clean_env.setenv("DEMO_SERVICE_NAME", "demo")
    clean_env.setenv("DEMO_DATABASE_URL", "postgresql+asyncpg://demo:s3cret@db:5432/demo")
    clean_env.setenv("DEMO_HTTP_PORT", "8042")
    clean_env.setenv("DEMO_OUTBOX_BATCH_SIZE", "50")
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.internal:9092")
    settings = DemoSettings()
    assert settings.service_name == "demo"
    assert settings.http_port == 8042
    assert settings.outbox_batch_size == 50
    assert settings.database_url.get_secret_value() == "postgresql+asyncpg://demo:s3cret@db:5432/demo"
    assert settings.kafka.bootstrap_servers == "kafka.internal:9092"
    assert settings.source == "/factora/demo"


def test_the_database_password_does_not_show_in_the_settings_repr(clean_env):
    settings = DemoSettings(service_name="demo", database_url="postgresql+asyncpg://demo:s3cret@db/demo", http_port=1)
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings.model_dump())


def test_unprefixed_variables_are_not_read_by_a_service(clean_env):
    clean_env.setenv("SERVICE_NAME", "wrong")
    clean_env.setenv("HTTP_PORT", "1")
    clean_env.setenv("DATABASE_URL", "postgresql+asyncpg://x@y/z")
    with pytest.raises(ValidationError) as caught:
        DemoSettings()
    missing = {err["loc"][0] for err in caught.value.errors() if err["type"] == "missing"}
    assert missing == {"service_name", "database_url", "http_port"}
