"""A partner ERP on the real stack through the partner SDK and `factora partner`: key, send, issue, seal, mail, reject.

The seller's administrator signs up with identity and registers the partner system with the public
key `factora partner keygen` printed, through identity's API; identity publishes the key and the
company to invoicing. The buyer is published as identity publishes a sign-up. The test stack runs
invoicing with INVOICING_REQUIRE_PARTNER_SIGNATURE=false, so each signed record is also checked
with invoicing's own verifier against the key invoicing stored from identity's event.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import catalogue
from contracts.examples import sample_partner_invoice
from contracts.v1 import PartnerInvoiceSubmitted
from factora_partner import PartnerCredential, PartnerFeed, PartnerPublisher, SendResult
from factora_testing.companies import register_company
from factora_testing.identity_flows import bearer, enrol_totp, sign_in_with_totp, sign_up_and_confirm
from factora_testing.records import plain_dsn, wait_for_row
from invoicing.adapters.signatures import RawRecord, signature_is_valid

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "libs" / "partner-sdk" / "tests" / "fixtures"
FACTORA = Path(sys.executable).with_name("factora")  # the console script `uv run factora` runs
PASSWORD = "une longue phrase de passe pour le portail"


@dataclass(frozen=True)
class PartnerSetup:
    """A seller with a registered partner system, a buyer, and the partner's key file."""

    seller: str
    buyer: str
    buyer_email: str
    partner_id: str
    key_id: str
    key_file: Path
    public_key: str


