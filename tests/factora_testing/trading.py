"""Trading steps members take through the gateway in the journey tests: join, connect, invoice, follow.

Every call goes to `{gateway}/api/<service>` with the member's own access token. What identity
publishes reaches invoicing's party read model over Kafka, so the helpers that depend on it poll
invoicing's API until the change shows, instead of sleeping a fixed time.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import httpx

from factora_testing.portal import Member, Portal, new_member, unique_email

T = TypeVar("T")
PROPAGATION_TIMEOUT_S = 180.0

ADDRESSES: dict[str, dict[str, str]] = {
    "FR": {"line1": "12 rue des Lilas", "postcode": "69003", "city": "Lyon"},
    "DE": {"line1": "Friedrichstraße 68", "postcode": "10117", "city": "Berlin"},
    "BE": {"line1": "Rue Neuve 21", "postcode": "1000", "city": "Bruxelles"},
    "US": {"line1": "350 Fifth Avenue", "postcode": "10118", "city": "New York", "region": "NY"},
}


def company(
    legal_name: str, country: str, *, vat_id: str | None = None, tax_id: str | None = None, locale: str = "fr"
) -> dict[str, Any]:
    """A company profile for POST /signup (identity needs a VAT id or, failing that, a tax id)."""
    profile: dict[str, Any] = {
        "legal_name": legal_name,
        "country": country,
        "address": ADDRESSES[country],
        "locale": locale,
    }
    if vat_id:
        profile["vat_id"] = vat_id
    if tax_id:
        profile["tax_id"] = tax_id
    return profile


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, timeout_s: float = PROPAGATION_TIMEOUT_S
) -> T:
    """The first non-None result of `probe`, polled until `timeout_s`; fails naming `what` was awaited."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout_s:.0f} s for {what}")
        await asyncio.sleep(0.5)


