"""Benchmark of e-mail delivery: what the dispatcher delivers per second next to what the catcher accepts.

Run: uv run python services/notifications/bench/bench_notifications.py [--n 2000] [--connections 4]

Both figures use the local SMTP catcher of the stack (`python -m devstack.smtp_catcher`: aiosmtpd
writing one .eml per message), started here on a free port with its own folder, in its own process as
under `make up` (--in-process runs it on a thread of this process instead: it then competes with the
dispatcher for the GIL, which costs the dispatcher's four connections far more than the plain loop):

- dispatcher: N send requests recorded in a fresh ledger on PostgreSQL, then delivered by the real
  DeliveryDispatcher (claim, render, SMTP over reused connections, record the outcome, outbox row);
- catcher: a plain aiosmtplib loop over one connection sending N messages of the same size, i.e.
  the rate the catcher itself accepts; the dispatcher cannot beat it by much on one connection.

PostgreSQL: FACTORA_BENCH_DATABASE_ADMIN_URL (a superuser postgresql:// URL) if set, otherwise an
embedded one is started in a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
from prometheus_client import REGISTRY

import notifications
from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import SendRequested
from devstack.config import LOCALHOST, PortSpec
from devstack.pg_admin import create_fresh_database
from devstack.ports import port_accepts
from devstack.postgres import PostgresCluster
from devstack.smtp_catcher import SmtpCatcher
from notifications.adapters.mailer import OutgoingEmail, SmtpMailer, SmtpSettings, message_bytes
from notifications.adapters.sms import FileSmsSink
from notifications.adapters.templating import TemplateRenderer
from notifications.service.dispatcher import DeliveryDispatcher, RetryPolicy, Throughput
from notifications.service.handlers import record_send_request
from servicekit.db import make_engine, make_session_factory
from servicekit.migrations import upgrade_to_head

MIGRATIONS = Path(notifications.__file__).parent / "migrations"
FROM = "no-reply@factora.local"
PARAMS = {
    "seller_name": "Atelier Lumière SARL",
    "buyer_name": "Brasserie du Parc SA",
    "amount": "1145.52",
    "currency": "EUR",
    "issue_date": "2026-01-02",
    "due_date": "2026-02-01",
    "document_url": "http://127.0.0.1:8003/archive/documents/5a0b3c1e",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


class CatcherProcess:
    """The devstack catcher as a child process, like `make up` runs it."""

    def __init__(self, mail_dir: Path) -> None:
        self.host, self.port, self.mail_dir = LOCALHOST, free_port(), mail_dir
        command = [sys.executable, "-m", "devstack.smtp_catcher", "--port", str(self.port), "--dir", str(mail_dir)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - fixed argv
        deadline = time.monotonic() + 30
        while not port_accepts(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the SMTP catcher did not start")
            time.sleep(0.05)

    def clear(self) -> None:
        for path in self.mail_dir.glob("*.eml"):
            path.unlink(missing_ok=True)

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


@contextlib.asynccontextmanager
async def postgres(workdir: Path) -> AsyncIterator[str]:
    """Admin URL of the bench's PostgreSQL (external or embedded)."""
    external = os.environ.get("FACTORA_BENCH_DATABASE_ADMIN_URL", "").strip()
    if external:
        yield external
        return
    cluster = PostgresCluster(
        root_dir=workdir / "pg",
        port=PortSpec("bench PostgreSQL", free_port(), "FACTORA_BENCH_DATABASE_ADMIN_URL"),
        log_path=workdir / "postgres.log",
        durable=False,
    )
    await cluster.start()
    try:
        yield cluster.admin_url
    finally:
        await cluster.stop(timeout=10)


def sample_message(renderer: TemplateRenderer, settings: SmtpSettings) -> bytes:
    """The bytes of a typical notification, as the dispatcher would send them."""
    rendered = renderer.render("invoice-delivered", "fr", {**PARAMS, "invoice_number": "F2026-000001"})
    outgoing = OutgoingEmail(
        ledger_id=str(uuid.uuid4()),
        to="buyer-0@example.com",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        language="fr",
    )
    return message_bytes(outgoing, settings)


Catcher = SmtpCatcher | CatcherProcess


