"""Per-invoice timestamps from the systems of record: invoicing, the signing archive, the ledger, the catcher."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from bench_driver import Submission

from devstack.smtp_catcher import received_at

LEDGER_HEADER = re.compile(rb"^X-Factora-Ledger-Id:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


@dataclass
class Timeline:
    """One invoice's way through the network, as epoch seconds (None: that stage never happened)."""

    external_id: str
    step: int
    submitted: float
    issued: float | None = None
    sealed: float | None = None
    mail_accepted: float | None = None

    @property
    def end_to_end(self) -> float | None:
        return None if self.mail_accepted is None else self.mail_accepted - self.submitted


async def _rows(dsn: str, query: str, *args):  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def mail_by_ledger_id(mail_dir: Path) -> dict[str, float]:
    """Ledger id (the X-Factora-Ledger-Id header) -> the catcher's receive time of that message."""
    found: dict[str, float] = {}
    with os.scandir(mail_dir) as entries:
        for entry in entries:
            if not entry.name.endswith(".eml") or entry.name.startswith("."):
                continue
            with open(entry.path, "rb") as handle:
                head = handle.read(8192)  # the headers; the body does not matter here
            if match := LEDGER_HEADER.search(head):
                found[match.group(1).decode()] = received_at(Path(entry.name)).timestamp()
    return found


async def collect(
    submissions: dict[str, Submission], *, invoicing_dsn: str, signing_dsn: str, notifications_dsn: str, mail_dir: Path
) -> list[Timeline]:
    """Join the four systems of record on external id -> invoice id -> ledger id."""
    invoices = await _rows(
        invoicing_dsn,
        "SELECT external_id, id::text AS id, issued_at FROM invoice WHERE external_id = ANY($1::text[])",
        list(submissions),
    )
    archived = {
        r["invoice_id"]: r["sealed_at"].timestamp()
        for r in await _rows(signing_dsn, "SELECT invoice_id, sealed_at FROM archived_document")
    }
    ledger = await _rows(
        notifications_dsn,
        "SELECT id::text AS id, split_part(idempotency_key, ':', 2) AS invoice_id FROM delivery "
        "WHERE template = 'invoice-delivered'",
    )
    mails = mail_by_ledger_id(mail_dir)
    mail_of_invoice = {r["invoice_id"]: mails[r["id"]] for r in ledger if r["id"] in mails}
    timelines = {s.external_id: Timeline(s.external_id, s.step, s.sent_at) for s in submissions.values()}
    for row in invoices:
        timeline = timelines[row["external_id"]]
        timeline.issued = row["issued_at"].timestamp() if row["issued_at"] else None
        timeline.sealed = archived.get(row["id"])
        timeline.mail_accepted = mail_of_invoice.get(row["id"])
    return list(timelines.values())


def count_mail(mail_dir: Path) -> int:
    """Messages the catcher has stored so far (cheap: a directory listing)."""
    with os.scandir(mail_dir) as entries:
        return sum(1 for e in entries if e.name.endswith(".eml") and not e.name.startswith("."))
