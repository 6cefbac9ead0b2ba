"""No secret reaches a service log, after a full journey on the real network.

The journey (sign-up, e-mail verification, sign-in, e-mail MFA enrolment, token refresh, password
reset, sign-in with a recovery code, partner key issue, a signed partner invoice through to its
e-mail, and requests carrying secrets where they should never be: bearer headers, reset links in
query strings) collects every secret it handles. Then every line of every service log of the
session (this journey's and those of the e2e tests before it) is scanned for:

- each collected value: passwords, e-mail verification and reset tokens, MFA codes, access JWTs,
  refresh tokens, recovery codes, the partner private key, and the value of every variable of the
  services' environment named like a secret (PASSWORD, SECRET, PASSPHRASE, TOKEN, PRIVATE_KEY,
  API_KEY; the SMTP password among them when one is set);
- secret shapes, whoever they belong to: JWTs, PEM private keys, argon2 hashes, otpauth:// URIs,
  passwords in URLs (scheme://user:password@), bearer credentials, and secret-named fields
  (password, *_token, secret, recovery_codes, private_key_pem...) with an unmasked value.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from contracts import catalogue
from contracts.examples import sample_partner_invoice, signed_sample_record
from devstack.config import SERVICES

SECRET_ENV = re.compile(r"PASSWORD|SECRET|PASSPHRASE|TOKEN|PRIVATE_KEY|API_KEY", re.I)
# Fields of a JSON log line that are ours, not data: never scanned (hex ids look like anything).
META_FIELDS = {"time", "level", "service", "logger", "trace_id", "span_id"}
_NAME = r"(?<![\w-])(?:[a-z0-9]+_)*(?:password|token|secret|passphrase|private_key(?:_pem)?|recovery_codes?)"
_UNMASKED = r"(?!\[redacted|\*+|null\b|None\b)"
SHAPES = {
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),
    "PEM private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "argon2 hash": re.compile(r"\$argon2(?:id|i|d)\$"),
    "TOTP secret URI": re.compile(r"otpauth://"),
    "password in a URL": re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@\"']+:" + _UNMASKED + r"[^@\s/\"']+@"),
    "bearer credential": re.compile(r"(?i)\bbearer\s+" + _UNMASKED + r"[A-Za-z0-9._~+/-]{16,}"),
    # 'password': 'x', "refresh_token": "x", recovery_codes=['x'] (a repr or JSON), or token=x (a URL or form)
    "secret-named field": re.compile(
        rf"(?i){_NAME}[\"']?\s*:\s*(?:[\"']|\[\s*[\"']){_UNMASKED}[^\"'\s]{{4,}}"
        rf"|{_NAME}={_UNMASKED}[\"']?[^&\s\"',)}}\]]{{4,}}"
    ),
}


@dataclass
class Journey:
    """What the journey handled that must never be logged: (what, value)."""

    secrets: list[tuple[str, str]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def keep(self, what: str, value: str | None) -> None:
        if value:
            self.secrets.append((what, value))


def body_of(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


async def next_mail(smtp_catcher, to: str, subject: str, seen: set[str]) -> EmailMessage:
    mail = await smtp_catcher.wait_for(
        lambda m: to in m.get("To", "") and subject in m.get("Subject", "") and m["Message-ID"] not in seen,
        timeout=60,
    )
    seen.add(mail["Message-ID"])
    return mail


def link_token(mail: EmailMessage) -> str:
    found = re.search(r"token=([A-Za-z0-9_\-.~%]+)", body_of(mail))
    assert found, f"no token link in: {body_of(mail)}"
    return found.group(1)


def mail_code(mail: EmailMessage) -> str:
    found = re.search(r"^\s+(\d{6,8})\s*$", body_of(mail), re.M)
    assert found, f"no code in: {body_of(mail)}"
    return found.group(1)


async def ok(response: httpx.Response, step: str, journey: Journey) -> dict:
    assert response.status_code < 300, f"{step}: {response.status_code} {response.text}"
    journey.steps.append(step)
    return response.json() if response.content else {}


async def identity_journey(network, smtp_catcher, journey: Journey) -> None:
    """Sign-up to partner key, through every secret identity hands out or takes in."""
    email = f"secrets-{uuid.uuid4().hex[:10]}@example.com"
    first_password = f"Canary pw {secrets.token_urlsafe(12)}"
    second_password = f"Canary pw2 {secrets.token_urlsafe(12)}"
    journey.keep("password", first_password)
    journey.keep("new password", second_password)
    seen: set[str] = set()
    async with httpx.AsyncClient(base_url=network.service_url("identity"), timeout=30) as http:
        await ok(
            await http.post(
                "/signup",
                json={
                    "company": {
                        "legal_name": "Secret Scan SARL",
                        "country": "FR",
                        "tax_id": f"RCS-{secrets.randbelow(10**9):09d}",
                        "address": {"line1": "1 rue de la Paix", "postcode": "75002", "city": "Paris"},
                        "locale": "en",
                    },
                    "user": {"email": email, "full_name": "Ada Scan", "password": first_password, "locale": "en"},
                },
            ),
            "sign-up",
            journey,
        )
        verification = link_token(await next_mail(smtp_catcher, email, "Confirm your e-mail", seen))
        journey.keep("e-mail verification token", verification)
        await ok(await http.post("/signup/verify-email", json={"token": verification}), "verify e-mail", journey)

        step = await ok(
            await http.post("/login", json={"email": email, "password": first_password}), "sign-in", journey
        )
        journey.keep("MFA sign-in token", step["mfa_token"])
        await ok(
            await http.post("/login/mfa/enrol", json={"mfa_token": step["mfa_token"], "method": "email"}),
            "enrol e-mail factor",
            journey,
        )
        code = mail_code(await next_mail(smtp_catcher, email, "verification code", seen))
        journey.keep("MFA code", code)
        tokens = await ok(
            await http.post("/login/mfa/enrol/confirm", json={"mfa_token": step["mfa_token"], "code": code}),
            "confirm factor",
            journey,
        )
        journey.keep("access token", tokens["access_token"])
        journey.keep("refresh token", tokens["refresh_token"])
        recovery_codes = tokens.get("recovery_codes") or []
        for recovery in recovery_codes:
            journey.keep("recovery code", recovery)

        refreshed = await ok(
            await http.post("/token/refresh", json={"refresh_token": tokens["refresh_token"]}), "refresh", journey
        )
        journey.keep("access token", refreshed["access_token"])
        journey.keep("refresh token", refreshed["refresh_token"])

        issued = await ok(
            await http.post(
                "/company/partners",
                json={"name": "Scan ERP"},
                headers={"Authorization": f"Bearer {refreshed['access_token']}"},
            ),
            "partner key",
            journey,
        )
        pem = issued["private_key_pem"]
        journey.keep("partner private key", pem)
        for line in pem.splitlines():
            if len(line) >= 40 and not line.startswith("-----"):
                journey.keep("partner private key (base64 line)", line)
        await submit_signed_invoice(
            network, pem, issued["key"]["key_id"], refreshed["company_id"], issued["partner"]["partner_id"], journey
        )

        await ok(await http.post("/password/forgot", json={"email": email}), "forgot password", journey)
        reset = link_token(await next_mail(smtp_catcher, email, "Reset your Factora password", seen))
        journey.keep("password reset token", reset)
        await ok(
            await http.post("/password/reset", json={"token": reset, "new_password": second_password}),
            "reset password",
            journey,
        )
        step = await ok(
            await http.post("/login", json={"email": email, "password": second_password}), "sign-in again", journey
        )
        if recovery_codes:
            await ok(
                await http.post(
                    "/login/mfa/verify", json={"mfa_token": step["mfa_token"], "recovery_code": recovery_codes[0]}
                ),
                "recovery code",
                journey,
            )


async def submit_signed_invoice(
    network, pem: str, key_id: str, company_id: str, partner_id: str, journey: Journey
) -> None:
    """A partner submission signed with the issued key, as the partner's ERP would send it."""
    from aiokafka import AIOKafkaProducer

    private_key = load_pem_private_key(pem.encode(), password=None)
    event = sample_partner_invoice(buyer_email=f"buyer-{uuid.uuid4().hex[:8]}@example.com")
    event = event.model_copy(
        update={"partner_id": partner_id, "seller": event.seller.model_copy(update={"company_id": company_id})}
    )
    key, headers, value = signed_sample_record(
        event,
        private_key=private_key,  # type: ignore[arg-type]
        key_id=key_id,
    )
    producer = AIOKafkaProducer(bootstrap_servers=network.env["KAFKA_BOOTSTRAP_SERVERS"])
    await producer.start()
    try:
        await producer.send_and_wait(
            catalogue.PARTNER_INVOICE_SUBMITTED.name,
            value,
            key=key.encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
    finally:
        await producer.stop()
    journey.steps.append("signed partner submission")


async def secrets_where_they_do_not_belong(network, journey: Journey) -> None:
    """Secrets a careless client (or an attacker) puts in headers and URLs: they must not be logged either."""
    fake_jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjYW5hcnkiLCJzZWNyZXQiOiJ5ZXMifQ." + secrets.token_urlsafe(32)
    reset_in_url, refresh_in_url = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    journey.keep("bearer token sent by a client", fake_jwt)
    journey.keep("reset token in a URL", reset_in_url)
    journey.keep("refresh token in a URL", refresh_in_url)
    probes = {
        "identity": [
            "/me",
            f"/password/reset?token={reset_in_url}&lang=en",
            f"/token/refresh?refresh_token={refresh_in_url}",
        ],
        "invoicing": ["/invoices"],
        "signing": [f"/archive/documents/{uuid.uuid4()}"],
        "notifications": ["/deliveries"],
        "support": ["/cases"],
    }
    async with httpx.AsyncClient(timeout=30) as http:
        for service, paths in probes.items():
            for path in paths:
                response = await http.get(
                    network.service_url(service) + path, headers={"Authorization": f"Bearer {fake_jwt}"}
                )
                assert response.status_code in (401, 403, 404, 405, 422), f"{service} {path}: {response.status_code}"
    journey.steps.append("secrets in headers and URLs")


def environment_secrets(network) -> list[tuple[str, str]]:
    return [
        (f"${name}", value)
        for name, value in network.env.items()
        if SECRET_ENV.search(name) and len(value) >= 8 and not name.startswith("OTEL_")
    ]


def texts_of(line: str) -> list[str]:
    """The parts of a log line that carry data: every non-meta field of a JSON line, or the raw line."""
    try:
        entry = json.loads(line)
    except ValueError:
        return [line]
    if not isinstance(entry, dict):
        return [line]
    return [str(v) for k, v in entry.items() if k not in META_FIELDS]


def bounded(value: str) -> re.Pattern[str]:
    # A value must stand alone (not inside a longer word or number): a 6-digit code occurs in hex ids.
    return re.compile(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])")


