"""Fixtures for devstack's own tests: free ports and a throwaway HTTP 'service'."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

FAKE_SERVICE = r"""
import http.server, json, os, sys

name = sys.argv[1]
port = int(os.environ[f"{name.upper()}_HTTP_PORT"])
crash_dir = os.environ.get("FAKE_CRASH_ONCE_DIR")
if crash_dir:
    marker = os.path.join(crash_dir, name + ".crashed")
    if not os.path.exists(marker):
        open(marker, "w").close()
        print("crashing on purpose", flush=True)
        sys.exit(7)
if os.environ.get("FAKE_FAIL"):
    print("boom: cannot reach the database", flush=True)
    sys.exit(3)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health/ready":
            body = b'{"status": "ready"}'
        elif self.path == "/env":
            body = json.dumps(dict(os.environ)).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


print(f"fake {name} listening on {port}", flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def free_port():
    """Call it to get a TCP port nothing listens on right now."""
    return _free_port


@pytest.fixture
def fake_service_command(tmp_path: Path):
    """A command factory like devstack.services.default_command, running a tiny HTTP server instead."""
    script = tmp_path / "fake_service.py"
    script.write_text(FAKE_SERVICE)
    return lambda name: [sys.executable, str(script), name]
