"""Secrets never reach a log line: the JSON formatter masks them wherever they slipped in."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from servicekit.logging import REDACTED, JsonFormatter, QuietProbes, redact

pytestmark = pytest.mark.unit

JWT = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0"
    ".eyJzdWIiOiJ1LTEiLCJjb21wYW55IjoiYy0xIiwiZXhwIjoxNzAwMDAwMDAwfQ"
    ".MEUCIQDx3yJ9n8mBqZ1Tq0mYQ"
)


def line(msg: str, *args: object, name: str = "identity.login", exc_info=None, **extra: object) -> dict:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return json.loads(JsonFormatter("identity").format(record))


def test_a_jwt_is_masked_wherever_it_appears_in_the_message():
    assert JWT not in line("refresh failed for %s", JWT)["message"]
    assert "[redacted-jwt]" in line("refresh failed for %s", JWT)["message"]


def test_a_bearer_credential_is_masked():
    entry = line("upstream said 401 to Authorization: Bearer %s", "opaque-refresh-token-1234567890")
    assert "opaque-refresh-token" not in entry["message"]
    assert f"Bearer {REDACTED}" in entry["message"]


def test_the_password_in_a_database_or_smtp_url_is_masked_but_the_rest_of_the_url_stays():
    entry = line("cannot reach %s", "postgresql+asyncpg://identity:Sup3r-s3cret@db.internal:5432/identity")
    assert entry["message"] == f"cannot reach postgresql+asyncpg://identity:{REDACTED}@db.internal:5432/identity"
    assert "hunter2-smtp" not in redact("smtp://mailer:hunter2-smtp@smtp.example.com:587")


def test_a_reset_link_in_an_access_log_line_loses_its_token_but_keeps_the_path():
    entry = line(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:50000",
        "GET",
        "/auth/password/reset?token=Zk3q9vX2mN7pL0aB4cD6eF8g&lang=fr",
        "1.1",
        200,
        name="uvicorn.access",
    )
    assert "Zk3q9vX2mN7pL0aB4cD6eF8g" not in entry["message"]
    assert f"/auth/password/reset?token={REDACTED}&lang=fr" in entry["message"]


@pytest.mark.parametrize(
    "text, secret",
    [
        ("{'email': 'a@b.example', 'password': 'correct horse battery staple'}", "correct horse battery staple"),
        ('{"refresh_token": "rt-9f8e7d6c5b4a", "user": "u-1"}', "rt-9f8e7d6c5b4a"),
        ('body: {"code": "482913"}', "482913"),
        ("client_secret='ps-abcdef123456'", "ps-abcdef123456"),
        ("recovery_codes: ['k3j4-h5g6', 'x']", None),
        ("form: email=a%40b.example&password=letmein-please-now", "letmein-please-now"),
        ("otp=771204 accepted", "771204"),
    ],
)
def test_secret_named_values_are_masked_in_reprs_json_and_forms(text, secret):
    masked = redact(text)
    if secret is not None:
        assert secret not in masked
    assert REDACTED in masked


def test_a_pem_private_key_is_masked_whole():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    assert redact(f"loaded key {pem} from file") == "loaded key [redacted-private-key] from file"


def test_ordinary_operational_text_is_left_alone():
    text = (
        "invoice F-2024-000123 sealed in 9.2 ms; status_code=200; rule BR-S-05; "
        "partition=2 offset=17; exited with code 1; http://127.0.0.1:8003/archive/documents/42"
    )
    assert redact(text) == text


def test_an_exception_message_is_masked_too():
    try:
        raise ValueError(f"token {JWT} rejected")
    except ValueError:
        entry = line("verify failed", exc_info=sys.exc_info())
    assert JWT not in entry["error"]
    assert "ValueError: token [redacted-jwt] rejected" in entry["error"]


def test_extra_context_such_as_faststreams_is_kept_as_fields_and_masked():
    entry = line(
        "Received",
        name="faststream",
        topic="invoicing.invoice-issued.v1",
        group_id="signing.invoicing.invoice-issued.v1",
        message_id="0-17",
        note=f"with {JWT}",
        color_message="\x1b[32mReceived\x1b[0m",
    )
    assert entry["topic"] == "invoicing.invoice-issued.v1"
    assert entry["group_id"] == "signing.invoicing.invoice-issued.v1"
    assert entry["message_id"] == "0-17"
    assert entry["note"] == "with [redacted-jwt]"
    assert "color_message" not in entry


def access(path: str, status: int) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", path, "1.1", status),
        None,
    )


def test_successful_probes_and_scrapes_are_not_logged_but_failures_and_api_calls_are():
    quiet = QuietProbes()
    assert not quiet.filter(access("/health/ready", 200))
    assert not quiet.filter(access("/metrics", 200))
    assert quiet.filter(access("/health/ready", 503))
    assert quiet.filter(access("/invoices", 200))
    assert quiet.filter(logging.makeLogRecord({"name": "invoicing", "msg": "/metrics"}))


@pytest.mark.parametrize(
    "text",
    ["csrf_token=abcdef0123", "mfa_code=123456", "{'partner_secret': 'ps-live-1234'}", '"new_password": "x y z"'],
)
def test_any_field_named_like_a_token_secret_password_or_verification_code_is_masked(text):
    assert REDACTED in redact(text)


@pytest.mark.parametrize("text", ["country_code=FR", "error_code=3", '"token_type": "bearer"', "exit code 1"])
def test_fields_that_only_look_like_secret_names_are_not_masked(text):
    assert redact(text) == text
