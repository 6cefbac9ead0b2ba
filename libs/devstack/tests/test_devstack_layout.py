"""Test sessions sharing one checkout: the second one gets a private folder and free ports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from devstack.config import ports_for_tests
from devstack.procs import cmdline
from devstack.pytest_plugin import PRIVATE_MARKER, _claim_layout, _reap_private_stacks
from devstack.state import StateFile

pytestmark = pytest.mark.unit


@pytest.fixture
def fake_repo(tmp_path, monkeypatch):
    monkeypatch.setenv("FACTORA_REPO_ROOT", str(tmp_path))
    monkeypatch.delenv("FACTORA_TEST_STACK_DIR", raising=False)
    return tmp_path


def test_a_free_shared_folder_is_claimed_with_the_default_ports(fake_repo):
    layout = _claim_layout()
    assert layout.directory == fake_repo / ".local" / "test-stack"
    assert not layout.private
    assert layout.ports == ports_for_tests()
    assert StateFile(layout.directory).read()["mode"] == "pytest"


def test_a_busy_shared_folder_gives_a_private_folder_and_free_ports(fake_repo):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        shared = StateFile(fake_repo / ".local" / "test-stack")
        shared.write({"owner_pid": other.pid, "owner_cmdline": cmdline(other.pid), "processes": {}})

        layout = _claim_layout()

        assert layout.private
        assert layout.directory.name.startswith("test-stack-")
        assert (layout.directory / PRIVATE_MARKER).exists()
        defaults = ports_for_tests()
        assert layout.ports.postgres.port != defaults.postgres.port
        assert layout.ports.service("identity") != defaults.service("identity")
        assert shared.read()["owner_pid"] == other.pid
    finally:
        other.kill()
        other.wait()
    # Once its owner is gone (here: it is us, which never counts), the next session reaps it.
    _reap_private_stacks(fake_repo / ".local")
    assert not layout.directory.exists()


def test_an_explicit_busy_folder_fails_instead(fake_repo, monkeypatch):
    directory = fake_repo / "mine"
    monkeypatch.setenv("FACTORA_TEST_STACK_DIR", str(directory))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        StateFile(directory).write({"owner_pid": other.pid, "owner_cmdline": cmdline(other.pid)})
        with pytest.raises(pytest.fail.Exception, match="another test session"):
            _claim_layout()
    finally:
        other.kill()
        other.wait()
