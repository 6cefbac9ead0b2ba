"""The one-line errors a developer sees when the stack cannot start."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from devstack import cli
from devstack.config import PortSpec
from devstack.errors import StackError
from devstack.kafka_jars import check_java, ensure_jars, maven_last_error, parse_java_version
from devstack.ports import ensure_port_free, port_is_free

pytestmark = pytest.mark.unit


def _fake_tool(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def listening(free_port):
    port = free_port()
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    yield port
    sock.close()


def test_port_in_use_names_the_part_the_port_and_the_variable(listening):
    with pytest.raises(StackError) as err:
        ensure_port_free(PortSpec("Kafka", listening, "FACTORA_KAFKA_PORT"))
    message = str(err.value)
    assert "Kafka" in message
    assert str(listening) in message
    assert "FACTORA_KAFKA_PORT" in message
    assert "\n" not in message


def test_a_free_port_passes_the_check(free_port):
    port = free_port()
    assert port_is_free(port)
    ensure_port_free(PortSpec("SMTP catcher", port, "FACTORA_SMTP_PORT"))


def test_stack_error_folds_tool_output_onto_one_line():
    assert str(StackError("first\n  second\tthird")) == "first second third"


def test_cli_infra_with_a_busy_port_exits_1_with_one_line_on_stderr(
    listening, free_port, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("FACTORA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("FACTORA_PG_PORT", str(listening))
    # The other default ports may be busy on a shared machine: point them at free ones.
    for var in ("FACTORA_KAFKA_PORT", "FACTORA_KAFKA_CONTROLLER_PORT", "FACTORA_SMTP_PORT"):
        monkeypatch.setenv(var, str(free_port()))
    for var in ("KAFKA_BOOTSTRAP_SERVERS", "SMTP_HOST"):
        monkeypatch.delenv(var, raising=False)
    for service in ("IDENTITY", "INVOICING", "SIGNING", "NOTIFICATIONS", "SUPPORT"):
        monkeypatch.delenv(f"{service}_DATABASE_URL", raising=False)

    assert cli.main(["infra"]) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("factora-stack: error: PostgreSQL cannot start: port ")
    assert "FACTORA_PG_PORT" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "22-ea" 2024-03-19', 22),
    ],
)
def test_java_versions_are_read_from_java_dash_version(text, major):
    parsed = parse_java_version(text)
    assert parsed is not None
    assert parsed[0] == major


def test_missing_java_says_to_install_17_or_use_an_external_broker(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(StackError, match=r"Java 17 or newer.*KAFKA_BOOTSTRAP_SERVERS"):
        check_java()


def test_old_java_is_refused_with_its_version(tmp_path, monkeypatch):
    _fake_tool(tmp_path / "bin", "java", "echo 'openjdk version \"11.0.22\" 2024-01-16' >&2\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(StackError, match=r"needs Java 17 or newer but .*java is version 11\.0\.22"):
        check_java()


def _kafka_home(tmp_path: Path) -> Path:
    home = tmp_path / "kafka"
    home.mkdir()
    (home / "pom.xml").write_text("<project/>")
    return home


def test_missing_maven_is_reported_when_jars_are_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(StackError, match=r"Kafka jars are not in .*lib and `mvn` was not found"):
        ensure_jars(_kafka_home(tmp_path))


MAVEN_FAILURE = """\
[ERROR] Failed to execute goal on project kafka-broker-libs: Could not resolve dependencies for \
project io.factora.local:kafka-broker-libs:pom:1: Could not transfer artifact \
org.apache.kafka:kafka_2.13:jar:4.1.1 from/to central: Connection refused
[ERROR]
[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.
[ERROR] Re-run Maven using the -X switch to enable full debug logging.
[ERROR]
[ERROR] For more information about the errors and possible solutions, please read the following articles:
[ERROR] [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/DependencyResolutionException
"""


def test_maven_failure_shows_mavens_last_real_error_line(tmp_path, monkeypatch):
    out = tmp_path / "maven-output.txt"
    out.write_text(MAVEN_FAILURE)
    _fake_tool(tmp_path / "bin", "mvn", f"cat {out}\nexit 1\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}/usr/bin:/bin")
    home = _kafka_home(tmp_path)

    with pytest.raises(StackError) as err:
        ensure_jars(home)

    message = str(err.value)
    assert message.startswith("fetching the Kafka jars with Maven failed: Failed to execute goal")
    assert "Connection refused" in message
    assert "[Help 1]" not in message
    assert not (home / "lib" / ".complete").exists()


def test_maven_last_error_skips_the_closing_boilerplate():
    assert maven_last_error(MAVEN_FAILURE).endswith("from/to central: Connection refused")
    assert maven_last_error("") == "no output"
