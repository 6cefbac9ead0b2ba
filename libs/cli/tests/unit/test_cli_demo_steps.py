"""`factora demo` against a fake network: its steps, its summary, and how each failure is told."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factora_cli.app import app
from factora_cli.demo_data import BUYER, SUPPLIER, address, invoice_draft, new_password

pytestmark = pytest.mark.unit
runner = CliRunner()


GATEWAY = "http://gateway.test"


def run_demo(mail_dir: Path, out: Path, *extra: str):
    args = ["demo", "--api", GATEWAY, "--mail-dir", str(mail_dir), "--out", str(out), "--timeout", "2", *extra]
    return runner.invoke(app, args)


def test_the_demo_prints_a_json_summary_with_the_invoice_the_files_and_the_accounts(network, mail_dir, tmp_path):
    result = run_demo(mail_dir, tmp_path / "out", "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["invoice"]["number"] == "F2026-000042"
    pdf = Path(summary["pdf"]["path"])
    assert pdf.read_bytes() == network.sealed_pdf and pdf.parent == (tmp_path / "out").resolve()
    assert summary["pdf"]["url"] == f"{GATEWAY}/api/signing/archive/documents/{summary['invoice']['archive_id']}"
    eml = Path(summary["email"]["path"])
    assert eml.parent == mail_dir.resolve() and summary["email"]["to"] in eml.read_text()
    roles = {a["role"]: a for a in summary["accounts"]}
    assert set(roles) == {"supplier", "buyer"}
    assert all(a["password"] and a["totp_secret"] and a["email"] for a in roles.values())
    assert summary["verify_command"].startswith(f"factora verify {pdf}")
    assert Path(summary["session"]).exists()


def test_the_demo_signs_up_confirms_enrols_and_signs_in_both_companies_with_totp(network, mail_dir, tmp_path):
    result = run_demo(mail_dir, tmp_path / "out", "--json")

    assert result.exit_code == 0, result.output
    assert len(network.path_of("identity", "/signup")) == 2
    assert len(network.path_of("identity", "/signup/verify-email")) == 2
    assert len(network.path_of("identity", "/login/mfa/enrol/confirm")) == 2
    # After enrolment each account signs in again with a fresh TOTP code (the fake refuses a replayed step).
    assert len(network.path_of("identity", "/login/mfa/verify")) == 2
    assert all(user.verified and user.secret for user in network.users.values())


def test_two_runs_sign_up_different_addresses(network, mail_dir, tmp_path):
    first = json.loads(run_demo(mail_dir, tmp_path / "a", "--json").stdout)
    second = json.loads(run_demo(mail_dir, tmp_path / "b", "--json").stdout)

    assert {a["email"] for a in first["accounts"]}.isdisjoint({a["email"] for a in second["accounts"]})


def test_the_demo_buys_credits_when_issuing_answers_that_none_are_left(network, mail_dir, tmp_path):
    network.balance = 0

    result = run_demo(mail_dir, tmp_path / "out", "--json")

    assert result.exit_code == 0, result.output
    assert network.purchases == 1
    purchase = network.path_of("invoicing", "/billing/purchases")[0]
    assert json.loads(purchase.content) == {"pack_id": "pack-10", "payment_method": "pm_card_visa"}
    assert purchase.headers["Idempotency-Key"]
    assert json.loads(result.stdout)["credits"] == {"before": 0, "bought": 10}


def test_the_demo_tells_to_run_make_up_when_the_gateway_does_not_answer(network, mail_dir, tmp_path):
    network.down = True

    result = run_demo(mail_dir, tmp_path / "out")

    assert result.exit_code == 3
    assert "Check that the network answers" in result.stderr
    assert f"the gateway at {GATEWAY} is not answering: run `make up` first" in result.stderr.replace("\n", " ")


def test_a_service_down_behind_the_gateway_is_named_and_exits_3(network, mail_dir, tmp_path):
    network.upstream_down.add("signing")

    result = run_demo(mail_dir, tmp_path / "out", "--json")

    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert "signing is not ready" in error and "HTTP 502" in error and "make up" in error
    assert network.path_of("identity", "/signup") == []


def test_the_demo_names_the_missing_mail_folder(network, tmp_path):
    result = run_demo(tmp_path / "nowhere", tmp_path / "out", "--json")

    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["exit_code"] == 1 and "no mail folder at" in error["error"] and "--mail-dir" in error["error"]


def test_a_missing_delivery_e_mail_is_a_timeout_of_that_step(network, mail_dir, tmp_path):
    network.send_delivery_mail = False

    result = run_demo(mail_dir, tmp_path / "out", "--json")

    assert result.exit_code == 6
    error = json.loads(result.stdout)["error"]
    assert error.startswith("step 'Find the e-mail delivered to factures+") and "did not arrive" in error


def test_a_seal_that_fails_stops_the_demo_with_the_invoice_number(network, mail_dir, tmp_path):
    network.seal_outcome = "sealing_failed"

    result = run_demo(mail_dir, tmp_path / "out", "--json")

    assert result.exit_code == 1
    assert "signing could not seal F2026-000042" in json.loads(result.stdout)["error"]


def test_a_service_refusal_is_reported_with_its_explanation(network, mail_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(type(network), "invoicing_post", lambda self, path, body, request: _refuse(path))

    result = run_demo(mail_dir, tmp_path / "out", "--json")

    assert result.exit_code == 5
    error = json.loads(result.stdout)["error"]
    assert "Connect the companies" in error and "HTTP 403" in error and "needs the 'partners' right" in error


def _refuse(path: str):
    import httpx

    return httpx.Response(403, json={"detail": "this action needs the 'partners' right"})


def test_the_text_summary_shows_the_files_the_accounts_and_the_verify_command(network, mail_dir, tmp_path):
    result = run_demo(mail_dir, tmp_path / "out")

    assert result.exit_code == 0, result.output
    text = result.stdout
    for words in ("✓ Sign up Menuiserie Duval", "Invoice F2026-000042", "sealed PDF", "e-mail to buyer", "TOTP secret"):
        assert words in text
    assert "factora verify" in text and "--session" in text  # --out is not the default folder


def test_demo_addresses_passwords_and_invoice_look_real():
    tag = "0a1b2c3d"
    email = address(SUPPLIER.mailbox, SUPPLIER.domain, tag)
    password = new_password()
    draft = invoice_draft("buyer-id", address("factures", BUYER.domain, tag))

    assert email == "claire.duval+0a1b2c3d@menuiserie-duval.example.com"
    assert len(password) >= 12 and password != new_password()
    assert draft["buyer_company_id"] == "buyer-id" and draft["lines"] and draft["due_date"]
    assert SUPPLIER.signup_body(email, password)["company"]["vat_id"].startswith("FR")
