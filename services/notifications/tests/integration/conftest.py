"""Fixtures of the notifications integration tests: a migrated ledger, SMTP relays that fail on cue, dispatchers."""

from __future__ import annotations

import asyncio
import email.policy
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import text

import notifications
from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import SendRequested
from notifications.adapters.sms import FileSmsSink
from notifications.adapters.templating import TemplateRenderer
from notifications.service.dispatcher import DeliveryDispatcher, RetryPolicy, Throughput
from notifications.service.handlers import record_send_request
from servicekit.db import make_engine, make_session_factory
from servicekit.migrations import upgrade_to_head

MIGRATIONS = Path(notifications.__file__).parent / "migrations"
RENDERER = TemplateRenderer()
HOST = "127.0.0.1"
RELAY_USER, RELAY_PASSWORD = "relay-user", "relay-password-for-tests"


@pytest.fixture(scope="module")
async def ledger_database(fresh_database):
    """A brand-new notifications database at the newest migration, one per test module."""
    url = await fresh_database("notifications")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    engine = make_engine(url, pool_size=6)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def sessions(ledger_database):
    """The module's migrated database, emptied: a dispatcher claims every due row it can see."""
    async with ledger_database() as session, session.begin():
        await session.exec(text("TRUNCATE delivery, outbox, inbox"))
    return ledger_database


@pytest.fixture
def record_request(sessions) -> Callable[..., Awaitable[Envelope]]:
    """Record a send request as the consumer would: `await record_request(event, event_id=...)`."""

    async def record(event: SendRequested, *, event_id: str | None = None) -> Envelope:
        envelope = Envelope.new(
            source="/factora/invoicing", type=catalogue.SEND_REQUESTED.schema_name, tenant="c-env", id=event_id
        )
        async with sessions() as session, session.begin():
            await record_send_request(event, envelope, session)
        return envelope

    return record


