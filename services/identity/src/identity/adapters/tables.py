"""Identity tables; identity is mostly CRUD, so these SQLModel classes are its model."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import registry
from sqlmodel import Column, Field, SQLModel

from servicekit.messaging_tables import utcnow


class IdentityTable(SQLModel, registry=registry()):
    """Base of identity's tables, with a metadata of their own.

    Every service's code can be loaded in one process (the test session, the AsyncAPI
    generator); on SQLModel's shared metadata two services' tables of the same name (say,
    partner_key or audit_log) would collide there even though they live in different databases.
    """


METADATA = IdentityTable.metadata


def moment(*, nullable: bool = False) -> Any:
    """A timezone-aware timestamp column (now by default when not nullable)."""
    if nullable:
        return Field(default=None, sa_column=Column(sa.DateTime(timezone=True), nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))


def text_list() -> Any:
    """A PostgreSQL text[] column holding a list of short strings."""
    return Field(default_factory=list, sa_column=Column(postgresql.ARRAY(sa.String()), nullable=False))


class SigningKey(IdentityTable, table=True):
    """A key identity signs access tokens with; its public half is published in the JWKS."""

    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True)
    private_jwk: dict[str, Any] = Field(sa_column=Column(sa.JSON, nullable=False))
    active: bool = True
    created_at: datetime = moment()


class Company(IdentityTable, table=True):
    """A member company (or the Factora staff company, is_staff)."""

    __tablename__ = "company"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    legal_name: str
    country: str
    vat_id: str | None = None
    tax_id: str | None = None
    address_line1: str
    address_line2: str | None = None
    postcode: str
    city: str
    region: str | None = None
    locale: str = "fr"
    require_totp: bool = False
    is_staff: bool = False
    version: int = 1
    created_at: datetime = moment()
    updated_at: datetime = moment()


class User(IdentityTable, table=True):
    """A person who logs in for one company; the login is the e-mail address, case-insensitive."""

    __tablename__ = "user_account"
    __table_args__ = (
        # One live account per address; a deleted account frees it.
        sa.Index(
            "uq_user_email_live", "email_normalized", unique=True, postgresql_where=sa.text("status <> 'deleted'")
        ),
        # At most one administrator per company; transfers swap the flag inside one transaction.
        sa.Index("uq_company_admin", "company_id", unique=True, postgresql_where=sa.text("is_admin")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    company_id: uuid.UUID = Field(foreign_key="company.id", index=True)
    email: str
    email_normalized: str
    full_name: str
    phone: str | None = Field(default=None, index=True)
    locale: str = "fr"
    password_hash: str | None = None
    status: str = Field(description="pending_verification | invited | active | disabled | deleted")
    is_admin: bool = False
    rights: list[str] = text_list()
    email_verified_at: datetime | None = moment(nullable=True)
    password_changed_at: datetime | None = moment(nullable=True)
    mfa_reset_at: datetime | None = moment(nullable=True)
    last_login_at: datetime | None = moment(nullable=True)
    version: int = 1
    created_at: datetime = moment()
    updated_at: datetime = moment()


class MfaFactor(IdentityTable, table=True):
    """A second factor: TOTP secret, SMS phone or the login e-mail; unconfirmed until a code proves it."""

    __tablename__ = "mfa_factor"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    kind: str = Field(description="totp | sms | email")
    secret: str | None = Field(default=None, description="TOTP secret (base32)")
    phone: str | None = None
    confirmed_at: datetime | None = moment(nullable=True)
    last_used_step: int | None = Field(default=None, description="Last accepted TOTP time step: no replay")
    code_hash: str | None = Field(default=None, description="Pending SMS/e-mail code while enrolling from the account")
    code_expires_at: datetime | None = moment(nullable=True)
    code_attempts: int = 0
    created_at: datetime = moment()


class RecoveryCode(IdentityTable, table=True):
    """One of the ten single-use recovery codes of a user (only its SHA-256 is kept)."""

    __tablename__ = "recovery_code"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    code_hash: str = Field(unique=True)
    used_at: datetime | None = moment(nullable=True)
    created_at: datetime = moment()


class OneTimeToken(IdentityTable, table=True):
    """An e-mailed link token: e-mail verification, password reset or invitation; single-use, expiring."""

    __tablename__ = "one_time_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    purpose: str = Field(description="verify_email | reset_password | invitation")
    token_hash: str = Field(unique=True)
    expires_at: datetime = moment()
    used_at: datetime | None = moment(nullable=True)
    created_at: datetime = moment()


class LoginChallenge(IdentityTable, table=True):
    """A sign-in between a correct password and its second factor (or the first enrolment)."""

    __tablename__ = "login_challenge"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(unique=True)
    stage: str = Field(description="verify | enrol")
    verified_with: str | None = Field(default=None, description="Factor already proven when enrolling after it")
    device_id: uuid.UUID | None = None
    ip: str | None = None
    user_agent: str | None = None
    failed_attempts: int = 0
    code_hash: str | None = None
    code_factor_id: uuid.UUID | None = None
    code_expires_at: datetime | None = moment(nullable=True)
    codes_sent: int = 0
    pending_factor_id: uuid.UUID | None = None
    expires_at: datetime = moment()
    completed_at: datetime | None = moment(nullable=True)
    created_at: datetime = moment()


class KnownDevice(IdentityTable, table=True):
    """A browser or app that completed a sign-in; it escapes account-wide throttling and new-device alerts."""

    __tablename__ = "known_device"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(unique=True)
    user_agent: str | None = None
    last_ip: str | None = None
    first_seen_at: datetime = moment()
    last_seen_at: datetime = moment()


class AuthSession(IdentityTable, table=True):
    """A signed-in session: the family of its rotating refresh tokens."""

    __tablename__ = "auth_session"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    company_id: uuid.UUID = Field(foreign_key="company.id")
    acr: str
    amr: list[str] = text_list()
    auth_time: datetime = moment()
    device_id: uuid.UUID | None = None
    ip: str | None = None
    user_agent: str | None = None
    created_at: datetime = moment()
    last_seen_at: datetime = moment()
    expires_at: datetime = moment()
    revoked_at: datetime | None = moment(nullable=True)
    revoked_reason: str | None = None


class RefreshToken(IdentityTable, table=True):
    """One refresh token of a session (SHA-256 only); rotated on use, a reuse revokes the session."""

    __tablename__ = "refresh_token"

    token_hash: str = Field(primary_key=True)
    session_id: uuid.UUID = Field(foreign_key="auth_session.id", index=True)
    created_at: datetime = moment()
    expires_at: datetime = moment()
    rotated_at: datetime | None = moment(nullable=True)


class ThrottleEvent(IdentityTable, table=True):
    """A sign-in or recovery attempt, counted in sliding windows; pruned after a day."""

    __tablename__ = "throttle_event"
    __table_args__ = (
        sa.Index("ix_throttle_account", "kind", "account_key", "at"),
        sa.Index("ix_throttle_source", "kind", "source", "at"),
    )

    id: int | None = Field(default=None, sa_column=Column(sa.BigInteger, sa.Identity(), primary_key=True))
    kind: str = Field(description="login | recovery | signup")
    account_key: str | None = Field(default=None, description="SHA-256 of the normalised e-mail typed")
    source: str
    outcome: str = Field(description="failed | password_ok | succeeded | sent")
    at: datetime = moment()


class AuditEntry(IdentityTable, table=True):
    """Security audit log; append-only (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, sa_column=Column(sa.BigInteger, sa.Identity(), primary_key=True))
    at: datetime = moment()
    company_id: uuid.UUID | None = Field(default=None, index=True)
    user_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    event: str
    ip: str | None = None
    user_agent: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))