def factora(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`factora …` as a partner's shell runs it (no TTY: plain output, no progress bar)."""
    return subprocess.run(
        [str(FACTORA), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO, env=dict(os.environ)
    )


async def register_buyer(bootstrap: str) -> tuple[str, str]:
    """The buyer company, announced as identity does at sign-up; its id and invoice e-mail."""
    email = f"ap-{uuid.uuid4().hex[:8]}@brasserie.example"
    return await register_company(bootstrap, "Brasserie du Parc SAS", "FR83404833048", email), email


def keygen(key_dir: Path) -> dict:
    """`factora partner keygen --json`: the key files and the public key to register."""
    made = factora("partner", "keygen", "--out", str(key_dir), "--json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["register"]["body"] == {"public_key": key["public_key"]}
    assert (Path(key["private_key_file"]).stat().st_mode & 0o777) == 0o600
    return key


def connect(network, seller: str, buyer: str) -> None:
    """The trading relationship, with invoicing's operator command."""
    done = subprocess.run(
        [sys.executable, "-m", "invoicing.manage", "connect", "--supplier", seller, "--buyer", buyer],
        env={**os.environ, **network.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def follow_rejections(partner_id: str, bootstrap: str, stderr_path: Path) -> subprocess.Popen:
    """`factora partner rejections --follow --json` in the background.

    It starts with Ctrl-C's default handling: a test run started in the background by a
    non-interactive shell ignores SIGINT, children inherit that, and the follower then never
    stopped on the test's Ctrl-C. Its stderr goes to a file, so an unread pipe can never block it.
    """
    command = ["partner", "rejections", "--partner-id", partner_id, "--bootstrap", bootstrap, "--follow", "--json"]
    with stderr_path.open("w") as stderr:
        return subprocess.Popen(
            [str(FACTORA), *command, "--since", "1m"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=REPO,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


async def partner_setup(network, bootstrap: str, smtp_catcher, key_dir: Path) -> PartnerSetup:
    """keygen (CLI) -> identity sign-up, TOTP, partner registration with that public key -> invoicing knows all."""
    key = keygen(key_dir)

    admin_email = f"erp-admin-{uuid.uuid4().hex[:8]}@atelier-lumiere.example"
    async with httpx.AsyncClient(base_url=network.service_url("identity"), timeout=30) as api:
        await sign_up_and_confirm(api, smtp_catcher, admin_email, PASSWORD)
        secret, _, step = await enrol_totp(api, admin_email, PASSWORD)
        admin = await sign_in_with_totp(api, admin_email, PASSWORD, secret, step + 1)
        seller = (await api.get("/company", headers=bearer(admin))).json()["id"]
        registered = await api.post(
            "/company/partners", json={"name": "SDK ERP", "public_key": key["public_key"]}, headers=bearer(admin)
        )
    assert registered.status_code == 201, registered.text
    issued = registered.json()
    assert issued["key"]["public_key"] == key["public_key"] and issued["private_key_pem"] is None
    buyer, buyer_email = await register_buyer(bootstrap)
    for company in (seller, buyer):
        await wait_for_row(network, "SELECT company_id FROM party WHERE company_id = $1", company)
    await wait_for_row(network, "SELECT key_id FROM partner_key WHERE key_id = $1", issued["key"]["key_id"])
    connect(network, seller, buyer)
    return PartnerSetup(
        seller=seller,
        buyer=buyer,
        buyer_email=buyer_email,
        partner_id=issued["partner"]["partner_id"],
        key_id=issued["key"]["key_id"],
        key_file=Path(key["private_key_file"]),
        public_key=key["public_key"],
    )


def invoice_for(setup: PartnerSetup, external_id: str) -> PartnerInvoiceSubmitted:
    event = sample_partner_invoice(external_id=external_id)
    return event.model_copy(
        update={
            "partner_id": setup.partner_id,
            "seller": event.seller.model_copy(update={"company_id": setup.seller}),
            "buyer": event.buyer.model_copy(update={"company_id": setup.buyer, "email": None}),
        }
    )


async def record_as_stored(bootstrap: str, result: SendResult) -> RawRecord:
    """The record the broker holds at the partition and offset the SDK reported."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(catalogue.PARTNER_INVOICE_SUBMITTED.name, result.partition)
        consumer.assign([tp])
        consumer.seek(tp, result.offset)
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    return RawRecord(headers={k: v.decode() for k, v in record.headers}, value=record.value)


async def feed_until(setup: PartnerSetup, bootstrap: str, done, timeout_s: float = 120.0) -> list:
    """Follow the partner's feed from the beginning until `done(items)`; every item seen."""
    items: list = []
    async with PartnerFeed(
        partner_id=setup.partner_id, company_id=setup.seller, bootstrap_servers=bootstrap, follow=True
    ) as feed:
        try:
            async with asyncio.timeout(timeout_s):
                async for item in feed:
                    items.append(item)
                    if done(items):
                        return items
        except TimeoutError:
            seen = [(i.kind, i.event.external_id, getattr(i.event, "status", None)) for i in items]
            raise AssertionError(
                f"the partner feed did not show everything in {timeout_s}s; it showed {seen}"
            ) from None
    return items


async def test_invoices_sent_with_the_sdk_are_issued_sealed_and_mailed_and_a_bad_one_comes_back_rejected(
    running_network, kafka_broker, smtp_catcher, tmp_path
):
    bootstrap = kafka_broker.bootstrap
    setup = await partner_setup(running_network, bootstrap, smtp_catcher, tmp_path / "keys")
    credential = PartnerCredential.from_file(setup.key_file, partner_id=setup.partner_id, key_id=setup.key_id)
    good = invoice_for(setup, f"SDK-{uuid.uuid4().hex[:8]}")
    bad = invoice_for(setup, f"SDK-BAD-{uuid.uuid4().hex[:8]}")
    bad = bad.model_copy(update={"lines": [bad.lines[0].model_copy(update={"quantity": Decimal("0")}), *bad.lines[1:]]})
    progress: list[int] = []

    async with PartnerPublisher(credential, bootstrap_servers=bootstrap) as publisher:
        results = await publisher.send_many([good, bad], progress=lambda done, total, r: progress.append(done))

    assert [r.ok for r in results] == [True, True] and sorted(progress) == [1, 2]
    stored_key = await wait_for_row(
        running_network, "SELECT public_key FROM partner_key WHERE key_id = $1", setup.key_id
    )
    for result in results:
        record = await record_as_stored(bootstrap, result)
        assert record.key_id == setup.key_id and record.tenant == setup.seller
        assert signature_is_valid(record, stored_key["public_key"])  # invoicing's own check, identity's key

    invoice = await wait_for_row(
        running_network,
        "SELECT id, number FROM invoice WHERE external_id = $1 AND status = 'delivered'",
        good.external_id,
    )
    mail = await smtp_catcher.wait_for(
        lambda m: setup.buyer_email in m.get("To", "") and invoice["number"] in m.get("Subject", ""), timeout=120
    )
    assert mail is not None

    def seen_everything(items) -> bool:
        statuses = {i.status.status for i in items if i.status and i.status.external_id == good.external_id}
        rejected = [i for i in items if i.rejection and i.rejection.external_id == bad.external_id]
        return {"issued", "sealed", "delivered"} <= statuses and bool(rejected)

    items = await feed_until(setup, bootstrap, seen_everything)
    rejection = next(i.rejection for i in items if i.rejection and i.rejection.external_id == bad.external_id)
    assert rejection.submission_event_id == results[1].event_id
    assert ("FX-LINE-1", "lines[0].quantity") in [(r.rule, r.field) for r in rejection.reasons]
    assert all(i.status.partner_id == setup.partner_id for i in items if i.status)
    conn = await asyncpg.connect(plain_dsn(running_network.database_url("invoicing")))
    try:
        issued_bad = await conn.fetchval("SELECT count(*) FROM invoice WHERE external_id = $1", bad.external_id)
    finally:
        await conn.close()
    assert issued_bad == 0


def unique_copy(source: Path, target: Path, old_id: str, new_id: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old_id in text
    target.write_text(text.replace(old_id, new_id), encoding="utf-8")
    return target


async def test_the_cli_sends_ubl_and_cii_files_and_prints_rejections_as_they_arrive(
    running_network, kafka_broker, smtp_catcher, tmp_path
):
    bootstrap = kafka_broker.bootstrap
    setup = await partner_setup(running_network, bootstrap, smtp_catcher, tmp_path / "keys")
    run_id = uuid.uuid4().hex[:6]
    ubl = unique_copy(FIXTURES / "invoice-ubl.xml", tmp_path / "a-invoice-ubl.xml", "F2026-000042", f"UBL-{run_id}")
    cii = unique_copy(FIXTURES / "invoice-cii.xml", tmp_path / "b-invoice-cii.xml", "F2026-000042", f"CII-{run_id}")
    late = invoice_for(setup, f"LATE-{run_id}")
    # Valid for the schema, refused by invoicing: due before issue (FX-DUE-1).
    late = late.model_copy(update={"due_date": late.issue_date - timedelta(days=1)})
    late_file = tmp_path / "c-late.json"
    late_file.write_text(late.model_dump_json())
    credentials = ["--partner-id", setup.partner_id, "--key-file", str(setup.key_file), "--key-id", setup.key_id]
    parties = ["--seller-company-id", setup.seller, "--buyer-company-id", setup.buyer]

    sent = factora(
        "partner",
        "send",
        str(ubl),
        str(cii),
        str(late_file),
        *credentials,
        *parties,
        "--bootstrap",
        bootstrap,
        "--json",
    )

    assert sent.returncode == 0, sent.stdout + sent.stderr
    summary = json.loads(sent.stdout)
    assert (summary["sent"], summary["failed"]) == (3, 0)
    assert [r["external_id"] for r in summary["results"]] == [f"UBL-{run_id}", f"CII-{run_id}", late.external_id]
    for external_id in (f"UBL-{run_id}", f"CII-{run_id}"):
        await wait_for_row(
            running_network,
            "SELECT id FROM invoice WHERE external_id = $1 AND status = 'delivered'",
            external_id,
        )

    # Without --follow: what is on the topic now, then exit (the rejection may take a moment to appear).
    deadline, listed = time.monotonic() + 120, []
    while time.monotonic() < deadline:
        shown = factora(
            "partner",
            "rejections",
            "--partner-id",
            setup.partner_id,
            "--company-id",
            setup.seller,
            "--bootstrap",
            bootstrap,
            "--json",
        )
        assert shown.returncode == 0, shown.stderr
        listed = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
        if any(r["external_id"] == late.external_id for r in listed):
            break
        await asyncio.sleep(2)
    late_rejection = next(r for r in listed if r["external_id"] == late.external_id)
    assert ("FX-DUE-1", "due_date") in [(r["rule"], r["field"]) for r in late_rejection["reasons"]]
    assert late_rejection["submission_event_id"] == summary["results"][2]["event_id"]

    # --follow: a rejection sent after it started is printed as it arrives; Ctrl-C ends it cleanly.
    follower_errors = tmp_path / "follow.stderr"
    follower = follow_rejections(setup.partner_id, bootstrap, follower_errors)
    try:
        again = invoice_for(setup, f"FOLLOW-{run_id}")
        again = again.model_copy(update={"currency": "eur"})  # BR-5: the currency code must be upper case
        again_file = tmp_path / "d-follow.json"
        again_file.write_text(again.model_dump_json())
        resent = factora("partner", "send", str(again_file), *credentials, "--bootstrap", bootstrap)
        assert resent.returncode == 0, resent.stdout + resent.stderr
        assert "Sent 1, failed 0." in resent.stdout
        found = await asyncio.wait_for(asyncio.to_thread(read_until, follower, again.external_id), 120)
    finally:
        follower.send_signal(signal.SIGINT)
        try:
            follower.wait(30)
        finally:
            if follower.poll() is None:
                follower.kill()
    assert ("BR-5", "currency") in [(r["rule"], r["field"]) for r in found["reasons"]]
    assert follower.returncode == 0, follower_errors.read_text()[-2000:]

    # A file that cannot be read is reported with the element to fix, and the exit code says so.
    broken = unique_copy(ubl, tmp_path / "broken.xml", "<cbc:IssueDate>", "<cbc:IssueDateX>")
    broken.write_text(broken.read_text().replace("</cbc:IssueDate>", "</cbc:IssueDateX>", 1))
    refused = factora("partner", "send", str(broken), *credentials, "--bootstrap", bootstrap, "--json")
    assert refused.returncode == 1
    report = json.loads(refused.stdout)
    assert (report["sent"], report["failed"]) == (0, 1)
    assert "cbc:IssueDate" in report["results"][0]["error"] and "issue_date" in report["results"][0]["error"]


def read_until(process: subprocess.Popen, external_id: str) -> dict:
    """JSON lines from `rejections --follow --json` until the one about `external_id`."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip():
            entry = json.loads(line)
            if entry["external_id"] == external_id:
                return entry
    raise AssertionError("rejections --follow ended before the rejection arrived")
