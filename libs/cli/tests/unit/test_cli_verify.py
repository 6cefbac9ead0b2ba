"""`factora verify`: the verdict, the exit code and the JSON for each answer of signing's POST /verify."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factora_cli.accounts import Account
from factora_cli.app import app
from factora_cli.session import save_session

pytestmark = pytest.mark.unit
runner = CliRunner()
API = "http://gateway.test"


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "F2026-000042.pdf"
    path.write_bytes(b"%PDF-1.7\nsealed\n%%EOF\n")
    return path


def verify(*args: str):
    return runner.invoke(app, ["verify", "--api", API, *args])


def test_an_intact_and_trusted_pdf_exits_0_and_shows_the_signer(network, pdf):
    result = verify(str(pdf), "--token", "tok")

    assert result.exit_code == 0, result.output
    assert "INTACT AND TRUSTED" in result.stdout and "CN=Factora Seal" in result.stdout
    sent = network.path_of("signing", "/verify")[0]
    assert sent.headers["Authorization"] == "Bearer tok" and sent.headers["Content-Type"] == "application/pdf"
    assert sent.content == pdf.read_bytes()


@pytest.mark.parametrize(
    ("integrity", "trusted", "verdict", "words"),
    [
        ("modified", True, "modified", "MODIFIED"),
        ("unsigned", False, "unsigned", "NOT SIGNED"),
        ("intact", False, "intact_untrusted", "INTACT BUT NOT TRUSTED"),
    ],
)
def test_anything_but_intact_and_trusted_exits_1_with_its_verdict(network, pdf, integrity, trusted, verdict, words):
    network.verify_answer = (200, network.report(integrity, trusted))

    text = verify(str(pdf), "--token", "tok")
    as_json = verify(str(pdf), "--token", "tok", "--json")

    assert text.exit_code == 1 and words in text.stdout
    assert as_json.exit_code == 1
    body = json.loads(as_json.stdout)
    assert (body["verdict"], body["ok"], body["report"]["integrity"]) == (verdict, False, integrity)


def test_a_file_that_is_not_a_pdf_is_refused_without_calling_the_service(network, tmp_path):
    text_file = tmp_path / "notes.pdf"
    text_file.write_text("hello")

    result = verify(str(text_file), "--json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["verdict"] == "not_a_pdf"
    assert network.requests == []


def test_a_pdf_the_service_refuses_is_reported_with_its_reason(network, pdf):
    network.verify_answer = (422, {"detail": {"code": "malformed_pdf", "message": "the trailer is damaged"}})

    result = verify(str(pdf), "--token", "tok")

    assert result.exit_code == 1
    assert "REFUSED" in result.stdout and "damaged PDF" in result.stdout and "trailer is damaged" in result.stdout


def test_a_rejected_token_exits_5(network, pdf):
    network.verify_answer = (401, {"detail": "token expired"})

    result = verify(str(pdf), "--token", "old", "--json")

    assert result.exit_code == 5
    assert "token expired" in json.loads(result.stdout)["error"]


def test_without_a_token_or_a_demo_session_it_says_how_to_get_one(network, pdf, tmp_path):
    result = verify(str(pdf), "--session", str(tmp_path / "none.json"))

    assert result.exit_code == 5
    assert "pass --token" in result.stderr and "factora demo" in result.stderr
    assert network.requests == []


def test_the_token_comes_from_the_environment(network, pdf, monkeypatch):
    monkeypatch.setenv("FACTORA_TOKEN", "from-env")

    assert verify(str(pdf)).exit_code == 0
    assert network.path_of("signing", "/verify")[0].headers["Authorization"] == "Bearer from-env"


def test_an_expired_demo_session_is_refreshed_and_saved_back(network, pdf, tmp_path):
    session = tmp_path / "session.json"
    buyer = Account("buyer", "B", "b@example.com", "pw", access_token="stale", refresh_token="r1", expires_at=0)
    save_session(session, API, {"buyer": buyer}, default="buyer")

    result = verify(str(pdf), "--session", str(session))

    assert result.exit_code == 0, result.output
    assert network.refreshed == 1
    saved = json.loads(session.read_text())["accounts"]["buyer"]
    assert saved["access_token"].startswith("access-") and saved["expires_at"] > time.time()
    used = network.path_of("signing", "/verify")[0].headers["Authorization"]
    assert used == f"Bearer {saved['access_token']}"


def test_an_unreachable_gateway_exits_3_and_says_to_start_the_stack(network, pdf):
    network.down = True

    result = verify(str(pdf), "--token", "tok")

    assert result.exit_code == 3
    assert "make up" in result.stderr and API in result.stderr


def test_a_service_url_sends_the_file_straight_to_signing(network, pdf):
    result = verify(str(pdf), "--token", "tok", "--service-url", f"signing={API}/api/signing")

    assert result.exit_code == 0
    assert str(network.requests[0].url) == f"{API}/api/signing/verify"


def test_a_bad_service_url_is_a_usage_error(network, pdf):
    result = verify(str(pdf), "--token", "tok", "--service-url", "billing=http://x")

    assert result.exit_code == 2 and "NAME=URL" in result.stderr