def scan(log_paths: list[Path], known: list[tuple[str, str]]) -> list[str]:
    findings = []
    patterns = [(what, bounded(value)) for what, value in known]
    for path in log_paths:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for text in texts_of(line):
                hits = [what for what, pattern in patterns if pattern.search(text)]
                hits += [shape for shape, pattern in SHAPES.items() if pattern.search(text)]
                for what in dict.fromkeys(hits):
                    findings.append(f"{path.name}:{number}: {what}: {line[:300]}")
    return findings


@pytest.mark.e2e
@pytest.mark.slow
async def test_no_service_log_holds_a_password_token_code_link_or_key_after_a_full_journey(
    running_network, smtp_catcher
):
    journey = Journey()
    await secrets_where_they_do_not_belong(running_network, journey)
    await identity_journey(running_network, smtp_catcher, journey)
    await asyncio.sleep(1.5)  # the last log lines of the services (unbuffered, but across processes)

    known = journey.secrets + environment_secrets(running_network)
    assert {"password", "MFA code", "access token", "refresh token", "password reset token"} <= {
        what for what, _ in known
    }, journey.steps
    logs = [running_network.log_path(name) for name in SERVICES]
    assert all(path.exists() for path in logs)
    findings = scan(logs, known)
    assert not findings, "secrets in the service logs:\n" + "\n".join(findings[:40])


