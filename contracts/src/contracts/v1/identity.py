"""Identity events: company profiles and contacts, users, partner credentials, and how partners sign.

Partner message signing (scheme `factora-partner-signature-v1`)
----------------------------------------------------------------
A company administrator registers each partner system (ERP, billing tool) in identity and gets
an Ed25519 key pair for it: identity either generates the pair and shows the private key once,
or takes the partner's own public key. Identity publishes every public key on
`identity.partner-credential-registered.v1` (and its end on `identity.partner-credential-revoked.v1`),
so invoicing verifies partner messages locally.

A partner signs each Kafka record it publishes:

1. it sets the CloudEvents headers as usual (`ce_type`, `ce_id`, `ce_time`, `factora_tenant` =
   the company id it publishes for, ...), none of which may contain a line feed;
2. it builds the signing input with `partner_signing_input` (below): the ASCII line
   `factora-partner-signature-v1`, then `ce_type`, `ce_id`, `ce_time` and `factora_tenant`
   exactly as sent in the headers (UTF-8), each followed by one line feed (0x0A), then the
   record value (the JSON payload bytes) exactly as sent;
3. it signs that input with its Ed25519 private key (RFC 8032, pure Ed25519, no pre-hash) and
   sends the 64-byte signature, base64url-encoded without padding, in the header
   `factora_signature`, and the key id in the header `factora_key_id`.

A verifier rejects, with a reason and without processing, a record whose headers lack either
value, whose key id is unknown or revoked, whose key belongs to another company than
`factora_tenant`, or whose signature does not verify over the bytes it received. Binding
`ce_type`, `ce_id`, `ce_time` and the tenant into the signature stops a signed payload from
being replayed onto another topic, for another company, or under a fresh event id (consumers
already drop a repeated `ce_id` through their inbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field

from contracts.v1.base import Event

SIGNATURE_SCHEME = "factora-partner-signature-v1"
SIGNATURE_HEADER = "factora_signature"
KEY_ID_HEADER = "factora_key_id"

Locale = Literal["fr", "en"]
ContactRole = Literal["invoice_recipient", "accounts_payable", "accounts_receivable", "support", "technical", "other"]
UserStatus = Literal["pending_verification", "invited", "active", "disabled", "deleted"]
UserChange = Literal[
    "created",
    "invited",
    "activated",
    "profile_changed",
    "rights_changed",
    "admin_granted",
    "admin_revoked",
    "mfa_changed",
    "mfa_reset",
    "disabled",
    "enabled",
    "deleted",
]


class CompanyAddress(Event):
    """Registered postal address of a member company."""

    line1: str = Field(description="Street and number.")
    line2: str | None = Field(default=None, description="Building, floor, P.O. box, when needed.")
    postcode: str = Field(description="Post code.")
    city: str = Field(description="City.")
    region: str | None = Field(default=None, description="State, province or county, where addresses use one.")
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 country code.")


class CompanyContact(Event):
    """A person or mailbox of a company, separate from the users who log in (My company > Contacts)."""

    contact_id: str = Field(description="Identity's id of the contact.")
    name: str = Field(description="Name of the person or mailbox, e.g. Accounts payable.")
    email: EmailStr | None = Field(default=None, description="E-mail address.")
    phone: str | None = Field(default=None, description="Phone number in E.164 form, e.g. +33612345678.")
    roles: list[ContactRole] = Field(
        description="What the contact is for; invoice_recipient contacts receive the invoices sent to the company."
    )
    locale: Locale = Field(default="fr", description="Language the contact reads messages in.")


class CompanyProfile(Event):
    """The full public profile of a member company, as other services keep it in their read models."""

    company_id: str = Field(description="Factora company id (UUID).")
    legal_name: str = Field(description="Registered legal name.")
    country: str = Field(min_length=2, max_length=2, description="Country of registration (ISO 3166-1 alpha-2).")
    vat_id: str | None = Field(default=None, description="VAT identifier with its country prefix, e.g. FR40303265045.")
    tax_id: str | None = Field(default=None, description="Other tax or company registration id (SIREN, EIN, ABN...).")
    address: CompanyAddress = Field(description="Registered address.")
    locale: Locale = Field(description="Language the company reads its messages in.")
    contacts: list[CompanyContact] = Field(default_factory=list, description="Every contact of the company.")
    version: int = Field(description="Increases with every change; a consumer ignores a version it already has.")
    updated_at: datetime = Field(description="When this version was made.")


class CompanyRegistered(Event):
    """A company signed up to the network (its first user still has to confirm their e-mail)."""

    company: CompanyProfile = Field(description="The profile at sign-up.")
    registered_at: datetime = Field(description="When the company signed up.")


class CompanyUpdated(Event):
    """The profile or the contacts of a company changed; the event carries the whole new profile."""

    company: CompanyProfile = Field(description="The profile after the change, contacts included.")
    changed: list[str] = Field(description="What changed, e.g. legal_name, address, contacts.")


class UserChanged(Event):
    """A user of a member company was created or changed; the event carries the user as it now is."""

    user_id: str = Field(description="Identity's user id (UUID).")
    company_id: str = Field(description="Company the user belongs to.")
    email: EmailStr = Field(description="Login e-mail address.")
    full_name: str = Field(description="Name shown to colleagues and support agents.")
    locale: Locale = Field(description="Language the user reads messages in.")
    status: UserStatus = Field(description="pending_verification, invited, active, disabled or deleted.")
    is_admin: bool = Field(description="True for the company administrator.")
    rights: list[str] = Field(description="Effective rights (servicekit.auth.Right values).")
    mfa_methods: list[str] = Field(description="Confirmed second factors: totp, sms, email.")
    change: UserChange = Field(description="What happened.")
    occurred_at: datetime = Field(description="When it happened.")
    version: int = Field(description="Increases with every change of this user.")


class PartnerCredentialRegistered(Event):
    """A company admin registered a partner system key; messages signed with it act for that company."""

    company_id: str = Field(description="Company the partner system publishes for.")
    partner_id: str = Field(description="Partner system id (the partner_id of its submissions).")
    partner_name: str = Field(description="Name the admin gave the partner system.")
    key_id: str = Field(description="Sent by the partner in the factora_key_id header.")
    algorithm: Literal["Ed25519"] = Field(default="Ed25519", description="Signature algorithm.")
    public_key: str = Field(description="The raw 32-byte Ed25519 public key, base64url without padding.")
    scheme: str = Field(default=SIGNATURE_SCHEME, description="Signing scheme (see the module documentation).")
    registered_at: datetime = Field(description="When the key was registered.")


class PartnerCredentialRevoked(Event):
    """A partner system key was revoked: messages signed with it must be rejected from now on."""

    company_id: str = Field(description="Company the partner system published for.")
    partner_id: str = Field(description="Partner system id.")
    key_id: str = Field(description="The revoked key.")
    revoked_at: datetime = Field(description="When it was revoked.")
    reason: str = Field(description="Why, e.g. revoked by the administrator, partner removed.")


def partner_signing_input(*, payload: bytes, ce_type: str, ce_id: str, ce_time: str, tenant: str) -> bytes:
    """The exact bytes a partner signs and a verifier checks (scheme factora-partner-signature-v1).

    Header values are used exactly as sent; ValueError when one contains a line feed, which
    would make the input ambiguous.
    """
    fields = (SIGNATURE_SCHEME, ce_type, ce_id, ce_time, tenant)
    for value in fields:
        if "\n" in value or "\r" in value:
            raise ValueError("signed header values must not contain line breaks")
    return "".join(f"{value}\n" for value in fields).encode() + payload
