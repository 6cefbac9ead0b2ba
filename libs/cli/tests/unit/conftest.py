"""A fake Factora network behind an httpx.MockTransport, and .eml writing, for the CLI's unit tests."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from factora_cli import api as api_module

GATEWAY = "http://gateway.test"
SEALED_PDF = b"%PDF-1.7\n% a sealed invoice\n%%EOF\n"
_sequence = itertools.count()


def write_eml(mail_dir: Path, to: str, subject: str, body: str, cc: str | None = None) -> Path:
    """One message as the SMTP catcher stores it (sortable name, whole file)."""
    message = EmailMessage()
    message["From"] = "Factora <no-reply@factora.example>"
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message.set_content(body)
    message.add_alternative(f"<p>{body}</p>", subtype="html")
    mail_dir.mkdir(parents=True, exist_ok=True)
    path = mail_dir / f"20260101T000000{next(_sequence):06d}Z-000000-1.eml"
    path.write_bytes(message.as_bytes())
    return path


def report(integrity: str = "intact", trusted: bool = True) -> dict[str, Any]:
    """A VerificationReport as signing's POST /verify answers it."""
    valid = integrity == "intact" and trusted
    return {
        "integrity": integrity,
        "valid": valid,
        "summary": f"The document is {integrity}.",
        "signatures": 0 if integrity == "unsigned" else 1,
        "signer": None
        if integrity == "unsigned"
        else {"subject": "CN=Factora Seal", "issuer": "CN=Root", "serial": "0a"},
        "signing_time": "2026-11-28T07:00:00Z",
        "signing_time_source": "signer",
        "timestamp": None,
        "trust": {"trusted": trusted, "problem": None if trusted else "the signer does not chain to our roots"},
        "archive": {"matched": valid, "message": "matches archive entry A" if valid else "no match visible to you"},
        "coverage": "ENTIRE_FILE",
        "document": {"sha256": "ab" * 32, "size_bytes": 42},
        "problem": None if integrity == "intact" else "the file was changed after it was signed",
    }


@dataclass
class User:
    email: str
    password: str
    company_id: str
    verified: bool = False
    secret: str = ""
    last_step: int = -1


