"""The local SMTP catcher's mail folder: one .eml file per message, written whole (the CLI reads, never writes)."""

from __future__ import annotations

import email.policy
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path

# Identity puts link tokens in the URL fragment (…/verify-email#token=…), never in the query.
TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_\-]+)")


@dataclass(frozen=True)
class Mail:
    """One caught message and the file it is stored in."""

    path: Path
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The decoded Subject header."""
        return str(self.message.get("Subject", ""))

    @property
    def recipients(self) -> set[str]:
        """Every address in To and Cc, lower-cased."""
        fields = [str(v) for v in (self.message.get_all("To", []) + self.message.get_all("Cc", []))]
        return {address.lower() for _, address in getaddresses(fields) if address}

    def addressed_to(self, address: str) -> bool:
        """Whether `address` is among the recipients (case-insensitive)."""
        return address.lower() in self.recipients

    @property
    def text(self) -> str:
        """The plain-text body (the HTML one when there is no plain part)."""
        body = self.message.get_body(preferencelist=("plain", "html"))
        if body is None:
            return ""
        content = body.get_content()
        return content if isinstance(content, str) else ""

    def link_token(self) -> str | None:
        """The token of the first e-mailed link in the body, if any."""
        found = TOKEN_IN_LINK.search(self.text)
        return found.group(1) if found else None


def find_repo_root(start: Path | None = None) -> Path | None:
    """The uv workspace root above `start` (cwd by default), or None outside a checkout."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        try:
            if "[tool.uv.workspace]" in (candidate / "pyproject.toml").read_text(encoding="utf-8"):
                return candidate
        except OSError:
            continue
    return None


def default_state_dir() -> Path:
    """Where `make up` keeps its state: FACTORA_STATE_DIR, else <repo>/.local/stack (as devstack does)."""
    if explicit := os.environ.get("FACTORA_STATE_DIR"):
        return Path(explicit).resolve()
    return (find_repo_root() or Path.cwd()) / ".local" / "stack"


def default_mail_dir() -> Path:
    """The catcher's folder of the running dev stack."""
    return default_state_dir() / "mail"


def read_mail(mail_dir: Path) -> list[Mail]:
    """Every stored message, oldest first (file names sort by arrival; half-written ones are hidden)."""
    parser = BytesParser(policy=email.policy.default)
    found: list[Mail] = []
    for path in sorted(Path(mail_dir).glob("*.eml")):
        if path.name.startswith("."):
            continue
        try:
            data = path.read_bytes()
        except OSError:  # removed meanwhile
            continue
        message = parser.parsebytes(data)
        if isinstance(message, EmailMessage):
            found.append(Mail(path, message))
    return found


class MailTimeout(TimeoutError):
    """The awaited message did not arrive; the message lists the latest that did."""


def wait_for_mail(
    mail_dir: Path,
    predicate: Callable[[Mail], bool],
    *,
    timeout: float,
    poll_s: float = 0.25,
    what: str = "the e-mail",
) -> Mail:
    """The first stored message matching `predicate`, waiting up to `timeout` seconds for it."""
    deadline = time.monotonic() + timeout
    while True:
        for mail in read_mail(mail_dir):
            if predicate(mail):
                return mail
        if time.monotonic() >= deadline:
            seen = read_mail(mail_dir)
            latest = "; ".join(f"to {', '.join(sorted(m.recipients))}: {m.subject!r}" for m in seen[-3:])
            raise MailTimeout(
                f"{what} did not arrive in {mail_dir} within {timeout:.0f} s "
                f"({len(seen)} message(s) there{', latest: ' + latest if latest else ''}); "
                "is the notifications service running and is this the stack's mail folder?"
            )
        time.sleep(poll_s)
