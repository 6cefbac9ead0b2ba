"""`factora-stack sample-invoice`: send one partner invoice through a running stack and show the results."""

from __future__ import annotations

import asyncio
import os
import time
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.examples import partner_key, sample_partner_invoice
from devstack.config import LOCALHOST, database_url, dev_ports, state_dir
from devstack.errors import StackError

TIMEOUT_S = 90.0


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _db_url(service: str, pg_port: int) -> str:
    return os.environ.get(f"{service.upper()}_DATABASE_URL") or database_url(service, service, pg_port, service)


async def _publish(bootstrap: str, buyer_email: str) -> tuple[str, str]:
    event = sample_partner_invoice(buyer_email=buyer_email)
    key = partner_key(event)
    envelope = Envelope.new(
        source="/partners/sample-erp",
        type=catalogue.PARTNER_INVOICE_SUBMITTED.name,
        subject=key,
        tenant=event.seller.company_id,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    try:
        await producer.start()
        await producer.send_and_wait(
            catalogue.PARTNER_INVOICE_SUBMITTED.name,
            event.model_dump_json().encode(),
            key=key.encode(),
            headers=[(k, v.encode()) for k, v in envelope.to_headers().items()],
        )
    except Exception as exc:
        raise StackError(f"cannot publish to Kafka at {bootstrap} ({exc}); is `make up` running?") from None
    finally:
        await producer.stop()
    return event.external_id, envelope.id


async def _poll(fetch, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if result := await fetch():
            return result
        await asyncio.sleep(0.5)
    raise StackError(f"timed out after {TIMEOUT_S:.0f}s waiting for {what}; see the service logs")


async def _fetch_row(url: str, query: str, *args):  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(_plain(url))
    try:
        return await conn.fetchrow(query, *args)
    finally:
        await conn.close()


def _find_mail(mail_dir: Path, recipient: str) -> tuple[Path, Message] | None:
    for path in sorted(mail_dir.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if recipient in (message.get("To") or ""):
            return path, message
    return None


async def run_sample() -> int:
    """Publish, then follow the invoice to the archive and the mail folder."""
    ports = dev_ports()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or f"{LOCALHOST}:{ports.kafka.port}"
    stack = state_dir()
    buyer_email = f"sample-buyer-{int(time.time())}@example.com"
    external_id, event_id = await _publish(bootstrap, buyer_email)
    print(f"published partner invoice {external_id} (event {event_id}) to {bootstrap}")

    invoicing_url = _db_url("invoicing", ports.postgres.port)
    invoice = await _poll(
        lambda: _fetch_row(
            invoicing_url,
            "SELECT id, number, status, archive_id, payable, currency FROM invoice "
            "WHERE external_id = $1 AND archive_id IS NOT NULL",
            external_id,
        ),
        "the invoice to be issued and sealed",
    )
    print(f"issued {invoice['number']} for {invoice['payable']} {invoice['currency']}, status {invoice['status']}")

    signing_url = _db_url("signing", ports.postgres.port)
    archived = await _fetch_row(
        signing_url, "SELECT pdf, sha256, sequence FROM archived_document WHERE id = $1::uuid", invoice["archive_id"]
    )
    export = stack / "archive-export" / f"{invoice['number']}.pdf"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_bytes(bytes(archived["pdf"]))
    print(f"sealed PDF (archive entry #{archived['sequence']}, sha256 {archived['sha256'][:16]}...): {export}")

    mail_dir = stack / "mail"
    path, message = await _poll(lambda: asyncio.to_thread(_find_mail, mail_dir, buyer_email), "the buyer's e-mail")
    print(f"e-mail to {buyer_email}: {path}\n  subject: {message['Subject']}")
    print(f"verify the seal:  uv run python -m signing.cli verify {export}")
    return 0


def main() -> int:
    return asyncio.run(run_sample())