@dataclass
class FakeNetwork:
    """Identity, invoicing and signing as the demo and the archive/verify commands use them."""

    mail_dir: Path
    balance: int = 20
    seal_outcome: str = "sealed"
    send_delivery_mail: bool = True
    down: bool = False
    upstream_down: set[str] = field(default_factory=set)
    verify_answer: tuple[int, Any] = (200, report())
    archive_status: int = 200
    users: dict[str, User] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    purchases: int = 0
    refreshed: int = 0
    # Shared with the test modules through the fixture (they cannot import this conftest by name).
    gateway: str = GATEWAY
    sealed_pdf: bytes = SEALED_PDF
    write_eml = staticmethod(write_eml)
    report = staticmethod(report)

    # ------------------------------------------------------------------ plumbing

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        found = re.fullmatch(r"/api/(\w+)(/.*)", path)
        if not found:
            return httpx.Response(404, json={"error": "not_found", "detail": "no route"})
        service, rest = found.groups()
        if service in self.upstream_down:
            return httpx.Response(502, json={"error": "service_unreachable", "detail": f"{service} is not reachable"})
        if rest.startswith("/health"):  # as the real gateway: probes stay on the service ports
            return httpx.Response(404, json={"error": "not_exposed", "detail": "not served through the gateway"})
        body = (
            json.loads(request.content)
            if request.content and request.headers.get("content-type") == "application/json"
            else None
        )
        method = getattr(self, f"{service}_{request.method.lower()}", None)
        if method is None:
            return httpx.Response(404, json={"detail": "no such endpoint"})
        return method(rest, body, request)

    def path_of(self, service: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == f"/api/{service}{path}"]

    def _tokens(self, user: User) -> dict[str, Any]:
        return {
            "access_token": f"access-{uuid.uuid4().hex}",
            "refresh_token": f"refresh-{uuid.uuid4().hex}",
            "expires_in": 600,
            "refresh_expires_in": 3600,
            "session_id": "s",
            "acr": "aal2",
            "rights": ["admin", "invoices:create"],
            "user_id": f"user-{user.email}",
            "company_id": user.company_id,
            "token_type": "Bearer",
        }

    def _code_ok(self, user: User, code: str) -> bool:
        totp = pyotp.TOTP(user.secret)
        import time

        now = int(time.time() // 30)
        for step in (now - 1, now, now + 1):
            if totp.at(step * 30) == code and step > user.last_step:
                user.last_step = step
                return True
        return False

    # ------------------------------------------------------------------ identity

    def identity_post(self, path: str, body: Any, request: httpx.Request) -> httpx.Response:
        if path == "/signup":
            email = body["user"]["email"]
            self.users[email] = User(email, body["user"]["password"], str(uuid.uuid4()))
            token = uuid.uuid4().hex
            self.users[email].secret = ""
            self.pending = getattr(self, "pending", {})
            self.pending[token] = email
            write_eml(
                self.mail_dir, email, "Confirmez votre adresse e-mail", f"http://portal.test/verify-email#token={token}"
            )
            return httpx.Response(202, json={"status": "accepted", "detail": "check your mail"})
        if path == "/signup/verify-email":
            email = self.pending.pop(body["token"], None)
            if email is None:
                return httpx.Response(400, json={"error": "invalid_link", "detail": "This link is not valid."})
            self.users[email].verified = True
            return httpx.Response(200, json={"status": "done"})
        if path == "/login":
            user = self.users.get(body["email"])
            if user is None or user.password != body["password"] or not user.verified:
                return httpx.Response(401, json={"error": "invalid_credentials", "detail": "Wrong e-mail or password."})
            status = "mfa_required" if user.secret else "mfa_enrolment_required"
            return httpx.Response(
                200, json={"status": status, "mfa_token": f"mfa:{user.email}", "expires_in": 300, "methods": ["totp"]}
            )
        user = self.users[body["mfa_token"].removeprefix("mfa:")] if body and "mfa_token" in body else None
        if path == "/login/mfa/enrol":
            assert user is not None
            user.pending_secret = pyotp.random_base32()  # type: ignore[attr-defined]
            return httpx.Response(200, json={"method": "totp", "secret": user.pending_secret})  # type: ignore[attr-defined]
        if path == "/login/mfa/enrol/confirm":
            assert user is not None
            user.secret = user.pending_secret  # type: ignore[attr-defined]
            if not self._code_ok(user, body["code"]):
                return httpx.Response(400, json={"error": "invalid_code", "detail": "Wrong code."})
            return httpx.Response(200, json={**self._tokens(user), "recovery_codes": ["r"] * 10})
        if path == "/login/mfa/verify":
            assert user is not None
            if not self._code_ok(user, body["code"]):
                return httpx.Response(401, json={"error": "invalid_code", "detail": "Wrong or reused code."})
            return httpx.Response(200, json=self._tokens(user))
        if path == "/token/refresh":
            self.refreshed += 1
            user = next(iter(self.users.values()), User("x@example.com", "p", "c"))
            return httpx.Response(200, json=self._tokens(user))
        if path == "/company/contacts":
            return httpx.Response(201, json={"contact_id": "c1", **body})
        return httpx.Response(404, json={"detail": "no such endpoint"})

    # ------------------------------------------------------------------ invoicing

    def invoicing_post(self, path: str, body: Any, request: httpx.Request) -> httpx.Response:
        if path == "/relationships/invitations":
            return httpx.Response(
                201, json={"id": str(uuid.uuid4()), "code": "ABCD-EFGH-JKLM", "expires_at": "2027-01-01"}
            )
        if path == "/relationships/invitations/redeem":
            return httpx.Response(200, json={"id": str(uuid.uuid4()), "status": "active"})
        if path == "/invoices":
            invoice_id = str(uuid.uuid4())
            self.invoices[invoice_id] = {
                "id": invoice_id,
                "status": "draft",
                "number": None,
                "payable": "5412.00",
                "archive_id": None,
                "contact": body["buyer_contact_email"],
                "validation_report": {"valid": True, "findings": []},
            }
            return httpx.Response(201, json=self.invoices[invoice_id])
        if path == "/billing/purchases":
            self.purchases += 1
            self.balance += 10
            return httpx.Response(201, json={"id": "p1", "status": "paid", "credits": 10})
        found = re.fullmatch(r"/invoices/([^/]+)/issue", path)
        if found:
            if self.balance < 1:
                return httpx.Response(402, json={"code": "no_credits_left", "detail": "No transaction credit left."})
            self.balance -= 1
            invoice = self.invoices[found.group(1)]
            invoice.update(status="issued", number="F2026-000042")
            if self.seal_outcome == "sealed":
                invoice.update(status="delivered", archive_id=str(uuid.uuid4()))
                if self.send_delivery_mail:
                    write_eml(self.mail_dir, invoice["contact"], "Nouvelle facture F2026-000042", "Bonjour,")
            else:
                invoice["status"] = self.seal_outcome
            return httpx.Response(200, json=invoice)
        return httpx.Response(404, json={"detail": "no such endpoint"})

    def invoicing_get(self, path: str, body: Any, request: httpx.Request) -> httpx.Response:
        if path == "/billing/balance":
            return httpx.Response(200, json={"balance": self.balance, "low_threshold": 5, "movements": []})
        if path == "/billing/packs":
            return httpx.Response(200, json=[{"id": "pack-100", "credits": 100}, {"id": "pack-10", "credits": 10}])
        if path == "/invoices":
            items = [
                {"number": i["number"], "archive_id": i["archive_id"], "status": i["status"]}
                for i in self.invoices.values()
            ]
            return httpx.Response(200, json={"items": items, "total": len(items), "limit": 200, "offset": 0})
        found = re.fullmatch(r"/invoices/([^/]+)", path)
        if found and found.group(1) in self.invoices:
            return httpx.Response(200, json=self.invoices[found.group(1)])
        return httpx.Response(404, json={"code": "not_found", "detail": "No such invoice for your company."})

    # ------------------------------------------------------------------ signing

    def signing_get(self, path: str, body: Any, request: httpx.Request) -> httpx.Response:
        if self.archive_status != 200:
            return httpx.Response(self.archive_status, json={"detail": "Not found"})
        known = {i["archive_id"] for i in self.invoices.values() if i["archive_id"]}
        found = re.fullmatch(r"/archive/documents/([^/]+)(/bundle|/xml)?", path)
        if not found or found.group(1) not in known:
            return httpx.Response(404, json={"detail": "Not found"})
        content = {None: SEALED_PDF, "/bundle": b"PK\x03\x04zip", "/xml": b"<rsm:CrossIndustryInvoice/>"}[
            found.group(2)
        ]
        return httpx.Response(200, content=content, headers={"content-type": "application/pdf"})

    def signing_post(self, path: str, body: Any, request: httpx.Request) -> httpx.Response:
        status, answer = self.verify_answer
        return httpx.Response(status, json=answer)


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def network(mail_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNetwork]:
    """Every HTTP call of the CLI goes to this fake network."""
    fake = FakeNetwork(mail_dir=mail_dir)
    monkeypatch.setattr(api_module, "DEFAULT_TRANSPORT", httpx.MockTransport(fake.handler))
    monkeypatch.delenv("FACTORA_TOKEN", raising=False)
    monkeypatch.delenv("FACTORA_SESSION", raising=False)
    monkeypatch.delenv("FACTORA_API_URL", raising=False)
    yield fake
