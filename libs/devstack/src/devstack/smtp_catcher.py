"""A local SMTP server that keeps every message it receives as an .eml file, for dev and tests."""

# ruff: noqa: ASYNC109 - our timeouts are polling deadlines and SIGTERM-to-SIGKILL grace
# periods, which asyncio.timeout() cannot express.

from __future__ import annotations

import argparse
import asyncio
import email.policy
import itertools
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from devstack.config import LOCALHOST, PortSpec
from devstack.ports import ensure_port_free

_counter = itertools.count()
_counter_lock = threading.Lock()

Predicate = Callable[[EmailMessage], bool]


def message_filename() -> str:
    """Unique and sortable by arrival: UTC time to the microsecond, a counter, the pid."""
    now = datetime.now(UTC)
    with _counter_lock:
        seq = next(_counter)
    return f"{now:%Y%m%dT%H%M%S%f}Z-{seq:06d}-{os.getpid()}.eml"


def received_at(path: Path) -> datetime:
    """When the catcher received a stored message (UTC): the time its file name starts with."""
    stamp = Path(path).name.lstrip(".").split("Z-", 1)[0]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)


def store_message(mail_dir: Path, raw: bytes) -> Path:
    """Write raw message bytes atomically: readers see a whole .eml or nothing."""
    mail_dir.mkdir(parents=True, exist_ok=True)
    name = message_filename()
    tmp = mail_dir / f".{name}.tmp"
    tmp.write_bytes(raw)
    target = mail_dir / name
    tmp.replace(target)
    return target


class MailDirHandler:
    """aiosmtpd handler: each DATA becomes one file in mail_dir, bytes exactly as received."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        await asyncio.to_thread(store_message, self.mail_dir, raw)
        return "250 OK message stored"


class _PlainAuthenticator:
    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.username
            and auth_data.password == self.password
        )
        return AuthResult(success=ok)


def list_messages(mail_dir: Path) -> list[EmailMessage]:
    """Every stored message, oldest first."""
    parser = BytesParser(policy=email.policy.default)
    messages: list[EmailMessage] = []
    for path in sorted(Path(mail_dir).glob("*.eml")):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # cleared by a test meanwhile
            continue
        msg = parser.parsebytes(data)
        assert isinstance(msg, EmailMessage)
        messages.append(msg)
    return messages


def _no_match(mail_dir: Path, timeout: float) -> TimeoutError:
    seen = list_messages(mail_dir)
    summary = "; ".join(f"to={m['To']!s} subject={m['Subject']!s}" for m in seen[-5:])
    return TimeoutError(
        f"no matching e-mail in {mail_dir} after {timeout:.1f} s "
        f"({len(seen)} message(s) there{': ' + summary if summary else ''})"
    )


def wait_for_message(mail_dir: Path, predicate: Predicate = lambda m: True, timeout: float = 10.0) -> EmailMessage:
    """Block until a stored message matches predicate; TimeoutError lists what did arrive."""
    deadline = time.monotonic() + timeout
    while True:
        for msg in list_messages(mail_dir):
            if predicate(msg):
                return msg
        if time.monotonic() >= deadline:
            raise _no_match(mail_dir, timeout)
        time.sleep(0.05)


async def wait_for_message_async(
    mail_dir: Path, predicate: Predicate = lambda m: True, timeout: float = 10.0
) -> EmailMessage:
    """Async twin of wait_for_message, for tests running in an event loop."""
    deadline = time.monotonic() + timeout
    while True:
        for msg in list_messages(mail_dir):
            if predicate(msg):
                return msg
        if time.monotonic() >= deadline:
            raise _no_match(mail_dir, timeout)
        await asyncio.sleep(0.05)


class SmtpCatcher:
    """The catcher as an object: aiosmtpd's Controller runs it on its own thread and loop."""

    def __init__(
        self,
        *,
        port: PortSpec,
        mail_dir: Path,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host = LOCALHOST
        self.port_spec = port
        self.mail_dir = mail_dir
        self.username = username
        self.password = password
        self._controller: Any = None

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return self.port_spec.port

    def start(self) -> None:
        """Listen; raises a one-line StackError when the port is taken."""
        from aiosmtpd.controller import Controller

        ensure_port_free(self.port_spec)
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        auth: dict[str, Any] = {}
        if self.username is not None:
            # aiosmtpd warns about AUTH without TLS on every connection; on loopback that is the point.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning, "aiosmtpd")
            auth = {
                "authenticator": _PlainAuthenticator(self.username, self.password or ""),
                "auth_required": True,
                # Local loopback only, no TLS: let AUTH go over plain text.
                "auth_require_tls": False,
            }
        controller = Controller(
            MailDirHandler(self.mail_dir),
            hostname=self.host,
            port=self.port,
            server_hostname="factora-smtp-catcher",
            data_size_limit=50 * 1024 * 1024,
            **auth,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening (messages already stored stay)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        return list_messages(self.mail_dir)

    def clear(self) -> None:
        """Forget stored messages (tests that count e-mails start from zero)."""
        for path in self.mail_dir.glob("*.eml"):
            path.unlink(missing_ok=True)

    async def wait_for(self, predicate: Predicate = lambda m: True, timeout: float = 10.0) -> EmailMessage:
        """The first stored message matching predicate, waiting up to timeout seconds."""
        return await wait_for_message_async(self.mail_dir, predicate, timeout)


def main(argv: list[str] | None = None) -> int:
    """`python -m devstack.smtp_catcher --port 2525 --dir .local/stack/mail`."""
    parser = argparse.ArgumentParser(prog="python -m devstack.smtp_catcher", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("FACTORA_SMTP_PORT", "2525")))
    parser.add_argument("--dir", type=Path, default=Path(".local/stack/mail"), help="folder for .eml files")
    parser.add_argument("--auth-user", help="require SMTP AUTH with this user name (off by default)")
    parser.add_argument("--auth-password", default="", help="password for --auth-user")
    args = parser.parse_args(argv)
    from devstack.errors import StackError

    catcher = SmtpCatcher(
        port=PortSpec("SMTP catcher", args.port, "--port"),
        mail_dir=args.dir.resolve(),
        username=args.auth_user,
        password=args.auth_password,
    )
    try:
        catcher.start()
    except StackError as exc:
        print(f"smtp-catcher: error: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"SMTP catcher on {catcher.host}:{catcher.port}, storing mail in {catcher.mail_dir}", flush=True)
    stop = threading.Event()
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    catcher.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
