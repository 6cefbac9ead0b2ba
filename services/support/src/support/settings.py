"""Support settings (env prefix SUPPORT_)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything the support service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SUPPORT_", extra="ignore")

    service_name: str = "support"
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+asyncpg://support:support@127.0.0.1:15432/support"),
        description="SQLAlchemy URL of the support database.",
    )
    http_port: int = Field(default=8005, description="Port of the support HTTP API.")
    jwks_url: str = Field(
        default="http://127.0.0.1:8001/.well-known/jwks.json",
        validation_alias="IDENTITY_JWKS_URL",
        description="Identity's JWKS, used to verify access tokens.",
    )
    portal_url: str = Field(
        default="http://127.0.0.1:8005",
        description="Public base URL of the member portal; e-mail links point to "
        "<portal_url>/support/cases/<reference>[/verify]?token=...",
    )
    holiday_calendars: list[str] = Field(
        default=["FR", "GB"],
        description="Holiday calendars of the `sla_holiday` table the desk observes: a day listed in any of "
        'them is not a business day (JSON list, e.g. ["FR","GB"]).',
    )
    at_risk_ratio: float = Field(
        default=0.25,
        gt=0,
        lt=1,
        description="A running SLA clock is 'at risk' once less than this share of its target is left.",
    )
    reopen_window_days: int = Field(
        default=14, ge=1, description="Calendar days during which a customer can reopen a resolved case."
    )
    verification_ttl_hours: int = Field(
        default=24, ge=1, description="Validity of the e-mail confirmation link of a case."
    )
    access_link_ttl_days: int = Field(
        default=30, ge=1, description="Validity of the case links e-mailed to requesters who cannot sign in."
    )
    unverified_cases_per_email_per_hour: int = Field(
        default=3,
        ge=1,
        description="Cases opened without signing in that one e-mail address may have awaiting confirmation "
        "within an hour (stops the form being used to flood a mailbox).",
    )
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, description="Largest accepted attachment.")
    max_case_attachment_bytes: int = Field(
        default=25 * 1024 * 1024, description="Total size of the attachments of one case."
    )
    max_attachments_per_case: int = Field(default=10, description="Attachments one case can hold.")
    mfa_min_identity_checks: int = Field(
        default=2,
        ge=1,
        description="Different identity checks an agent must record (besides the e-mail link) before "
        "approving an MFA reset.",
    )
    sla_sweep_interval_s: float = Field(
        default=60.0,
        description="How often breaches are detected and counted, gauges refreshed and old resolved cases closed.",
    )
    template_opened: str = Field(default="support-case-opened", description="Template: case opened.")
    template_answered: str = Field(default="support-case-answered", description="Template: an agent replied.")
    template_waiting: str = Field(
        default="support-case-answered",
        description="Template: the case waits on the customer (set to a dedicated template once notifications has "
        "one).",
    )
    template_resolved: str = Field(default="support-case-resolved", description="Template: case resolved.")
    template_verification: str = Field(
        default="email-verification",
        description="Template of the link confirming the e-mail address of a case (params: recipient_name, "
        "verification_url, expires_in_hours, case_reference, case_subject).",
    )
