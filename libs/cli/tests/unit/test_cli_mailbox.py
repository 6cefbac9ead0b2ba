"""Reading the SMTP catcher's .eml files: recipients, bodies, link tokens, waiting, and where the folder is."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from factora_cli.mailbox import (
    MailTimeout,
    default_mail_dir,
    find_repo_root,
    read_mail,
    wait_for_mail,
)

pytestmark = pytest.mark.unit


def test_recipients_are_read_from_to_and_cc_with_display_names_and_any_case(network, mail_dir):
    network.write_eml(mail_dir, '"Brasserie" <Factures+ab@Brasserie.example.com>', "Nouvelle facture", "x", cc="a@b.fr")

    (mail,) = read_mail(mail_dir)

    assert mail.recipients == {"factures+ab@brasserie.example.com", "a@b.fr"}
    assert mail.addressed_to("FACTURES+ab@brasserie.example.com")
    assert not mail.addressed_to("factures@brasserie.example.com")


def test_the_link_token_is_taken_from_the_url_fragment_of_the_plain_text(network, mail_dir):
    body = "Bonjour,\n\nhttp://127.0.0.1:8001/verify-email#token=Ab_9-xYz\n\nMerci"
    network.write_eml(mail_dir, "a@b.fr", "Confirmez votre adresse e-mail", body)

    (mail,) = read_mail(mail_dir)

    assert mail.link_token() == "Ab_9-xYz"
    assert "Bonjour" in mail.text and mail.subject == "Confirmez votre adresse e-mail"


def test_a_message_without_a_link_has_no_token(network, mail_dir):
    network.write_eml(mail_dir, "a@b.fr", "Nouvelle facture F2026-000001", "Voir https://portal/invoices/1")

    assert read_mail(mail_dir)[0].link_token() is None


def test_messages_come_oldest_first_and_half_written_files_are_ignored(network, mail_dir):
    first = network.write_eml(mail_dir, "a@b.fr", "one", "1")
    second = network.write_eml(mail_dir, "a@b.fr", "two", "2")
    (mail_dir / ".20990101T000000Z-000001-1.eml.tmp").write_bytes(b"To: a@b.fr\r\n")
    (mail_dir / ".hidden.eml").write_bytes(b"To: a@b.fr\r\nSubject: hidden\r\n\r\nx")

    assert [m.path for m in read_mail(mail_dir)] == [first, second]


def test_waiting_returns_a_message_that_arrives_meanwhile(network, mail_dir):
    import threading

    threading.Timer(0.3, network.write_eml, (mail_dir, "late@b.fr", "late", "x")).start()

    mail = wait_for_mail(mail_dir, lambda m: m.addressed_to("late@b.fr"), timeout=5, poll_s=0.05)

    assert mail.subject == "late"


def test_a_wait_that_times_out_says_what_did_arrive(network, mail_dir):
    network.write_eml(mail_dir, "other@b.fr", "Something else", "x")
    started = time.monotonic()

    with pytest.raises(MailTimeout) as caught:
        wait_for_mail(mail_dir, lambda m: False, timeout=0.3, poll_s=0.05, what="the invoice e-mail")

    assert time.monotonic() - started < 2
    assert "the invoice e-mail did not arrive" in str(caught.value)
    assert "to other@b.fr: 'Something else'" in str(caught.value)


def test_the_mail_folder_follows_the_stack_state_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("FACTORA_STATE_DIR", str(tmp_path / "state"))

    assert default_mail_dir() == (tmp_path / "state" / "mail").resolve()


def test_without_a_state_folder_it_is_the_checkouts_local_stack(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.uv.workspace]\nmembers = []\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.delenv("FACTORA_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path / "sub")

    assert find_repo_root() == tmp_path.resolve()
    assert default_mail_dir() == tmp_path.resolve() / ".local" / "stack" / "mail"


def test_outside_a_checkout_it_is_under_the_current_folder(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("FACTORA_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)

    assert find_repo_root() is None
    assert default_mail_dir() == tmp_path.resolve() / ".local" / "stack" / "mail"
