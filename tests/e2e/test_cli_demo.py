"""The `factora` CLI as newcomers and operators run it: subprocesses against the real network behind its gateway."""

from __future__ import annotations

import email.policy
import json
import os
import socket
import subprocess
import sys
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

SERVICES = ("identity", "invoicing", "signing", "notifications", "support")


def factora(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`factora ARGS` in a fresh process, without a token or API address from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if k not in ("FACTORA_TOKEN", "FACTORA_API_URL", "FACTORA_SESSION")}
    return subprocess.run(
        [sys.executable, "-m", "factora_cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def demo(gateway, smtp_catcher, tmp_path_factory) -> dict[str, Any]:
    """One `factora demo --json` run through the gateway; its summary."""
    out = tmp_path_factory.mktemp("demo")
    ran = factora(
        "demo",
        *("--api", gateway.url, "--mail-dir", str(smtp_catcher.mail_dir), "--out", str(out), "--json"),
        timeout=600,
    )
    assert ran.returncode == 0, f"exit {ran.returncode}\nstdout: {ran.stdout}\nstderr: {ran.stderr}"
    return json.loads(ran.stdout)


def test_the_demo_downloads_the_sealed_pdf_of_its_invoice_through_the_gateway(demo, gateway):
    pdf = Path(demo["pdf"]["path"])

    assert pdf.name == f"{demo['invoice']['number']}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert demo["pdf"]["url"] == f"{gateway.url}/api/signing/archive/documents/{demo['invoice']['archive_id']}"
    assert {a["role"] for a in demo["accounts"]} == {"supplier", "buyer"}
    assert all(a["password"] and len(a["totp_secret"]) >= 16 for a in demo["accounts"])


def test_the_demo_finds_the_e_mail_the_buyer_was_sent_about_the_invoice(demo):
    eml = Path(demo["email"]["path"])
    message = BytesParser(policy=email.policy.default).parsebytes(eml.read_bytes())
    buyer = next(a for a in demo["accounts"] if a["role"] == "buyer")

    assert demo["email"]["to"].lower() in str(message["To"]).lower()
    assert demo["email"]["to"].split("@")[1] == buyer["email"].split("@")[1]
    assert demo["invoice"]["number"] in str(message["Subject"])


def test_factora_verify_says_the_demo_pdf_is_intact_and_trusted(demo, gateway):
    ran = factora("verify", demo["pdf"]["path"], "--api", gateway.url, "--session", demo["session"], "--json")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    verdict = json.loads(ran.stdout)
    assert (verdict["verdict"], verdict["ok"]) == ("intact_trusted", True)
    assert verdict["report"]["integrity"] == "intact" and verdict["report"]["trust"]["trusted"] is True
    assert demo["invoice"]["archive_id"] in verdict["report"]["archive"]["message"]


def test_factora_verify_says_a_copy_changed_after_the_seal_is_modified(demo, gateway, tmp_path):
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(Path(demo["pdf"]["path"]).read_bytes() + b"\n% a line added later\n")

    ran = factora("verify", str(changed), "--api", gateway.url, "--session", demo["session"])

    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "MODIFIED" in ran.stdout


def test_factora_archive_get_fetches_the_same_pdf_by_invoice_number(demo, gateway, tmp_path):
    out = tmp_path / "again.pdf"

    ran = factora(
        "archive", "get", demo["invoice"]["number"], "--out", str(out),
        "--api", gateway.url, "--session", demo["session"], "--json",
    )  # fmt: skip

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["sha256"] == demo["pdf"]["sha256"]
    assert out.read_bytes() == Path(demo["pdf"]["path"]).read_bytes()


def test_factora_archive_get_with_a_wrong_id_exits_4(demo, gateway, tmp_path):
    wrong = "00000000-0000-4000-8000-000000000000"

    ran = factora(
        "archive", "get", wrong, "--out", str(tmp_path / "none.pdf"),
        "--api", gateway.url, "--session", demo["session"],
    )  # fmt: skip

    assert ran.returncode == 4, ran.stdout + ran.stderr
    assert wrong in ran.stderr and not (tmp_path / "none.pdf").exists()


def test_factora_stack_status_reports_the_five_services_and_the_gateway_healthy(running_network, gateway):
    urls = [f"--service-url={name}={running_network.service_url(name)}" for name in SERVICES]

    ran = factora("stack", "status", "--api", gateway.url, *urls, "--json")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    status = json.loads(ran.stdout)
    assert status["gateway"]["status"] == "healthy"
    assert {s["name"]: s["status"] for s in status["services"]} == dict.fromkeys(SERVICES, "healthy")
    invoicing = next(s for s in status["services"] if s["name"] == "invoicing")
    # The outbox gauges are refreshed on every scrape (the lag ones only every 15 s, so they may not be there yet).
    assert isinstance(invoicing["metrics"]["outbox_backlog"], int)


def test_the_demo_without_a_running_gateway_says_to_run_make_up():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    ran = factora("demo", "--api", f"http://127.0.0.1:{port}", "--timeout", "5")

    assert ran.returncode == 3
    assert f"the gateway at http://127.0.0.1:{port} is not answering: run `make up` first" in ran.stderr