@pytest.mark.unit
def test_the_scanner_finds_each_kind_of_secret_it_looks_for(tmp_path):
    """The scan itself: a log with one leak of each kind yields one finding per kind; a clean log none."""
    leaky = tmp_path / "leaky.log"
    lines = [
        {"message": "login for a@b.example with password Canary-pw-123456"},
        {"message": "verify eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJlLWJ5dGVz"},
        {"message": "key -----BEGIN PRIVATE KEY----- MC4CAQAw"},
        {"message": "stored $argon2id$v=19$m=65536"},
        {"message": "enrol otpauth://totp/Factora:a?secret=JBSWY3DP"},
        {"message": "connect postgresql+asyncpg://identity:hunter2hunter2@db/identity"},
        {"message": "upstream Authorization: Bearer opaque-token-abcdefghijkl"},
        {"message": "body {'refresh_token': 'rt-0123456789'}"},
        {"message": "your code 482913 was sent", "trace_id": "0000000000000000000000000000482913"},
    ]
    leaky.write_text("\n".join(json.dumps(line) for line in lines) + "\nraw stderr: reset?token=Zk3q9vX2mN7p\n")
    known = [("password", "Canary-pw-123456"), ("MFA code", "482913"), ("reset token", "Zk3q9vX2mN7p")]
    findings = scan([leaky], known)
    kinds = {f.split(": ")[1] for f in findings}
    assert kinds == {"password", "MFA code", "reset token", *SHAPES}
    clean = tmp_path / "clean.log"
    clean.write_text(
        json.dumps({"message": "invoice F-1 sealed; password=[redacted]; Bearer [redacted]; 4829130 rows"})
        + "\n"
        + json.dumps({"message": "user.password: String should have at least 12 characters", "x": None})
        + "\n"
        + json.dumps({"message": '{"token_type": "Bearer", "access_token": null}; postgresql://u:***@db/x'})
        + "\n"
        + json.dumps({"message": "uuid b7453f4b-2a47-4513-ba01-0b16e2d12986", "trace_id": "482913"})
        + "\n"
    )
    assert scan([clean], known) == []
