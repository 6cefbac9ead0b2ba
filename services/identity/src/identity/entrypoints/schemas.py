"""Request and response bodies of the identity HTTP API (their descriptions become the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

Locale = Literal["fr", "en"]
Method = Literal["totp", "sms", "email"]
ContactRole = Literal["invoice_recipient", "accounts_payable", "accounts_receivable", "support", "technical", "other"]


class Body(BaseModel):
    """Request bodies refuse unknown fields, so a misspelt field is reported instead of ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every error: a stable code, what is wrong and what to do, and the field at fault when there is one."""

    error: str = Field(description="Stable error code, e.g. invalid_credentials, weak_password, missing_right.")
    detail: str = Field(description="What is wrong and what to do, in plain words.")
    field: str | None = Field(default=None, description="The request field at fault, e.g. user.password.")
    retry_after_s: int | None = Field(default=None, description="For 429: seconds to wait before trying again.")


class Accepted(BaseModel):
    """The same answer whatever the address: nothing here tells whether an account exists."""

    status: str = Field(description="accepted")
    detail: str = Field(description="What happens next.")


class Done(BaseModel):
    status: str = Field(description="What is now true, e.g. verified, password_changed.")
    detail: str = Field(description="What to do next.")


# --------------------------------------------------------------------------- sign-up


class AddressIn(Body):
    line1: str = Field(min_length=1, max_length=200, description="Street and number.")
    line2: str | None = Field(default=None, max_length=200, description="Building, floor, P.O. box.")
    postcode: str = Field(min_length=1, max_length=20, description="Post code.")
    city: str = Field(min_length=1, max_length=100, description="City.")
    region: str | None = Field(default=None, max_length=100, description="State, province or county.")


class CompanyIn(Body):
    legal_name: str = Field(min_length=1, max_length=200, description="Registered legal name.")
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 country code, e.g. FR.")
    vat_id: str | None = Field(
        default=None, max_length=20, description="VAT id with country prefix, e.g. FR40303265045."
    )
    tax_id: str | None = Field(default=None, max_length=40, description="Tax or registration number when no VAT id.")
    address: AddressIn
    locale: Locale = Field(default="fr", description="Language of the company's messages.")


class FirstUserIn(Body):
    email: EmailStr = Field(description="Login e-mail of the administrator (the username).")
    full_name: str = Field(min_length=1, max_length=200, description="Name of the administrator.")
    password: str = Field(max_length=1024, description="At least 12 characters, not a common password.")
    phone: str | None = Field(default=None, max_length=32, description="Optional phone number (E.164 preferred).")
    locale: Locale | None = Field(default=None, description="Language of the user's messages (default: company's).")


class SignUpIn(Body):
    company: CompanyIn
    user: FirstUserIn


class TokenIn(Body):
    token: str = Field(min_length=10, max_length=200, description="The token from the e-mailed link (after #token=).")


class EmailIn(Body):
    email: EmailStr = Field(description="An e-mail address.")


# --------------------------------------------------------------------------- sign-in


class LoginIn(Body):
    email: EmailStr = Field(description="Login e-mail (case does not matter).")
    password: str = Field(max_length=1024, description="Password.")
    device_token: str | None = Field(
        default=None, max_length=200, description="The device_token returned by an earlier sign-in on this device."
    )


class LoginStepOut(BaseModel):
    status: Literal["mfa_required", "mfa_enrolment_required"] = Field(
        description="mfa_required: send a code (POST /login/mfa/verify); mfa_enrolment_required: choose a factor."
    )
    mfa_token: str = Field(description="Identifies this sign-in in the next calls.")
    expires_in: int = Field(description="Seconds left to finish the sign-in.")
    methods: list[str] = Field(description="Accepted methods (verify) or methods to choose from (enrolment).")
    code_sent_to: str | None = Field(default=None, description="Masked destination of a code just sent.")


class MfaVerifyIn(Body):
    mfa_token: str = Field(max_length=200)
    code: str | None = Field(default=None, max_length=12, description="TOTP, SMS or e-mail code.")
    method: Method | None = Field(default=None, description="Which factor the code is from (default: preferred).")
    recovery_code: str | None = Field(default=None, max_length=40, description="A recovery code instead of a code.")


class MfaSendIn(Body):
    mfa_token: str = Field(max_length=200)
    method: Literal["sms", "email"]


class EnrolIn(Body):
    mfa_token: str = Field(max_length=200)
    method: Method = Field(description="totp (authenticator app), sms or email.")
    phone: str | None = Field(default=None, max_length=32, description="Mobile number, for sms.")


class EnrolConfirmIn(Body):
    mfa_token: str = Field(max_length=200)
    code: str = Field(max_length=12, description="A code from the new factor.")


class EnrolmentOut(BaseModel):
    method: str
    secret: str | None = Field(default=None, description="TOTP secret for manual entry (shown once).")
    otpauth_uri: str | None = Field(default=None, description="otpauth:// URI for authenticator apps.")
    qr_svg: str | None = Field(default=None, description="The URI as an SVG QR code (data: URI).")
    code_sent_to: str | None = Field(default=None, description="Masked destination of the confirmation code.")
    factor_id: str | None = Field(default=None, description="Id of the factor being added (account API).")


class TokensOut(BaseModel):
    access_token: str = Field(description="ES256 JWT: sub, company_id, rights, acr, auth_time, sid.")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105  (the scheme name, not a secret)
    expires_in: int = Field(description="Seconds the access token lives.")
    refresh_token: str = Field(description="Opaque, single use: each refresh returns a new one.")
    refresh_expires_in: int
    session_id: str
    acr: str = Field(description="aal2 after password and second factor.")
    rights: list[str]
    user_id: str
    company_id: str
    device_token: str | None = Field(
        default=None, description="Keep it on this device and send it at the next sign-in (new devices are alerted)."
    )
    recovery_codes: list[str] | None = Field(
        default=None, description="Ten single-use recovery codes, shown only now: store them safely."
    )


class RefreshIn(Body):
    refresh_token: str = Field(max_length=200)


class LogoutIn(Body):
    refresh_token: str | None = Field(default=None, max_length=200, description="When the access token expired.")


# --------------------------------------------------------------------------- recovery


class ResetPasswordIn(Body):
    token: str = Field(min_length=10, max_length=200)
    new_password: str = Field(max_length=1024)


class ForgotUsernameIn(Body):
    email: EmailStr | None = Field(default=None, description="An address that may be the login or the account's.")
    phone: str | None = Field(default=None, max_length=32, description="Or the account's phone number.")
    country: str | None = Field(default=None, min_length=2, max_length=2, description="To read a national number.")


class AcceptInvitationIn(Body):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(max_length=1024)
    full_name: str | None = Field(default=None, max_length=200)


# --------------------------------------------------------------------------- account


class UserOut(BaseModel):
    id: str
    company_id: str
    email: str
    full_name: str
    phone: str | None
    locale: str
    status: str = Field(description="pending_verification, invited, active, disabled.")
    is_admin: bool
    rights: list[str] = Field(description="Effective rights (the administrator holds every company right).")
    mfa_methods: list[str] = Field(default_factory=list, description="Confirmed second factors.")
    last_login_at: datetime | None
    created_at: datetime


class ProfileIn(Body):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    locale: Locale | None = None
    phone: str | None = Field(default=None, max_length=32, description="Empty string removes it.")


class ChangePasswordIn(Body):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


class FactorOut(BaseModel):
    id: str
    method: str
    confirmed: bool
    phone: str | None = Field(description="Masked phone number of an SMS factor.")
    created_at: str


class SecurityOut(BaseModel):
    factors: list[FactorOut]
    recovery_codes_left: int
    company_requires_totp: bool


class AddFactorIn(Body):
    method: Method
    phone: str | None = Field(default=None, max_length=32)


class CodeIn(Body):
    code: str = Field(max_length=12)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] | None = Field(description="Ten new codes (shown once), or null when unchanged.")


# --------------------------------------------------------------------------- users


class InviteIn(Body):
    email: EmailStr
    full_name: str = Field(min_length=1, max_length=200)
    rights: list[str] = Field(default_factory=list, description="Rights to grant (see GET /rights).")
    locale: Locale | None = None


class RightsIn(Body):
    rights: list[str] = Field(description="The complete new set of rights.")


class TransferIn(Body):
    new_admin_user_id: str = Field(description="An active user of your company.")
    former_admin_rights: list[str] | None = Field(
        default=None, description="Rights you keep after the transfer (default: view invoices)."
    )


class RightOut(BaseModel):
    right: str
    description: str
    grantable: bool


class AuditOut(BaseModel):
    id: int
    at: datetime
    event: str
    user_id: str | None
    actor_id: str | None
    ip: str | None
    user_agent: str | None
    details: dict


# --------------------------------------------------------------------------- company


class CompanyOut(BaseModel):
    id: str
    legal_name: str
    country: str
    vat_id: str | None
    tax_id: str | None
    address: AddressIn
    locale: str
    require_totp: bool
    version: int


class CompanyPatch(Body):
    legal_name: str | None = Field(default=None, min_length=1, max_length=200)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    vat_id: str | None = Field(default=None, max_length=20)
    tax_id: str | None = Field(default=None, max_length=40)
    address: AddressIn | None = None
    locale: Locale | None = None
    require_totp: bool | None = Field(default=None, description="Require an authenticator app for every user.")


class ContactIn(Body):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=32)
    roles: list[ContactRole] = Field(min_length=1, description="What the contact is for.")
    locale: Locale = "fr"


class ContactPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=32)
    roles: list[ContactRole] | None = Field(default=None, min_length=1)
    locale: Locale | None = None


class ContactOut(BaseModel):
    id: str
    name: str
    email: str | None
    phone: str | None
    roles: list[str]
    locale: str
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- partners


class PartnerIn(Body):
    name: str = Field(min_length=1, max_length=200, description="Name of the partner system, e.g. our SAP ERP.")
    public_key: str | None = Field(
        default=None,
        max_length=2000,
        description="The partner's own Ed25519 public key (base64url or PEM); omit it to have a key pair generated.",
    )


class PartnerKeyIn(Body):
    public_key: str | None = Field(default=None, max_length=2000)


class PartnerKeyOut(BaseModel):
    key_id: str = Field(description="Sent by the partner in the factora_key_id header.")
    algorithm: str
    public_key: str = Field(description="Raw Ed25519 public key, base64url.")
    status: str
    created_at: datetime
    revoked_at: datetime | None


class PartnerOut(BaseModel):
    partner_id: str = Field(description="The partner_id of its submissions.")
    name: str
    status: str
    created_at: datetime
    keys: list[PartnerKeyOut]


class IssuedKeyOut(BaseModel):
    partner: PartnerOut
    key: PartnerKeyOut
    private_key_pem: str | None = Field(
        description="PKCS#8 PEM of the generated private key: shown only now, never stored by Factora."
    )
    signing: str = Field(description="How to sign records with it.")
