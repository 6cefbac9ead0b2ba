"""`factora archive get`: which document it fetches, where it writes it, and its exit codes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factora_cli.app import app

pytestmark = pytest.mark.unit
runner = CliRunner()
API = "http://gateway.test"


@pytest.fixture
def archived(network) -> dict:
    """One delivered invoice in the fake archive."""
    archive_id = str(uuid.uuid4())
    invoice = {"id": str(uuid.uuid4()), "number": "F2026-000042", "status": "delivered", "archive_id": archive_id}
    network.invoices[invoice["id"]] = invoice
    return invoice


def get(*args: str):
    return runner.invoke(app, ["archive", "get", "--api", API, "--token", "tok", *args])


def test_an_archive_id_downloads_the_sealed_pdf(network, archived, tmp_path):
    out = tmp_path / "invoice.pdf"

    result = get(archived["archive_id"], "--out", str(out), "--json")

    assert result.exit_code == 0, result.output
    assert out.read_bytes() == network.sealed_pdf
    body = json.loads(result.stdout)
    assert body["url"] == f"{API}/api/signing/archive/documents/{archived['archive_id']}"
    assert body["bytes"] == len(network.sealed_pdf) and len(body["sha256"]) == 64


@pytest.mark.parametrize(("flag", "suffix", "start"), [("--bundle", "/bundle", b"PK"), ("--xml", "/xml", b"<rsm:")])
def test_bundle_and_xml_fetch_their_own_endpoint(network, archived, tmp_path, flag, suffix, start):
    out = tmp_path / "nested" / "file"

    result = get(archived["archive_id"], "--out", str(out), flag)

    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(start)
    assert network.requests[-1].url.path.endswith(suffix)


def test_an_invoice_number_is_looked_up_among_the_companys_invoices(network, archived, tmp_path):
    result = get("F2026-000042", "--out", str(tmp_path / "f.pdf"), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["archive_id"] == archived["archive_id"]


def test_an_invoice_id_leads_to_its_archive_entry(network, archived, tmp_path):
    result = get(archived["id"], "--out", str(tmp_path / "f.pdf"), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["archive_id"] == archived["archive_id"]


def test_an_unknown_id_exits_4_with_a_clear_message(network, archived, tmp_path):
    out = tmp_path / "f.pdf"

    result = get(str(uuid.uuid4()), "--out", str(out))

    assert result.exit_code == 4
    assert "nothing in the archive" in result.stderr and "neither its seller nor its buyer" in result.stderr
    assert not out.exists()


def test_an_unknown_invoice_number_exits_4(network, archived, tmp_path):
    result = get("F1999-000001", "--out", str(tmp_path / "f.pdf"), "--json")

    assert result.exit_code == 4
    assert "F1999-000001" in json.loads(result.stdout)["error"]


def test_an_invoice_not_yet_archived_is_not_found_and_says_its_status(network, tmp_path):
    network.invoices["i"] = {"id": "i", "number": "F2026-000043", "status": "issued", "archive_id": None}

    result = get("F2026-000043", "--out", str(tmp_path / "f.pdf"))

    assert result.exit_code == 4 and "is issued: not archived yet" in result.stderr


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_exits_5(network, archived, tmp_path, status):
    network.archive_status = status

    result = get(archived["archive_id"], "--out", str(tmp_path / "f.pdf"))

    assert result.exit_code == 5 and "token" in result.stderr


def test_bundle_and_xml_together_are_a_usage_error(network, tmp_path):
    result = get("x", "--out", str(tmp_path / "f"), "--bundle", "--xml")

    assert result.exit_code == 2 and network.requests == []


def test_out_is_required(network):
    assert get("x").exit_code == 2


def test_nothing_answering_exits_3(network, tmp_path):
    network.down = True

    assert get(str(uuid.uuid4()), "--out", str(tmp_path / "f.pdf")).exit_code == 3


def test_the_demo_session_is_used_when_no_token_is_given(network, archived, tmp_path: Path):
    from factora_cli.accounts import Account
    from factora_cli.session import save_session

    session = tmp_path / "session.json"
    account = Account("buyer", "B", "b@example.com", "pw", access_token="fresh", expires_at=4_000_000_000)
    save_session(session, API, {"buyer": account}, default="buyer")

    result = runner.invoke(
        app,
        [
            "archive",
            "get",
            archived["archive_id"],
            "--api",
            API,
            "--session",
            str(session),
            "--out",
            str(tmp_path / "f"),
        ],
    )

    assert result.exit_code == 0, result.output
    assert network.requests[-1].headers["Authorization"] == "Bearer fresh"