@dataclass
class Trader:
    """A member company at work: its administrator's session and an API call per service, through the gateway."""

    name: str
    portal: Portal
    member: Member
    invoice_email: str | None = None

    @property
    def company_id(self) -> str:
        return self.member.company_id

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request to `{gateway}/api/<service><path>` with the administrator's access token."""
        headers = {**self.member.headers, **kwargs.pop("headers", {})}
        async with self.portal.client(service) as client:
            return await client.request(method, path, headers=headers, **kwargs)

    async def get(self, service: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.call("GET", service, path, **kwargs)

    async def post(self, service: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.call("POST", service, path, **kwargs)

    async def put(self, service: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.call("PUT", service, path, **kwargs)

    async def delete(self, service: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.call("DELETE", service, path, **kwargs)


async def join(
    portal: Portal,
    smtp_catcher,  # type: ignore[no-untyped-def]
    profile: dict[str, Any],
    *,
    invoice_recipient: bool = True,
) -> Trader:
    """A company signs up (administrator with TOTP) and, if asked, names the accounts team that receives invoices."""
    domain = re.sub(r"[^a-z0-9]", "", profile["legal_name"].split()[0].lower()) + ".example"
    member = await new_member(portal, smtp_catcher, company=profile, email=unique_email("admin", domain))
    trader = Trader(profile["legal_name"], portal, member)
    if invoice_recipient:
        trader.invoice_email = unique_email("factures", domain)
        added = await trader.post(
            "identity",
            "/company/contacts",
            json={
                "name": "Comptabilité fournisseurs",
                "email": trader.invoice_email,
                "roles": ["invoice_recipient"],
                "locale": profile.get("locale", "fr"),
            },
        )
        assert added.status_code == 201, added.text
    return trader


def due_in(days: int = 30) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def line(description: str, quantity: str, unit_price: str, vat_rate: str = "20", category: str = "S") -> dict[str, str]:
    """One form line (BG-25); `category` is the VAT category code (BT-151)."""
    return {
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "vat_category": category,
        "vat_rate": vat_rate,
    }


def invoice_form(buyer: Trader, *lines: dict[str, str], **fields: Any) -> dict[str, Any]:
    """The online form for an invoice to `buyer`, paid by transfer in 30 days."""
    return {
        "buyer_company_id": buyer.company_id,
        "due_date": due_in(30),
        "payment_terms": "30 jours net",
        "payment_means": {"code": "58", "account_id": "FR7630006000011234567890189", "bank_id": "AGRIFRPP"},
        "lines": list(lines),
        **fields,
    }


def _party_not_there_yet(response: httpx.Response) -> bool:
    """True while invoicing has not yet received a party's registration from identity (a Kafka hop away)."""
    if response.status_code == 404 and "member company" in response.text:
        return True
    return response.status_code == 409 and "not reached invoicing" in response.text


async def request_connection(supplier: Trader, buyer: Trader, message: str | None = None) -> dict[str, Any]:
    """The supplier asks the buyer to connect, once invoicing knows the buyer; returns the pending relationship."""

    async def attempt() -> httpx.Response | None:
        sent = await supplier.post(
            "invoicing", "/relationships", json={"buyer_company_id": buyer.company_id, "message": message}
        )
        return None if _party_not_there_yet(sent) else sent

    sent = await eventually(attempt, f"invoicing to know {buyer.name}")
    assert sent.status_code == 201, sent.text
    return sent.json()


async def start_draft(
    supplier: Trader,
    form: dict[str, Any],
    *,
    until: Callable[[dict[str, Any]], bool] | None = None,
    what: str = "the parties' latest profiles in the draft",
) -> httpx.Response:
    """POST /invoices once invoicing knows both companies; with `until`, the draft is saved again (PUT, which
    re-reads the parties' profiles) until `until(draft)` holds. Any other refusal is returned as it is."""

    async def attempt() -> httpx.Response | None:
        sent = await supplier.post("invoicing", "/invoices", json=form)
        return None if _party_not_there_yet(sent) else sent

    created = await eventually(attempt, f"invoicing to know {supplier.name} and buyer {form['buyer_company_id']}")
    if created.status_code != 201 or until is None or until(created.json()):
        return created
    draft_id = created.json()["id"]

    async def saved_again() -> httpx.Response | None:
        saved = await supplier.put("invoicing", f"/invoices/{draft_id}", json=form)
        assert saved.status_code == 200, saved.text
        return saved if until(saved.json()) else None

    return await eventually(saved_again, what)


def mails_to(trader: Trader) -> Callable[[dict[str, Any]], bool]:
    """`until` for start_draft: the buyer's invoice recipient has reached invoicing (the draft is addressed to it)."""
    return lambda draft: (draft["document"]["buyer"].get("email") or "") == trader.invoice_email


async def draft_and_issue(supplier: Trader, buyer: Trader, form: dict[str, Any]) -> dict[str, Any]:
    """A draft addressed to the buyer's invoice recipient (when it has one), issued; returns the issued invoice."""
    created = await start_draft(supplier, form, until=mails_to(buyer) if buyer.invoice_email else None)
    assert created.status_code == 201, created.text
    issued = await supplier.post("invoicing", f"/invoices/{created.json()['id']}/issue")
    assert issued.status_code == 200, issued.text
    assert issued.json()["status"] == "issued" and issued.json()["number"], issued.text
    return issued.json()


async def until_delivered(trader: Trader, invoice_id: str) -> dict[str, Any]:
    """The invoice once signing sealed and archived it and invoicing delivered it (as `trader` sees it)."""

    async def probe() -> dict[str, Any] | None:
        seen = await trader.get("invoicing", f"/invoices/{invoice_id}")
        assert seen.status_code == 200, seen.text
        status = seen.json()["status"]
        assert status != "sealing_failed", seen.text
        return seen.json() if status == "delivered" else None

    return await eventually(probe, f"invoice {invoice_id} to be sealed and delivered", timeout_s=240)


async def balance_of(trader: Trader) -> int:
    answered = await trader.get("invoicing", "/billing/balance")
    assert answered.status_code == 200, answered.text
    return int(answered.json()["balance"])


def findings(response: httpx.Response | dict[str, Any], severity: str = "error") -> set[tuple[str, str]]:
    """(rule, field) of the report's findings of one severity, from an error answer or an invoice view."""
    body = response.json() if isinstance(response, httpx.Response) else response
    report = body.get("validation_report") or {"findings": []}
    return {(f["rule"], f["field"]) for f in report["findings"] if f["severity"] == severity}


def finding_message(response: httpx.Response | dict[str, Any], rule: str) -> str:
    body = response.json() if isinstance(response, httpx.Response) else response
    return next(f["message"] for f in body["validation_report"]["findings"] if f["rule"] == rule)


async def mail_about(smtp_catcher, address: str, *words: str, timeout_s: float = 240):  # type: ignore[no-untyped-def]
    """The e-mail caught for `address` whose subject holds every one of `words` (e.g. an invoice number)."""
    return await smtp_catcher.wait_for(
        lambda m: address.lower() in m.get("To", "").lower() and all(w in m.get("Subject", "") for w in words),
        timeout=timeout_s,
    )


def idempotency_key() -> str:
    return f"journey-{uuid.uuid4().hex}"
