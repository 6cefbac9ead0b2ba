"""`factora-stack infra`, `status` and `down` as a developer runs them, on free ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from contracts.catalogue import all_topic_names
from devstack.ports import port_is_free
from devstack.procs import pid_alive

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def stack_env(tmp_path, free_port):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    for var in ("KAFKA_BOOTSTRAP_SERVERS", "SMTP_HOST"):
        env.pop(var, None)
    kafka = free_port()
    controller = free_port()
    env |= {
        "FACTORA_STATE_DIR": str(tmp_path / "stack"),
        "FACTORA_KAFKA_PORT": str(kafka),
        "FACTORA_KAFKA_CONTROLLER_PORT": str(controller),
        "FACTORA_PG_PORT": str(free_port()),
        "FACTORA_SMTP_PORT": str(free_port()),
    }
    return env


def _wait_for_summary(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Ctrl-C stops everything"):
            return "".join(lines)
    raise AssertionError("no summary:\n" + "".join(lines) + (proc.stderr.read() if proc.poll() is not None else ""))


def test_infra_runs_in_the_foreground_and_down_stops_everything(stack_env, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack", "infra"],
        env=stack_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        summary = _wait_for_summary(proc)
        assert "Factora infrastructure is up in" in summary
        assert f"Kafka bootstrap   127.0.0.1:{stack_env['FACTORA_KAFKA_PORT']}" in summary
        assert "mail folder" in summary

        status = _cli("status", env=stack_env)
        assert status.returncode == 0, status.stdout + status.stderr
        wanted = len(all_topic_names())
        assert f"{wanted}/{wanted} catalogue topics" in status.stdout
        assert "ok    db support" in status.stdout

        second = _cli("infra", env=stack_env)
        assert second.returncode == 1
        assert "a stack is already running" in second.stderr

        state = json.loads((tmp_path / "stack" / "stack.json").read_text())
        children = [p["pid"] for p in state["processes"].values()]
        assert len(children) == 2

        down = _cli("down", env=stack_env, timeout=120)
        assert down.returncode == 0, down.stderr
        assert f"supervisor pid {proc.pid} stopped" in down.stdout
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    assert not any(pid_alive(p) for p in children)
    for var in ("FACTORA_KAFKA_PORT", "FACTORA_PG_PORT", "FACTORA_SMTP_PORT"):
        assert port_is_free(int(stack_env[var]))
    assert not (tmp_path / "stack" / "stack.json").exists()
    status = _cli("status", env=stack_env)
    assert status.returncode == 1
    assert "no running stack recorded" in status.stdout
