"""One notification e-mail as MIME bytes: headers from the ledger id, text and HTML parts, an optional file."""

from __future__ import annotations

import base64
import binascii
import email.policy
import email.utils
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email import encoders
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from typing import Protocol

# \Z, not $: "$" also matches before a final newline, which must never reach a header.
LEDGER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
DOMAIN_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*\Z")


class _WirePolicy(email.policy.Compat32):
    """compat32 that writes each header as given: build_message hands it ASCII only, already folded.

    The compat32 MIME classes build a message several times faster than EmailMessage's header
    registry, and skipping the generic folding pass (a Header object per header) saves as much
    again: about 1 ms less CPU per e-mail, which is what a burst of thousands of mails costs.
    A header that is not ASCII cannot slip through: fold_binary refuses it (UnicodeEncodeError).
    """

    def fold(self, name: str, value: str) -> str:
        return f"{name}: {value}{self.linesep}"

    def fold_binary(self, name: str, value: str) -> bytes:
        return self.fold(name, value).encode("ascii")


# CRLF line ends: the bytes go to the relay as they are.
WIRE = _WirePolicy(linesep="\r\n")
FOLD_AT = 78
ENCODED_WORD_BYTES = 39  # 52 base64 characters: 'Subject: ' and the word fit in 78 columns


class Sender(Protocol):
    """The part of the SMTP settings a message is built from."""

    from_address: str
    from_name: str
    message_id_domain: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent along, e.g. the sealed PDF of an invoice."""

    filename: str
    content: bytes
    content_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One rendered e-mail for one recipient; the ledger id makes it recognisable everywhere."""

    ledger_id: str
    to: str
    subject: str
    text: str
    html: str
    attachment: Attachment | None = None
    language: str | None = None  # BCP 47 tag of the text, e.g. "fr"


def address_is_valid(address: str) -> bool:
    """A plain ASCII addr-spec with a dotted domain: what we can hand to a relay without SMTPUTF8.

    Local part: a dot-atom (no quoted strings, no comments); domain: LDH labels, not all-numeric
    at the top. Stricter than RFC 5321 allows, on purpose: nothing here can smuggle a header.
    """
    if not isinstance(address, str) or not address.isascii() or len(address) > 254:
        return False
    local, at, domain = address.rpartition("@")
    if not at or not local or len(local) > 64 or not DOT_ATOM.match(local):
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(DOMAIN_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


def message_id(ledger_id: str, domain: str) -> str:
    """The same ledger row always yields the same Message-ID, so a resend is recognisable."""
    if not LEDGER_ID.match(ledger_id):
        raise ValueError(f"ledger id {ledger_id!r} cannot form a Message-ID")
    return f"<{ledger_id}@{domain}>"


def _folded(value: str, name: str) -> str:
    """One header value, folded near 78 columns; anything not ASCII as RFC 2047 'B' encoded words.

    Written out here rather than by email.header.Header, whose per-character Python loop cost
    more than the rest of the message put together.
    """
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"{name} must be one line")
    if value.isascii():
        lines, line = [], f"{name}: "
        for word in value.split(" "):
            if len(line) + len(word) + 1 > FOLD_AT and line.strip() != f"{name}:":
                lines.append(line.rstrip(" "))
                line = " "
            line += word + " "
        lines.append(line.rstrip(" "))
        return "\r\n".join(lines)[len(name) + 2 :]
    # Each encoded word carries at most ENCODED_WORD_BYTES, never cutting a UTF-8 sequence in two.
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def build_message(message: OutgoingEmail, sender: Sender, *, now: datetime | None = None) -> Message:
    """multipart/alternative (text, html), wrapped in multipart/mixed when a file is attached."""
    if not address_is_valid(message.to):
        raise ValueError("invalid recipient address")
    # "=_" never occurs in quoted-printable or base64 text, so these boundaries cannot collide with
    # a body, and the generator is spared its search for a safe random one (a regex per message).
    token = secrets.token_hex(12)
    body = MIMEMultipart("alternative", boundary=f"=_alt_{token}", policy=WIRE)
    body.attach(_text_part(message.text, "plain"))
    body.attach(_text_part(message.html, "html"))
    msg: Message = body
    if message.attachment is not None:
        msg = MIMEMultipart("mixed", boundary=f"=_mix_{token}", policy=WIRE)
        msg.attach(body)
        msg.attach(_attachment_part(message.attachment))
    msg["Message-ID"] = message_id(message.ledger_id, sender.message_id_domain)
    msg["Date"] = email.utils.format_datetime(now or datetime.now(UTC))
    msg["From"] = email.utils.formataddr((sender.from_name, sender.from_address), charset="utf-8")
    msg["To"] = message.to
    msg["Subject"] = _folded(message.subject, "Subject")
    msg["X-Factora-Ledger-Id"] = message.ledger_id
    # RFC 3834: tells out-of-office robots not to answer a notification.
    msg["Auto-Submitted"] = "auto-generated"
    if message.language and LANGUAGE_TAG.match(message.language):
        msg["Content-Language"] = message.language  # RFC 3282, so screen readers pick the right voice
    return msg


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    """UTF-8 in quoted-printable: every part stays 7-bit, so no relay needs 8BITMIME.

    Encoded by binascii (C) rather than email.quoprimime (a Python loop per character).
    """
    part = MIMENonMultipart("text", subtype, charset="utf-8", policy=WIRE)
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    part.set_payload(encoded.decode("ascii"))
    part["Content-Transfer-Encoding"] = "quoted-printable"
    return part


def _attachment_part(attachment: Attachment) -> MIMEBase:
    content_type = attachment.content_type.lower()
    if not CONTENT_TYPE.match(content_type):
        raise ValueError(f"bad content type {attachment.content_type!r}")
    maintype, _, subtype = content_type.partition("/")
    part = MIMEBase(maintype, subtype, policy=WIRE)
    part.set_payload(attachment.content)
    encoders.encode_base64(part)
    name = attachment.filename
    if any(c in name for c in "\r\n\0"):
        raise ValueError("attachment file name must be one line")
    # RFC 2231 for a name that is not ASCII, e.g. "Facture n°42.pdf".
    part.add_header("Content-Disposition", "attachment", filename=name if name.isascii() else ("utf-8", "", name))
    return part


def message_bytes(message: OutgoingEmail, sender: Sender, *, now: datetime | None = None) -> bytes:
    """What goes after DATA: CRLF line ends, 7-bit."""
    return build_message(message, sender, now=now).as_bytes(policy=WIRE)
