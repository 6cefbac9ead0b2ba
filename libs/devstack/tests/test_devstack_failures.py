"""Servers that fail to start are reported in one line that points at their log file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from devstack.config import PortSpec, kafka_home, repo_root
from devstack.errors import StackError
from devstack.kafka import KafkaBroker
from devstack.kafka_jars import ensure_jars
from devstack.postgres import PostgresCluster

pytestmark = pytest.mark.integration


async def test_a_postgres_that_cannot_start_points_at_its_log(tmp_path, free_port):
    log = tmp_path / "postgres.log"
    cluster = PostgresCluster(root_dir=tmp_path / "pg", port=PortSpec("PostgreSQL", free_port(), "X"), log_path=log)
    (tmp_path / "pg" / "data").mkdir(parents=True)
    # A data folder from a PostgreSQL major version that does not exist.
    (tmp_path / "pg" / "data" / "PG_VERSION").write_text("99\n")

    with pytest.raises(StackError) as err:
        await cluster.start(timeout=20)

    message = str(err.value)
    assert re.match(r"PostgreSQL did not start: exit code \d+: postgres: ", message)
    assert message.endswith(f"see its log {log}")
    assert "\n" not in message
    await cluster.stop()


def _kafka_home_copy(tmp_path: Path, template_edit=lambda t: t) -> Path:
    real = kafka_home(repo_root())
    ensure_jars(real)
    home = tmp_path / "kafka-home"
    home.mkdir()
    for name in ("pom.xml", "log4j2.properties"):
        shutil.copy(real / name, home / name)
    (home / "lib").symlink_to(real / "lib")
    template = (real / "server.properties.template").read_text()
    (home / "server.properties.template").write_text(template_edit(template))
    return home


def _broker(tmp_path: Path, home: Path, free_port) -> KafkaBroker:
    return KafkaBroker(
        home=home,
        data_dir=tmp_path / "data",
        port=PortSpec("Kafka", free_port(), "FACTORA_KAFKA_PORT"),
        controller_port=PortSpec("Kafka controller", free_port(), "FACTORA_KAFKA_CONTROLLER_PORT"),
        log_path=tmp_path / "kafka.log",
    )


async def test_a_bad_broker_config_fails_the_storage_format_with_the_exception_line(tmp_path, free_port):
    home = _kafka_home_copy(tmp_path, lambda t: t.replace("node.id=1", "node.id=not-a-number"))
    broker = _broker(tmp_path, home, free_port)

    with pytest.raises(StackError) as err:
        await broker.start(timeout=60)

    message = str(err.value)
    assert message.startswith("Kafka did not start: storage format failed: ")
    assert "ConfigException: Invalid value not-a-number" in message
    assert message.endswith(f"see its log {tmp_path / 'kafka.log'}")
    assert "ConfigException" in (tmp_path / "kafka.log").read_text()


async def test_a_broker_that_exits_at_start_is_reported_with_its_exit_code_and_log(tmp_path, free_port):
    broker = _broker(tmp_path, _kafka_home_copy(tmp_path), free_port)
    # Storage formatted for another node: the broker refuses it when it starts.
    meta = tmp_path / "data" / "kraft" / "meta.properties"
    meta.parent.mkdir(parents=True)
    meta.write_text("version=1\ncluster.id=Zx7Kq0uQTcGkq9Q0pG3Z1w\nnode.id=7\ndirectory.id=Zx7Kq0uQTcGkq9Q0pG3Z1w\n")

    with pytest.raises(StackError) as err:
        await broker.start(timeout=60)

    message = str(err.value)
    assert re.match(r"Kafka did not start: exit code \d+: ", message)
    assert message.endswith(f"see its log {tmp_path / 'kafka.log'}")
    assert "\n" not in message
    await broker.stop()
