"""What `factora demo` signs up and invoices: a French supplier, its customer, and a realistic invoice."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class DemoCompany:
    """A company and the person who signs it up (its administrator)."""

    role: str  # "supplier" or "buyer"
    legal_name: str
    vat_id: str  # SIREN with a valid Luhn digit and the matching FR key
    line1: str
    postcode: str
    city: str
    person: str
    mailbox: str  # local part of the administrator's address
    domain: str

    def signup_body(self, email: str, password: str) -> dict[str, Any]:
        """The POST /signup body of identity."""
        return {
            "company": {
                "legal_name": self.legal_name,
                "country": "FR",
                "vat_id": self.vat_id,
                "address": {"line1": self.line1, "postcode": self.postcode, "city": self.city},
                "locale": "fr",
            },
            "user": {"email": email, "full_name": self.person, "password": password},
        }


SUPPLIER = DemoCompany(
    role="supplier",
    legal_name="Menuiserie Duval & Fils SARL",
    vat_id="FR19812345676",
    line1="14 rue des Artisans",
    postcode="69007",
    city="Lyon",
    person="Claire Duval",
    mailbox="claire.duval",
    domain="menuiserie-duval.example.com",
)
BUYER = DemoCompany(
    role="buyer",
    legal_name="Brasserie du Vieux Port SAS",
    vat_id="FR93483912754",
    line1="3 quai du Port",
    postcode="13002",
    city="Marseille",
    person="Julien Roux",
    mailbox="julien.roux",
    domain="brasserie-vieux-port.example.com",
)
# The buyer's accounts-payable mailbox, where its invoices are delivered.
BUYER_INVOICES_MAILBOX = "factures"


def run_id() -> str:
    """A short random tag that makes every run's addresses new (sign-up needs an unused address)."""
    return secrets.token_hex(4)


def address(local: str, domain: str, tag: str) -> str:
    """`local+tag@domain`: a new address each run that still reads like a real one."""
    return f"{local}+{tag}@{domain}"


def new_password() -> str:
    """20 random letters and digits in groups: long, not common, and easy to copy from a terminal."""
    alphabet = string.ascii_letters + string.digits
    groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)


def invoice_draft(buyer_company_id: str, buyer_contact_email: str, today: date | None = None) -> dict[str, Any]:
    """A joinery invoice for the brasserie's new bar: two lines at 20 % and a SEPA transfer."""
    issued = today or date.today()
    return {
        "buyer_company_id": buyer_company_id,
        "buyer_contact_email": buyer_contact_email,
        "buyer_reference": "BVP-TRAVAUX-BAR",
        "purchase_order": "PO-2026-0142",
        "due_date": (issued + timedelta(days=30)).isoformat(),
        "payment_terms": "Paiement à 30 jours par virement SEPA",
        "payment_means": {
            "code": "58",
            "account_id": "FR7630006000011234567890189",
            "account_name": "Menuiserie Duval & Fils",
            "bank_id": "AGRIFRPP",
        },
        "note": "Fabrication et pose du comptoir du bar, chêne massif.",
        "lines": [
            {
                "description": "Comptoir de bar en chêne massif, 4,20 m",
                "quantity": "1",
                "unit_price": "3850.00",
                "vat_rate": "20",
                "item_id": "MDF-CMPT-420",
            },
            {
                "description": "Pose sur site (heures)",
                "quantity": "12",
                "unit_price": "55.00",
                "vat_rate": "20",
                "unit_code": "HUR",
            },
        ],
    }
