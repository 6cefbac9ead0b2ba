"""Pure pieces of devstack: topic plan, cluster ids, config rendering, env, state, mail files."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contracts.catalogue import TOPICS, all_topic_names
from devstack.config import SERVICES, database_url, dev_ports, ports_for_tests
from devstack.kafka import random_cluster_id, render_server_properties
from devstack.pg_admin import asyncpg_dsn, host_port
from devstack.procs import pid_alive
from devstack.services import service_env
from devstack.smtp_catcher import list_messages, message_filename, store_message
from devstack.state import StateFile, stop_recorded
from devstack.topics import plan_topics

pytestmark = pytest.mark.unit


def test_topic_plan_has_every_topic_and_a_dlq_twin_with_dlq_retention():
    plans = {p.name: p for p in plan_topics()}
    assert sorted(plans) == sorted(all_topic_names())
    for spec in TOPICS:
        assert plans[spec.name].config["retention.ms"] == str(spec.retention_ms)
        assert plans[spec.dlq].config["retention.ms"] == str(spec.dlq_retention_ms)
        assert plans[spec.dlq].partitions == spec.partitions


def test_cluster_ids_look_like_storage_tool_random_uuid():
    ids = {random_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cid in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cid)
        assert not cid.startswith("-")


def test_server_properties_get_data_dir_and_both_ports(tmp_path):
    template = (Path(__file__).parents[3] / "deploy" / "local" / "kafka" / "server.properties.template").read_text()
    text = render_server_properties(template, tmp_path, 39092, 39093)
    assert f"log.dirs={tmp_path}/kraft" in text
    assert "listeners=PLAINTEXT://127.0.0.1:39092,CONTROLLER://127.0.0.1:39093" in text
    assert "auto.create.topics.enable=false" in text
    assert "@" not in text.replace("@127", "")


def test_ports_default_to_the_brief_and_move_with_env():
    ports = dev_ports({})
    assert (ports.kafka.port, ports.kafka_controller.port, ports.postgres.port, ports.smtp.port) == (
        19092,
        19093,
        15432,
        2525,
    )
    assert [ports.service(s) for s in SERVICES] == [8001, 8002, 8003, 8004, 8005]
    moved = dev_ports({"FACTORA_KAFKA_PORT": "9092", "SIGNING_HTTP_PORT": "9003"})
    assert (moved.kafka.port, moved.kafka_controller.port, moved.service("signing")) == (9092, 9093, 9003)
    test = ports_for_tests({})
    assert (test.kafka.port, test.kafka_controller.port, test.postgres.port) == (29092, 29093, 25432)
    assert [test.service(s) for s in SERVICES] == [28001, 28002, 28003, 28004, 28005]


def test_service_env_overlays_stack_addresses_on_the_parent_env(tmp_path):
    env = service_env(
        {"PATH": "/bin", "INVOICING_DATABASE_URL": "stale", "SMTP_USERNAME": "kept"},
        ports={s: 8001 + i for i, s in enumerate(SERVICES)},
        bootstrap="127.0.0.1:19092",
        database_urls={s: database_url(s, s, 15432, s) for s in SERVICES},
        smtp=("127.0.0.1", 2525),
        state_dir=tmp_path,
    )
    assert env["PATH"] == "/bin"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert env["INVOICING_DATABASE_URL"] == "postgresql+asyncpg://invoicing:invoicing@127.0.0.1:15432/invoicing"
    assert env["NOTIFICATIONS_HTTP_PORT"] == "8004"
    assert (env["SMTP_HOST"], env["SMTP_PORT"], env["SMTP_USERNAME"]) == ("127.0.0.1", "2525", "kept")
    assert env["FACTORA_STATE_DIR"] == str(tmp_path.resolve())
    assert env["IDENTITY_JWKS_URL"] == "http://127.0.0.1:8001/.well-known/jwks.json"
    assert env["SIGNING_BASE_URL"] == "http://127.0.0.1:8003"


def test_external_smtp_settings_pass_through_untouched(tmp_path):
    env = service_env(
        {"SMTP_HOST": "mail.example.test", "SMTP_PORT": "587", "SMTP_TLS": "starttls"},
        ports={s: 8001 + i for i, s in enumerate(SERVICES)},
        bootstrap="b:9092",
        database_urls={},
        smtp=None,
        state_dir=tmp_path,
    )
    assert (env["SMTP_HOST"], env["SMTP_PORT"], env["SMTP_TLS"]) == ("mail.example.test", "587", "starttls")


def test_sqlalchemy_urls_become_asyncpg_dsns():
    url = database_url("signing", "signing", 15432, "signing")
    assert asyncpg_dsn(url) == "postgresql://signing:signing@127.0.0.1:15432/signing"
    assert host_port(url) == ("127.0.0.1", 15432)


def test_mail_files_sort_in_arrival_order_and_are_whole(tmp_path):
    names = [message_filename() for _ in range(50)]
    assert names == sorted(names)
    assert len(set(names)) == 50
    for i in range(3):
        store_message(tmp_path, f"Subject: n{i}\r\nTo: a@example.test\r\n\r\nbody {i}\r\n".encode())
    assert [m["Subject"] for m in list_messages(tmp_path)] == ["n0", "n1", "n2"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_down_stops_recorded_children_and_clears_the_state(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    state = StateFile(tmp_path)
    state.write({"owner_pid": 999999999, "processes": {}})
    state.record("kafka", child.pid, "time.sleep(60)")
    # A recorded pid whose command line differs (pid reuse) is left alone.
    state.record("postgres", child.pid, "not-this-command")

    report = stop_recorded(state, owner_timeout=1, child_timeout=5)

    child.wait(5)
    assert any(line.startswith("kafka (pid") for line in report)
    assert not any("postgres" in line for line in report)
    assert not state.path.exists()
    assert not pid_alive(child.pid)


def test_pid_alive_treats_a_zombie_as_gone():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 5
    while pid_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(child.pid)
    child.wait()