class Contact(IdentityTable, table=True):
    """A company contact (My company > Contacts), separate from the users who log in."""

    __tablename__ = "contact"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    company_id: uuid.UUID = Field(foreign_key="company.id", index=True)
    name: str
    email: str | None = None
    phone: str | None = None
    roles: list[str] = text_list()
    locale: str = "fr"
    created_at: datetime = moment()
    updated_at: datetime = moment()


class PartnerSystem(IdentityTable, table=True):
    """A partner system (ERP, billing tool) allowed to publish invoices for its company."""

    __tablename__ = "partner_system"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    company_id: uuid.UUID = Field(foreign_key="company.id", index=True)
    name: str
    status: str = "active"
    created_by: uuid.UUID | None = None
    created_at: datetime = moment()
    removed_at: datetime | None = moment(nullable=True)


class PartnerKey(IdentityTable, table=True):
    """An Ed25519 public key of a partner system; the private half never stays with us."""

    __tablename__ = "partner_key"

    key_id: str = Field(primary_key=True)
    partner_id: uuid.UUID = Field(foreign_key="partner_system.id", index=True)
    company_id: uuid.UUID = Field(foreign_key="company.id", index=True)
    algorithm: str = "Ed25519"
    public_key: str = Field(description="Raw 32-byte key, base64url without padding")
    status: str = "active"
    created_by: uuid.UUID | None = None
    created_at: datetime = moment()
    revoked_at: datetime | None = moment(nullable=True)
    revoked_by: uuid.UUID | None = None
