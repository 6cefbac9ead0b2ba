"""SMS adapters: E.164 normalisation, HTTP outcome classification (MockTransport), file sink."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from notifications.adapters import SendOutcome
from notifications.adapters.sms import (
    FileSmsSink,
    HttpSmsGateway,
    HttpSmsSettings,
    InvalidPhoneNumber,
    normalise_e164,
)

pytestmark = pytest.mark.unit

TOKEN = "sk_live_0123456789abcdef"
URL = "https://sms.example.test/v1/messages"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "FR", "+33612345678"),
        ("0033 6 12 34 56 78", "GB", "+33612345678"),
        ("07911 123456", "GB", "+447911123456"),
        ("(415) 555-0132", "US", "+14155550132"),
        ("1-415-555-0132", "US", "+14155550132"),
        ("06.12.34.56.78", "fr", "+33612345678"),
        ("02 1234 5678", "IT", "+390212345678"),
        ("+6591234567", "FR", "+6591234567"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, region: str, expected: str) -> None:
    assert normalise_e164(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", "FR"),
        ("call me", "FR"),
        ("+33 6 12 +34", "FR"),
        ("123", "FR"),
        ("0612345678", "ZZ"),
        ("+0612345678", "FR"),
        ("06 12 34 56", "FR"),  # two digits short
        ("07700 900123", "GB"),  # Ofcom's range reserved for drama: never a real line
        ("+1 415 555 013", "FR"),  # too short for the North American plan
        ("1-800-FLOWERS", "US"),  # letters are not dialled here
    ],
)
def test_impossible_numbers_are_refused(raw: str, region: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_e164(raw, region)


def gateway(handler, **settings) -> HttpSmsGateway:
    config = HttpSmsSettings(url=URL, token=SecretStr(TOKEN), **settings)
    return HttpSmsGateway(config, client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


async def test_accepted_sms_carries_idempotency_key_and_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"id": "msg-981"})

    result = await gateway(handler).send("+33612345678", "Factora : code 123456", "ledger-1")

    assert (result.outcome, result.code, result.provider_ref) == (SendOutcome.SENT, 202, "msg-981")
    [request] = seen
    assert request.headers["Idempotency-Key"] == "ledger-1"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {"to": "+33612345678", "from": "Factora", "text": "Factora : code 123456"}


async def test_basic_credentials_are_sent_as_basic_auth() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    config = HttpSmsSettings(url=URL, auth="basic", username="acct", password=SecretStr("s3cret"))
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    await HttpSmsGateway(config, client=client).send("+33612345678", "hi", "k")

    assert seen[0].headers["Authorization"] == "Basic " + base64.b64encode(b"acct:s3cret").decode()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, SendOutcome.SENT),
        (201, SendOutcome.SENT),
        (400, SendOutcome.PERMANENT),
        (404, SendOutcome.PERMANENT),
        (422, SendOutcome.PERMANENT),
        (401, SendOutcome.TRANSIENT),
        (403, SendOutcome.TRANSIENT),
        (408, SendOutcome.TRANSIENT),
        (429, SendOutcome.TRANSIENT),
        (500, SendOutcome.TRANSIENT),
        (503, SendOutcome.TRANSIENT),
    ],
)
async def test_status_codes_are_classified(status: int, outcome: SendOutcome) -> None:
    result = await gateway(lambda request: httpx.Response(status)).send("+33612345678", "hi", "k")

    assert (result.outcome, result.code) == (outcome, status)


async def test_rate_limit_passes_retry_after_on() -> None:
    result = await gateway(lambda r: httpx.Response(429, headers={"Retry-After": "30"})).send("+33612345678", "hi", "k")

    assert (result.outcome, result.retry_after) == (SendOutcome.TRANSIENT, 30.0)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ConnectError("refused"), SendOutcome.TRANSIENT),
        (httpx.ConnectTimeout("slow connect"), SendOutcome.TRANSIENT),
        (httpx.WriteTimeout("slow write"), SendOutcome.TRANSIENT),
        (httpx.ReadTimeout("no answer"), SendOutcome.UNKNOWN),
        (httpx.RemoteProtocolError("server hung up"), SendOutcome.UNKNOWN),
    ],
)
async def test_transport_failures_are_classified_by_whether_the_request_left(
    error: Exception, outcome: SendOutcome
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    result = await gateway(handler).send("+33612345678", "hi", "k")

    assert result.outcome is outcome


async def test_secrets_echoed_by_the_provider_are_scrubbed() -> None:
    result = await gateway(lambda r: httpx.Response(400, text=f"bad token {TOKEN}")).send("+33612345678", "hi", "k")

    assert TOKEN not in (result.detail or "") and "***" in (result.detail or "")


async def test_non_e164_recipient_is_permanent_without_a_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    result = await gateway(handler).send("06 12 34 56 78", "hi", "k")

    assert (result.outcome, result.stage) == (SendOutcome.PERMANENT, "address")


def test_settings_need_the_credentials_of_their_scheme() -> None:
    with pytest.raises(ValidationError, match="token"):
        HttpSmsSettings(url=URL)
    with pytest.raises(ValidationError, match="username"):
        HttpSmsSettings(url=URL, auth="basic")
    with pytest.raises(ValidationError, match="http"):
        HttpSmsSettings(url="ftp://sms.example.test", auth="none")


async def test_file_sink_appends_one_json_line_per_sms(tmp_path) -> None:
    sink = FileSmsSink(tmp_path / "sms" / "outbox.jsonl")

    first = await sink.send("+33612345678", "Factora : votre code est 123456.", "ledger-1")
    await sink.send("+447700900123", "Factora: your code is 654321.", "ledger-2")

    assert first.outcome is SendOutcome.SENT
    lines = (tmp_path / "sms" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["text"] == "Factora : votre code est 123456."
    assert [(e["to"], e["idempotency_key"]) for e in sink.read_all()] == [
        ("+33612345678", "ledger-1"),
        ("+447700900123", "ledger-2"),
    ]


async def test_file_sink_refuses_non_e164_numbers(tmp_path) -> None:
    sink = FileSmsSink(tmp_path / "outbox.jsonl")

    result = await sink.send("0612345678", "hi", "k")

    assert result.outcome is SendOutcome.PERMANENT
    assert sink.read_all() == []
