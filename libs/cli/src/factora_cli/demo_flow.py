"""The steps of `factora demo`: two companies sign up, connect, and one sends the other a sealed invoice."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factora_cli import accounts as ids
from factora_cli.accounts import Account, FlowProblem
from factora_cli.api import GATEWAY_UPSTREAM_DOWN, Api, ApiError, ApiUnreachable, error_detail
from factora_cli.demo_data import (
    BUYER,
    BUYER_INVOICES_MAILBOX,
    SUPPLIER,
    DemoCompany,
    address,
    invoice_draft,
    new_password,
)
from factora_cli.mailbox import Mail, wait_for_mail
from factora_cli.progress import Steps, WaitTimeout
from factora_cli.session import SESSION_FILE, save_session

NEEDED_SERVICES = ("identity", "invoicing", "signing", "notifications")
# The gateway keeps /health and /metrics to the service ports, so through it a service is probed with a
# cheap call that needs no database: any answer but 502-504 means the service is there.
GATEWAY_PROBES = {
    "identity": "/.well-known/jwks.json",
    "invoicing": "/relationships",
    "signing": "/archive/documents/00000000-0000-4000-8000-000000000000",
    "notifications": "/deliveries/summary",
}
TEST_CARD = "pm_card_visa"  # the test payment provider authorises it
SEALED_STATUSES = ("sealed", "delivered")


@dataclass
class DemoOptions:
    """Where the demo runs and where it writes."""

    mail_dir: Path
    out_dir: Path
    timeout_s: float = 120.0
    poll_s: float = 0.5
    tag: str = ""


@dataclass
class DemoOutcome:
    """What the demo produced, for the summary."""

    accounts: dict[str, Account] = field(default_factory=dict)
    buyer_contact: str = ""
    relationship_id: str = ""
    invoice_id: str = ""
    invoice_number: str = ""
    payable: str = ""
    archive_id: str = ""
    credits_before: int | None = None
    credits_bought: int = 0
    pdf_path: Path | None = None
    pdf_url: str = ""
    pdf_sha256: str = ""
    eml_path: Path | None = None
    session_path: Path | None = None


def poll(fetch: Callable[[], Any], done: Callable[[Any], bool], *, timeout_s: float, poll_s: float, what: str) -> Any:
    """Call `fetch` until `done` holds for its answer; WaitTimeout naming `what` and the last answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        last = fetch()
        if done(last):
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"{what} did not happen within {timeout_s:.0f} s (last seen: {describe(last)})")
        time.sleep(poll_s)


def describe(answer: Any) -> str:
    """A short description of an invoice view or of anything else."""
    if isinstance(answer, dict) and "status" in answer:
        return f"status {answer.get('status')}, archive id {answer.get('archive_id')}"
    return repr(answer)[:200]