async def catcher_accept_rate(catcher: Catcher, raw: bytes, n: int) -> float:
    """Messages per second the catcher takes from one aiosmtplib connection sending back to back."""
    client = aiosmtplib.SMTP(hostname=catcher.host, port=catcher.port, start_tls=False, timeout=30)
    await client.connect()
    try:
        started = time.perf_counter()
        for i in range(n):
            await client.sendmail(FROM, [f"plain-{i}@example.com"], raw)
        elapsed = time.perf_counter() - started
    finally:
        await client.quit()
    return n / elapsed


async def dispatcher_rate(
    catcher: Catcher, admin_url: str, n: int, connections: int, workdir: Path
) -> tuple[float, int, int]:
    """E-mails per second from the ledger to the catcher, recorded as sent, once the requests are in."""
    _, url = await create_fresh_database(admin_url, "notifications_bench")
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    engine = make_engine(url, pool_size=connections + 2)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            for i in range(n):
                event = SendRequested(
                    idempotency_key=f"bench:{i}",
                    channel="email",
                    recipient=f"buyer-{i}@example.com",
                    locale="fr" if i % 2 else "en",
                    template="invoice-delivered",
                    params={**PARAMS, "invoice_number": f"F2026-{i:06d}"},
                )
                envelope = Envelope.new(source="/factora/bench", type=catalogue.SEND_REQUESTED.schema_name)
                await record_send_request(event, envelope, session)
        smtp = SmtpSettings(host=catcher.host, port=catcher.port, timeout_s=30, connections=connections)
        dispatcher = DeliveryDispatcher(
            sessions,
            TemplateRenderer(),
            SmtpMailer(smtp),
            FileSmsSink(workdir / "sms.jsonl"),
            source="/factora/notifications",
            retry=RetryPolicy(max_attempts=3, base_delay_s=0.1, max_delay_s=1, stuck_after_s=600),
            throughput=Throughput(email_lanes=connections, claim_size=25, pass_limit=n),
        )
        connections_before = REGISTRY.get_sample_value("factora_notifications_smtp_connections_total") or 0.0
        started = time.perf_counter()
        delivered = 0
        while delivered < n:
            claimed = await dispatcher.run_once()
            if claimed == 0:
                break
            delivered += claimed
        elapsed = time.perf_counter() - started
        await dispatcher.close()
        opened = (REGISTRY.get_sample_value("factora_notifications_smtp_connections_total") or 0.0) - connections_before
    finally:
        await engine.dispose()
    stored = len(list(catcher.mail_dir.glob("*.eml")))
    if delivered != n:
        raise SystemExit(f"only {delivered} of {n} requests were delivered")
    return n / elapsed, stored, int(opened)


async def main(n: int, connections: int, in_process: bool) -> None:
    logging.basicConfig(level=logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="factora-bench-notifications-"))
    catcher: Catcher
    if in_process:
        catcher = SmtpCatcher(port=PortSpec("bench SMTP catcher", free_port(), "--port"), mail_dir=workdir / "mail")
        catcher.start()
    else:
        catcher = CatcherProcess(workdir / "mail")
    try:
        renderer = TemplateRenderer()
        raw = sample_message(renderer, SmtpSettings())
        where = "on a thread of this process" if in_process else "in its own process"
        print(
            f"notifications bench: {n} e-mails of {len(raw)} bytes, local aiosmtpd catcher {where} on :{catcher.port}"
        )
        async with postgres(workdir) as admin_url:
            rate, stored, opened = await dispatcher_rate(catcher, admin_url, n, connections, workdir)
            catcher.clear()
            plain = await catcher_accept_rate(catcher, raw, n)
        print(f"  dispatcher ({connections} SMTP connections, ledger on PostgreSQL) {rate:8.0f} e-mails/s")
        print(f"  catcher accept rate (plain aiosmtplib, one connection)   {plain:8.0f} e-mails/s")
        print(f"  ratio dispatcher / catcher                               {rate / plain:8.2f}")
        print(f"  .eml files stored by the catcher for the dispatcher run  {stored:8d}")
        print(f"  SMTP connections the dispatcher opened                   {opened:8d}")
    finally:
        catcher.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="e-mails per measurement")
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections the dispatcher uses")
    parser.add_argument("--in-process", action="store_true", help="run the catcher on a thread of this process")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.connections, args.in_process))
