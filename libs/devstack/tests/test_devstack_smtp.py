"""The SMTP catcher: what is sent is stored as .eml, readable back; AUTH and standalone mode."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage

import pytest

from devstack.config import PortSpec
from devstack.smtp_catcher import SmtpCatcher, list_messages, wait_for_message

pytestmark = pytest.mark.integration


def _mail(to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "noreply@factora.test"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Votre facture est disponible. Montant : 1 234,56 €")
    return msg


async def test_a_mail_sent_with_smtplib_is_stored_and_read_back(smtp_catcher):
    with smtplib.SMTP(smtp_catcher.host, smtp_catcher.port, timeout=10) as client:
        client.send_message(_mail("buyer@example.test", "Facture F-0001"))

    msg = await smtp_catcher.wait_for(lambda m: m["Subject"] == "Facture F-0001", timeout=5)

    assert msg["To"] == "buyer@example.test"
    assert "1 234,56 €" in msg.get_content()
    files = sorted(smtp_catcher.mail_dir.glob("*.eml"))
    assert files
    assert b"Subject: Facture F-0001" in files[-1].read_bytes()


async def test_waiting_for_a_mail_that_never_comes_says_what_did_arrive(smtp_catcher):
    with pytest.raises(TimeoutError, match=r"no matching e-mail .* message\(s\) there"):
        await smtp_catcher.wait_for(lambda m: m["Subject"] == "never sent", timeout=0.3)


def test_auth_can_be_required(tmp_path, free_port):
    catcher = SmtpCatcher(
        port=PortSpec("SMTP catcher", free_port(), "FACTORA_SMTP_PORT"),
        mail_dir=tmp_path / "mail",
        username="factora",
        password="s3cret",
    )
    catcher.start()
    try:
        with (
            smtplib.SMTP(catcher.host, catcher.port, timeout=10) as client,
            pytest.raises(smtplib.SMTPSenderRefused),
        ):
            client.send_message(_mail("a@example.test", "no auth"))
        with smtplib.SMTP(catcher.host, catcher.port, timeout=10) as client:
            client.login("factora", "s3cret")
            client.send_message(_mail("a@example.test", "with auth"))
        assert [m["Subject"] for m in catcher.messages()] == ["with auth"]
    finally:
        catcher.stop()


def test_the_catcher_runs_standalone(tmp_path, free_port):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack.smtp_catcher", "--port", str(port), "--dir", str(tmp_path / "mail")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "SMTP catcher on 127.0.0.1" in proc.stdout.readline()
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(_mail("ops@example.test", "standalone"))
        msg = wait_for_message(tmp_path / "mail", lambda m: m["Subject"] == "standalone", timeout=5)
        assert msg["To"] == "ops@example.test"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
    assert len(list_messages(tmp_path / "mail")) == 1


def test_many_messages_keep_their_arrival_order(tmp_path, free_port):
    catcher = SmtpCatcher(port=PortSpec("SMTP catcher", free_port(), "X"), mail_dir=tmp_path / "mail")
    catcher.start()
    try:
        with smtplib.SMTP(catcher.host, catcher.port, timeout=10) as client:
            for i in range(20):
                client.send_message(_mail("a@example.test", f"n{i:02d}"))
        deadline = time.monotonic() + 5
        while len(catcher.messages()) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m["Subject"] for m in catcher.messages()] == [f"n{i:02d}" for i in range(20)]
    finally:
        catcher.stop()
