"""Attachment screening: what a file really is, judged from its bytes, never from its name or label.

A file is accepted only when its sniffed content is on the allow-list; a name or declared type
that disagrees with the content (an .exe renamed .pdf, HTML labelled image/png) is refused as a
disguise. Accepted files are only ever served back as downloads, never rendered.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

import filetype

from support.domain.errors import Invalid, UnsupportedType

GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/x-binary"})


@dataclass(frozen=True)
class AllowedType:
    """One kind of file we take: its canonical media type, extensions and accepted labels."""

    media_type: str
    extensions: tuple[str, ...]
    declared: frozenset[str]
    label: str


ALLOWED: dict[str, AllowedType] = {
    t.media_type: t
    for t in (
        AllowedType("application/pdf", (".pdf",), frozenset({"application/pdf", "application/x-pdf"}), "PDF"),
        AllowedType("image/png", (".png",), frozenset({"image/png"}), "PNG image"),
        AllowedType(
            "image/jpeg", (".jpg", ".jpeg"), frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}), "JPEG image"
        ),
        AllowedType("image/gif", (".gif",), frozenset({"image/gif"}), "GIF image"),
        AllowedType("image/webp", (".webp",), frozenset({"image/webp"}), "WebP image"),
        AllowedType(
            "text/plain",
            (".txt", ".log", ".csv"),
            frozenset({"text/plain", "text/csv", "application/csv", "text/x-log", "application/vnd.ms-excel"}),
            "plain text or CSV",
        ),
        AllowedType("application/xml", (".xml",), frozenset({"application/xml", "text/xml"}), "XML (e.g. an invoice)"),
    )
}

ALLOWED_SUMMARY = "PDF, PNG, JPEG, GIF, WebP, plain text (.txt, .log, .csv) and XML"

# Markup that a browser would render or run: never accepted, whatever the file says it is.
ACTIVE_MARKUP = re.compile(
    rb"<\s*!doctype\s+html"
    rb"|<\s*(?:[a-z0-9_.-]+:)?(?:html|head|body|script|iframe|frame|frameset|object|embed|svg|form|img|meta|link|base)"
    rb"(?=[\s/>])"
    rb"|javascript\s*:",
    re.IGNORECASE,
)
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')
MAX_NAME_LENGTH = 120


@dataclass(frozen=True)
class ScreenedFile:
    """An accepted file: its sniffed media type and the name we keep for it."""

    media_type: str
    filename: str


def sniff(content: bytes) -> str:
    """The media type the bytes really carry (e.g. application/x-msdownload for a Windows program)."""
    kind = filetype.guess(content)
    if kind is not None:
        return str(kind.mime)
    if CONTROL_BYTES.search(content) or not _decodes(content):
        return "application/octet-stream"
    if ACTIVE_MARKUP.search(content):
        return "text/html"
    if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "application/xml"
    return "text/plain"


def _decodes(content: bytes) -> bool:
    for encoding in ("utf-8", "cp1252"):
        try:
            content.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def safe_filename(name: str | None) -> str:
    """The last path segment of `name`, without control or shell/header-special characters."""
    raw = (name or "").replace("\\", "/")
    base = PurePosixPath(raw).name if raw.strip() else ""
    base = unicodedata.normalize("NFC", base)
    base = UNSAFE_NAME_CHARS.sub("_", base).strip(" .")
    if len(base) > MAX_NAME_LENGTH:
        stem, dot, ext = base.rpartition(".")
        base = (
            (stem[: MAX_NAME_LENGTH - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:MAX_NAME_LENGTH]
        )
    return base


def _extension(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if 1 < len(suffix) <= 11 else ""


def screen(content: bytes, filename: str | None, declared_type: str | None) -> ScreenedFile:
    """Accept the file or raise UnsupportedType/Invalid saying why and what we take instead."""
    if not content:
        raise Invalid("empty-file", "the file is empty")
    actual = sniff(content)
    allowed = ALLOWED.get(actual)
    if allowed is None:
        raise UnsupportedType(
            "file-type-not-allowed",
            f"this file's content is {describe(actual)}, which we do not accept; send {ALLOWED_SUMMARY}",
        )
    name = safe_filename(filename)
    extension = _extension(name)
    if extension and extension not in allowed.extensions:
        raise UnsupportedType(
            "file-disguised",
            f"the file is named '{name}' but its content is {allowed.label}; "
            f"rename it with {' or '.join(allowed.extensions)} and send it again",
        )
    label = (declared_type or "").split(";")[0].strip().lower()
    if label not in GENERIC_TYPES and label not in allowed.declared:
        raise UnsupportedType(
            "file-disguised",
            f"the file was sent as '{label}' but its content is {allowed.label}; send it with its real type",
        )
    if not extension:
        name = f"{name or 'attachment'}{allowed.extensions[0]}"
    return ScreenedFile(media_type=allowed.media_type, filename=name)


def describe(media_type: str) -> str:
    """A few words on a refused media type."""
    known = {
        "application/x-msdownload": "a Windows program",
        "application/x-executable": "a program",
        "application/x-elf": "a program",
        "application/x-mach-binary": "a program",
        "application/zip": "a ZIP archive",
        "application/x-rar-compressed": "a RAR archive",
        "application/x-7z-compressed": "a 7-Zip archive",
        "text/html": "HTML or script markup",
        "application/octet-stream": "binary data of an unknown kind",
    }
    return known.get(media_type, f"'{media_type}'")


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 8187)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in filename) or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
