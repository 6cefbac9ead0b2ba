"""HttpSmsGateway against a small real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from notifications.adapters import SendOutcome
from notifications.adapters.sms import HttpSmsGateway, HttpSmsSettings

pytestmark = pytest.mark.integration

TOKEN = "tok_integration_42"


class Provider:
    """What the fake provider answers next, and what it received."""

    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0
        self.hang_up = False
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
def provider() -> Iterator[tuple[Provider, str]]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"headers": dict(self.headers), "body": json.loads(body)})
            time.sleep(state.delay)
            if state.hang_up:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            payload = json.dumps({"id": f"prov-{len(state.requests)}"}).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/messages"
    finally:
        server.shutdown()
        server.server_close()


def gateway(url: str, timeout: float = 2.0) -> HttpSmsGateway:
    return HttpSmsGateway(HttpSmsSettings(url=url, token=SecretStr(TOKEN), timeout=timeout))


async def test_sms_is_accepted_with_its_idempotency_key(provider: tuple[Provider, str]) -> None:
    state, url = provider
    sms = gateway(url)
    try:
        result = await sms.send("+33612345678", "Factora : votre code est 123456.", "ledger-7")
    finally:
        await sms.aclose()

    assert (result.outcome, result.provider_ref) == (SendOutcome.SENT, "prov-1")
    [request] = state.requests
    assert request["headers"]["Idempotency-Key"] == "ledger-7"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["body"]["text"] == "Factora : votre code est 123456."


@pytest.mark.parametrize(("status", "outcome"), [(503, SendOutcome.TRANSIENT), (400, SendOutcome.PERMANENT)])
async def test_provider_errors_are_classified(
    provider: tuple[Provider, str], status: int, outcome: SendOutcome
) -> None:
    state, url = provider
    state.status = status
    sms = gateway(url)
    try:
        result = await sms.send("+33612345678", "hi", "k")
    finally:
        await sms.aclose()

    assert (result.outcome, result.code) == (outcome, status)


async def test_no_answer_in_time_is_unknown(provider: tuple[Provider, str]) -> None:
    state, url = provider
    state.delay = 0.6
    sms = gateway(url, timeout=0.2)
    try:
        result = await sms.send("+33612345678", "hi", "k")
    finally:
        await sms.aclose()

    assert len(state.requests) == 1  # the provider got it; only its answer is missing
    assert result.outcome is SendOutcome.UNKNOWN


async def test_provider_hanging_up_after_the_request_is_unknown(provider: tuple[Provider, str]) -> None:
    state, url = provider
    state.hang_up = True
    sms = gateway(url)
    try:
        result = await sms.send("+33612345678", "hi", "k")
    finally:
        await sms.aclose()

    assert result.outcome is SendOutcome.UNKNOWN


async def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sms = gateway(f"http://127.0.0.1:{port}/messages")
    try:
        result = await sms.send("+33612345678", "hi", "k")
    finally:
        await sms.aclose()

    assert (result.outcome, result.stage) == (SendOutcome.TRANSIENT, "request")