def retry_while(call: Callable[[], Any], retry: Callable[[ApiError], bool], *, timeout_s: float, poll_s: float) -> Any:
    """`call()`, tried again while it fails with an ApiError that `retry` accepts (e.g. an event still in flight)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except ApiError as exc:
            if not retry(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(poll_s)


class Demo:
    """The demo's steps in order; each public method is one step shown to the user."""

    def __init__(self, api: Api, options: DemoOptions, steps: Steps) -> None:
        self.api = api
        self.options = options
        self.steps = steps
        self.outcome = DemoOutcome()

    # ------------------------------------------------------------------ whole run

    def run(self) -> DemoOutcome:
        """Every step; StepFailed from the first that fails."""
        with self.steps.step("Check that the network answers"):
            self.check_network()
        for company in (SUPPLIER, BUYER):
            self.member(company)
        buyer = self.outcome.accounts["buyer"]
        with self.steps.step(f"Register {BUYER.legal_name}'s accounts-payable contact"):
            self.add_buyer_contact()
        with self.steps.step("Connect the companies: the buyer's invitation code, redeemed by the supplier"):
            self.connect()
        with self.steps.step("Draft the invoice"):
            self.draft_invoice()
        with self.steps.step("Check the supplier's transaction credits"):
            self.ensure_credits()
        with self.steps.step("Issue the invoice"):
            self.issue()
        with self.steps.step(f"Wait until {self.outcome.invoice_number} is sealed and archived"):
            self.wait_sealed()
        with self.steps.step("Download the sealed PDF from the archive"):
            self.download_pdf(buyer)
        with self.steps.step(f"Find the e-mail delivered to {self.outcome.buyer_contact}"):
            self.find_delivery_mail()
        with self.steps.step("Save the demo session"):
            self.save()
        return self.outcome

    def member(self, company: DemoCompany) -> None:
        """Sign up, confirm the address, enrol TOTP, and sign in with it."""
        tag = self.options.tag
        account = Account(
            role=company.role,
            company_name=company.legal_name,
            email=address(company.mailbox, company.domain, tag),
            password=new_password(),
        )
        self.outcome.accounts[company.role] = account
        with self.steps.step(f"Sign up {company.legal_name} ({account.email})"):
            ids.sign_up(self.api, account, company.signup_body(account.email, account.password))
        with self.steps.step(f"Confirm {account.email} from the e-mailed link"):
            mail = ids.confirmation_mail(self.options.mail_dir, account.email, self.options.timeout_s)
            ids.confirm_address(self.api, mail)
        with self.steps.step(f"Enrol an authenticator app (TOTP) and sign in as {account.email}"):
            ids.enrol_totp(self.api, account)
            ids.sign_in(self.api, account)

    # ------------------------------------------------------------------ steps

    def check_network(self) -> None:
        """The gateway and the services the demo needs answer, and the mail folder is there."""
        through_gateway = any(s not in self.api.service_urls for s in NEEDED_SERVICES)
        if through_gateway:
            url = f"{self.api.api}/healthz"
            try:
                response = self.api.raw("GET", url)
            except ApiUnreachable as exc:
                raise ApiUnreachable(f"the gateway at {self.api.api} is not answering: run `make up` first") from exc
            if response.status_code != 200:
                raise FlowProblem(
                    f"the gateway at {self.api.api} answered HTTP {response.status_code} on /healthz: "
                    "is --api the address of the Factora gateway?"
                )
        for service in NEEDED_SERVICES:
            direct = service in self.api.service_urls
            path = "/health/ready" if direct else GATEWAY_PROBES[service]
            response = self.api.request("GET", service, path, ok=tuple(range(200, 600)))
            if response.status_code in GATEWAY_UPSTREAM_DOWN:
                raise ApiUnreachable(
                    f"{service} is not ready ({self.api.where(service)} answered HTTP {response.status_code}: "
                    f"{error_detail(response)}); wait for `make up` to finish starting"
                )
            if direct and response.status_code != 200:
                raise FlowProblem(f"{service}'s /health/ready answered HTTP {response.status_code}")
        if not self.options.mail_dir.is_dir():
            raise FlowProblem(
                f"no mail folder at {self.options.mail_dir}: the stack's SMTP catcher writes e-mails there. "
                "Pass --mail-dir, or set FACTORA_STATE_DIR to the stack's state folder"
            )

    def add_buyer_contact(self) -> None:
        """The buyer names where its invoices go (identity tells invoicing through its company events)."""
        buyer = self.outcome.accounts["buyer"]
        self.outcome.buyer_contact = address(BUYER_INVOICES_MAILBOX, BUYER.domain, self.options.tag)
        self.api.request(
            "POST",
            "identity",
            "/company/contacts",
            token=buyer.access_token,
            json={
                "name": "Comptabilité fournisseurs",
                "email": self.outcome.buyer_contact,
                "roles": ["invoice_recipient", "accounts_payable"],
                "locale": "fr",
            },
            what="adding the buyer's invoice contact",
        )

    def connect(self) -> None:
        """The buyer creates a one-time code; the supplier enters it and is connected at once."""
        supplier, buyer = self.outcome.accounts["supplier"], self.outcome.accounts["buyer"]
        invitation = self.api.post_json(
            "invoicing",
            "/relationships/invitations",
            {"note": f"Code pour {SUPPLIER.legal_name}"},
            token=buyer.access_token,
            what="the buyer's invitation code",
        )
        relationship = self.api.post_json(
            "invoicing",
            "/relationships/invitations/redeem",
            {"code": invitation["code"]},
            token=supplier.access_token,
            what="redeeming the invitation code",
        )
        if relationship.get("status") != "active":
            raise FlowProblem(f"the relationship is {relationship.get('status')!r}, not active")
        self.outcome.relationship_id = str(relationship["id"])

    def draft_invoice(self) -> None:
        """POST /invoices, tried again while invoicing has not yet heard of the new buyer from identity."""
        supplier, buyer = self.outcome.accounts["supplier"], self.outcome.accounts["buyer"]
        body = invoice_draft(buyer.company_id, self.outcome.buyer_contact)

        def create() -> dict[str, Any]:
            return self.api.post_json("invoicing", "/invoices", body, token=supplier.access_token, what="the draft")

        draft = retry_while(
            create,
            # identity's company-registered event may still be on its way to invoicing's party model.
            lambda exc: exc.status in (404, 409),
            timeout_s=self.options.timeout_s,
            poll_s=self.options.poll_s,
        )
        errors = [f for f in (draft.get("validation_report") or {}).get("findings", []) if f.get("severity") == "error"]
        if errors:
            rules = ", ".join(f"{f.get('rule')} ({f.get('field')}): {f.get('message')}" for f in errors)
            raise FlowProblem(f"the draft breaks rules: {rules}")
        self.outcome.invoice_id = str(draft["id"])
        self.outcome.payable = str(draft.get("payable", ""))

    def ensure_credits(self) -> None:
        """Issuing uses one transaction credit: buy the smallest pack when none is left."""
        supplier = self.outcome.accounts["supplier"]
        balance = self.api.get_json("invoicing", "/billing/balance", token=supplier.access_token, what="the balance")
        self.outcome.credits_before = int(balance["balance"])
        if self.outcome.credits_before < 1:
            self.buy_credits()

    def buy_credits(self) -> None:
        """The smallest pack, paid with the test provider's card."""
        supplier = self.outcome.accounts["supplier"]
        packs = self.api.get_json("invoicing", "/billing/packs", token=supplier.access_token, what="the credit packs")
        if not packs:
            raise FlowProblem("invoicing sells no credit pack")
        pack = min(packs, key=lambda p: int(p["credits"]))
        purchase = self.api.post_json(
            "invoicing",
            "/billing/purchases",
            {"pack_id": pack["id"], "payment_method": TEST_CARD},
            token=supplier.access_token,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            what="buying credits",
        )
        if purchase.get("status") != "paid":
            raise FlowProblem(f"the credit purchase is {purchase.get('status')}: {purchase.get('decline_reason')}")
        self.outcome.credits_bought += int(purchase["credits"])

    def issue(self) -> None:
        """Validate, number and publish; out of credits (402), buy a pack and issue again."""
        supplier = self.outcome.accounts["supplier"]
        path = f"/invoices/{self.outcome.invoice_id}/issue"
        try:
            issued = self.api.post_json("invoicing", path, token=supplier.access_token, what="issuing")
        except ApiError as exc:
            if exc.status != 402:
                raise
            self.buy_credits()
            issued = self.api.post_json("invoicing", path, token=supplier.access_token, what="issuing")
        self.outcome.invoice_number = str(issued["number"])
        self.outcome.payable = str(issued.get("payable", self.outcome.payable))

    def wait_sealed(self) -> None:
        """Poll the invoice until signing has sealed and archived it."""
        supplier = self.outcome.accounts["supplier"]
        path = f"/invoices/{self.outcome.invoice_id}"

        def fetch() -> dict[str, Any]:
            view = self.api.get_json("invoicing", path, token=supplier.access_token, what="the invoice")
            if view.get("status") == "sealing_failed":
                raise FlowProblem(f"signing could not seal {self.outcome.invoice_number}: see its history {path}")
            return view

        view = poll(
            fetch,
            lambda v: v.get("status") in SEALED_STATUSES and bool(v.get("archive_id")),
            timeout_s=self.options.timeout_s,
            poll_s=self.options.poll_s,
            what=f"the seal of {self.outcome.invoice_number}",
        )
        self.outcome.archive_id = str(view["archive_id"])

    def download_pdf(self, account: Account) -> None:
        """GET the sealed PDF from the archive and keep it in the output folder."""
        path = f"/archive/documents/{self.outcome.archive_id}"
        response = self.api.request("GET", "signing", path, token=account.access_token, what="the sealed PDF")
        if not response.content.startswith(b"%PDF-"):
            raise FlowProblem(f"the archive answered {response.headers.get('content-type')}, not a PDF")
        self.options.out_dir.mkdir(parents=True, exist_ok=True)
        target = self.options.out_dir / f"{self.outcome.invoice_number}.pdf"
        target.write_bytes(response.content)
        self.outcome.pdf_path = target.resolve()
        self.outcome.pdf_url = self.api.url("signing", path)
        self.outcome.pdf_sha256 = hashlib.sha256(response.content).hexdigest()

    def find_delivery_mail(self) -> None:
        """The invoice-delivered e-mail to the buyer's contact, naming the invoice number."""
        number, contact = self.outcome.invoice_number, self.outcome.buyer_contact

        def delivered(mail: Mail) -> bool:
            return mail.addressed_to(contact) and number in mail.subject

        found = wait_for_mail(
            self.options.mail_dir,
            delivered,
            timeout=self.options.timeout_s,
            what=f"the e-mail about {number} to {contact}",
        )
        self.outcome.eml_path = found.path.resolve()

    def save(self) -> None:
        """The accounts and tokens, for `factora verify` and `factora archive get` without --token."""
        path = self.options.out_dir / SESSION_FILE
        save_session(path, self.api.api, self.outcome.accounts, default="buyer")
        self.outcome.session_path = path.resolve()
