"""`factora partner …` argument errors, exit codes and --json shapes (no broker: the publisher is faked)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from factora_cli.app import app
from factora_cli.commands import partner as partner_commands
from factora_partner import PublishError, SendResult

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parents[3] / "partner-sdk" / "tests" / "fixtures"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["partner", *args])


@pytest.fixture
def key_file(tmp_path) -> Path:
    result = run("keygen", "--out", str(tmp_path / "keys"), "--json")
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["private_key_file"])


class FakePublisher:
    """Stands in for PartnerPublisher: acknowledges every invoice, or cannot reach the broker."""

    unreachable = False
    batches: list[list] = []

    def __init__(self, credential, *, bootstrap_servers=None):
        self.credential = credential

    async def __aenter__(self):
        if FakePublisher.unreachable:
            raise PublishError("cannot reach Kafka at x:1")
        return self

    async def __aexit__(self, *exc):
        return None

    async def send_many(self, items, *, progress=None):
        items = list(items)
        FakePublisher.batches.append(items)
        results = []
        for i, (label, event) in enumerate(items):
            result = SendResult(
                external_id=event.external_id, event_id=f"e{i}", key="k", partition=0, offset=i, label=label
            )
            results.append(result)
            if progress:
                progress(i + 1, len(items), result)
        return results


@pytest.fixture
def fake_publisher(monkeypatch):
    FakePublisher.unreachable = False
    FakePublisher.batches = []
    monkeypatch.setattr(partner_commands, "PartnerPublisher", FakePublisher)
    return FakePublisher


def credentials(key_file: Path) -> list[str]:
    return ["--partner-id", "erp-7", "--key-file", str(key_file), "--key-id", "fpk_1"]


def test_keygen_json_gives_the_key_files_the_public_key_and_the_registration_request(tmp_path):
    result = run("keygen", "--out", str(tmp_path), "--name", "erp", "--json")

    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {
        "private_key_file",
        "public_key_file",
        "public_key",
        "public_key_pem",
        "fingerprint",
        "register",
    }
    assert data["register"] == {
        "method": "POST",
        "path": "/company/partners/{partner_id}/keys",
        "body": {"public_key": data["public_key"]},
    }
    assert Path(data["private_key_file"]).name == "erp.key.pem"


def test_keygen_in_text_says_what_to_do_next(tmp_path):
    result = run("keygen", "--out", str(tmp_path))

    assert result.exit_code == 0
    assert "POST /company/partners/{partner_id}/keys" in result.stdout and "--key-id <key_id>" in result.stdout


def test_keygen_refuses_to_replace_a_key_without_force(tmp_path):
    assert run("keygen", "--out", str(tmp_path)).exit_code == 0

    again = run("keygen", "--out", str(tmp_path), "--json")

    assert again.exit_code == 2
    assert json.loads(again.stdout) == {"error": json.loads(again.stdout)["error"], "exit_code": 2}
    assert "already exists" in json.loads(again.stdout)["error"]
    assert run("keygen", "--out", str(tmp_path), "--force").exit_code == 0


def test_send_without_the_credential_options_is_a_usage_error(tmp_path):
    result = run("send", str(FIXTURES / "invoice-ubl.xml"))

    assert result.exit_code == 2


def test_send_with_a_key_file_that_is_not_a_key_is_a_usage_error(tmp_path):
    bad_key = tmp_path / "key.pem"
    bad_key.write_text("nope")

    result = run("send", str(FIXTURES / "invoice-ubl.xml"), *credentials(bad_key), "--json")

    assert result.exit_code == 2 and "not an unencrypted PEM private key" in json.loads(result.stdout)["error"]


def test_send_of_a_missing_file_is_a_usage_error(key_file, tmp_path):
    result = run("send", str(tmp_path / "absent.xml"), *credentials(key_file), "--json")

    assert result.exit_code == 2 and "no such file" in json.loads(result.stdout)["error"]


def test_send_of_an_empty_folder_is_a_usage_error(key_file, tmp_path):
    (tmp_path / "empty").mkdir()

    result = run("send", str(tmp_path / "empty"), *credentials(key_file))

    assert result.exit_code == 2


def test_send_of_a_folder_reports_each_file_and_exits_1_when_one_cannot_be_read(key_file, tmp_path, fake_publisher):
    folder = tmp_path / "outbox"
    folder.mkdir()
    shutil.copy(FIXTURES / "invoice-ubl.xml", folder / "a.xml")
    shutil.copy(FIXTURES / "credit-note-cii.xml", folder / "b.xml")
    (folder / "c.xml").write_text("<Invoice")

    result = run("send", str(folder), *credentials(key_file), "--json")

    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["sent"], data["failed"], data["exit_code"]) == (2, 1, 1)
    assert [(Path(r["item"]).name, r["status"]) for r in data["results"]] == [
        ("a.xml", "sent"),
        ("b.xml", "sent"),
        ("c.xml", "failed"),
    ]
    assert set(data["results"][0]) == {
        "item",
        "status",
        "external_id",
        "event_id",
        "key",
        "partition",
        "offset",
        "error",
    }
    assert "not well-formed XML" in data["results"][2]["error"]
    assert [event.partner_id for _, event in fake_publisher.batches[0]] == ["erp-7", "erp-7"]


def test_send_exits_0_and_summarises_when_everything_was_sent(key_file, fake_publisher):
    result = run("send", str(FIXTURES / "invoice-cii.xml"), *credentials(key_file))

    assert result.exit_code == 0
    assert "Sent 1, failed 0." in result.stdout and "F2026-000042" in result.stdout


def test_send_overrides_the_company_ids_of_the_files(key_file, fake_publisher):
    result = run(
        "send",
        str(FIXTURES / "sample-facturx-fr.xml"),
        *credentials(key_file),
        "--seller-company-id",
        "s-1",
        "--buyer-company-id",
        "b-1",
    )

    assert result.exit_code == 0, result.output
    event = fake_publisher.batches[0][0][1]
    assert (event.seller.company_id, event.buyer.company_id) == ("s-1", "b-1")


def test_send_exits_3_when_the_broker_cannot_be_reached(key_file, fake_publisher):
    fake_publisher.unreachable = True

    result = run("send", str(FIXTURES / "invoice-cii.xml"), *credentials(key_file), "--json")

    assert result.exit_code == 3 and "cannot reach Kafka" in json.loads(result.stdout)["error"]


def test_send_takes_the_bootstrap_from_the_environment(key_file, monkeypatch, fake_publisher):
    seen = {}

    class Recording(FakePublisher):
        def __init__(self, credential, *, bootstrap_servers=None):
            seen["bootstrap"] = bootstrap_servers

    monkeypatch.setattr(partner_commands, "PartnerPublisher", Recording)
    monkeypatch.setenv("FACTORA_KAFKA_BOOTSTRAP", "kafka.example:9092")

    assert run("send", str(FIXTURES / "invoice-cii.xml"), *credentials(key_file)).exit_code == 0
    assert seen["bootstrap"] == "kafka.example:9092"


def test_rejections_needs_a_partner_or_a_company():
    result = run("rejections", "--json")

    assert result.exit_code == 2 and "--partner-id" in json.loads(result.stdout)["error"]


def test_rejections_refuses_a_since_it_cannot_read():
    result = run("rejections", "--partner-id", "erp-7", "--since", "yesterday")

    assert result.exit_code == 2


def test_since_takes_an_age_or_an_iso_time():
    before = datetime.now(UTC)
    two_hours_ago = partner_commands.parse_since("2h")
    after = datetime.now(UTC)

    assert before - timedelta(hours=2) <= two_hours_ago <= after - timedelta(hours=2)
    assert partner_commands.parse_since("2026-03-02T08:00") == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert partner_commands.parse_since(None) is None
    with pytest.raises(typer.BadParameter):
        partner_commands.parse_since("soon")


def test_the_progress_bar_follows_the_acknowledgements():
    bar, advance = partner_commands._progress_bar(True)
    assert bar is not None and advance is not None

    advance(2, 5, SendResult(external_id="x"))

    assert (bar.tasks[0].completed, bar.tasks[0].total) == (2, 5)
    assert partner_commands._progress_bar(False) == (None, None)