@pytest.fixture
async def make_dispatcher(sessions, tmp_path):
    """`make_dispatcher(mailer, lanes=..., max_attempts=...)`; the SMTP connections are QUIT after the test."""
    made: list[DeliveryDispatcher] = []

    def make(mailer: Any, **options: Any) -> DeliveryDispatcher:
        retry = RetryPolicy(
            max_attempts=options.pop("max_attempts", 3),
            base_delay_s=0.01,
            max_delay_s=0.02,
            stuck_after_s=options.pop("stuck_after_s", 60.0),
        )
        throughput = Throughput(
            email_lanes=options.pop("lanes", 1), claim_size=options.pop("claim_size", 10), sms_lanes=1
        )
        dispatcher = DeliveryDispatcher(
            sessions,
            RENDERER,
            mailer,
            options.pop("sms", None) or FileSmsSink(tmp_path / "sms.jsonl"),
            source="/factora/notifications",
            retry=retry,
            throughput=throughput,
            **options,
        )
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        await dispatcher.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class ScriptedRelay:
    """An aiosmtpd relay that answers each recipient from a script, and counts what it saw.

    `script[address]` is a list of actions used one per transaction, the last one repeating:
    "ok", "rcpt:<reply>" (refuse at RCPT), "data:<reply>" (refuse after the content), "drop"
    (take the whole content, then cut the link before answering), "slow:<seconds>" (think, then
    accept). Unscripted recipients get "ok".
    `close_after` makes the relay hang up on the RSET that follows that many messages on a connection.
    """

    def __init__(self, script: dict[str, list[str]] | None = None, *, close_after: int | None = None) -> None:
        self.script = {address: list(actions) for address, actions in (script or {}).items()}
        self.close_after = close_after
        self.accepted: list[tuple[str, bytes]] = []
        self.received: list[str] = []  # every recipient whose whole content arrived, accepted or not
        self.connections = 0
        self.rsets = 0
        self.auths = 0
        self._per_connection: dict[int, int] = {}
        self._lock = threading.Lock()
        self.port = 0
        self._controller: Controller | None = None

    def _action(self, address: str) -> str:
        actions = self.script.get(address)
        if not actions:
            return "ok"
        return actions.pop(0) if len(actions) > 1 else actions[0]

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self._lock:
            if id(session) not in self._per_connection:
                self._per_connection[id(session)] = 0
                self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RSET(self, server, session, envelope):
        with self._lock:
            self.rsets += 1
            hang_up = self.close_after is not None and self._per_connection.get(id(session), 0) >= self.close_after
        if hang_up:
            server.transport.close()
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        action = self._action(address)
        if action.startswith("rcpt:"):
            return action.removeprefix("rcpt:")
        envelope.rcpt_tos.append(address)
        envelope.factora_action = action
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        action = getattr(envelope, "factora_action", "ok")
        address = envelope.rcpt_tos[0]
        with self._lock:
            self.received.append(address)
        if action == "drop":
            server.transport.abort()
            return "250 never heard"
        if action.startswith("data:"):
            return action.removeprefix("data:")
        if action.startswith("slow:"):
            await asyncio.sleep(float(action.removeprefix("slow:")))
        with self._lock:
            self.accepted.append((address, envelope.content))
            self._per_connection[id(session)] = self._per_connection.get(id(session), 0) + 1
        return "250 2.0.0 OK queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == RELAY_USER.encode()
        ok = ok and auth_data.password == RELAY_PASSWORD.encode()
        if ok:
            with self._lock:
                self.auths += 1
        return AuthResult(success=ok)

    def accepted_for(self, address: str) -> int:
        return sum(1 for to, _ in self.accepted if to == address)

    def start(self, *, require_auth: bool = False) -> ScriptedRelay:
        self.port = free_port()
        options: dict[str, Any] = {}
        if require_auth:
            options = {"authenticator": self.authenticate, "auth_required": True, "auth_require_tls": False}
        self._controller = Controller(
            self, hostname=HOST, port=self.port, server_hostname="relay.factora.test", **options
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def scripted_relay():
    """`scripted_relay(script, close_after=..., require_auth=...)` starts a ScriptedRelay, stopped after the test."""
    started: list[ScriptedRelay] = []

    def start(
        script: dict[str, list[str]] | None = None, *, close_after: int | None = None, require_auth: bool = False
    ) -> ScriptedRelay:
        relay = ScriptedRelay(script, close_after=close_after).start(require_auth=require_auth)
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def address():
    """`address("buyer")` → a recipient no other test uses."""
    return unique


class Mailbox:
    """The session's SMTP catcher, read the quick way: a file is parsed only if its bytes name the recipient.

    The catcher's folder is shared by every test of the session and may hold thousands of messages;
    parsing them all for each look-up is what would make these tests slow.
    """

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = Path(mail_dir)

    def files_mentioning(self, needle: str, *, headers_only: bool = False) -> list[tuple[Path, EmailMessage]]:
        parser = BytesParser(policy=email.policy.default)
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            if needle.encode() in data:
                found.append((path, parser.parsebytes(data, headersonly=headers_only)))
        return found  # type: ignore[return-value]

    def to(self, recipient: str) -> list[EmailMessage]:
        return [mail for _, mail in self.files_mentioning(recipient) if str(mail["To"]) == recipient]

    async def wait_for(self, recipient: str, timeout_s: float = 10.0) -> EmailMessage:
        deadline = time.monotonic() + timeout_s
        while True:
            mails = await asyncio.to_thread(self.to, recipient)
            if mails:
                return mails[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no e-mail to {recipient} in {self.mail_dir} after {timeout_s} s")
            await asyncio.sleep(0.05)


@pytest.fixture
def mailbox(smtp_catcher) -> Mailbox:
    """What the session's real SMTP catcher received: `mailbox.to(address)`, `await mailbox.wait_for(address)`."""
    return Mailbox(smtp_catcher.mail_dir)
