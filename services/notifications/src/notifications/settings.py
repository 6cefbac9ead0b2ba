"""Notifications settings (env prefix NOTIFICATIONS_; SMTP_ for the mail server)."""

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifications.adapters.mailer import SmtpSettings as MailerSmtpSettings
from servicekit.settings import ServiceSettings


class SmtpSettings(MailerSmtpSettings, BaseSettings):
    """The outgoing mail server, read from SMTP_* variables (fields documented on the adapter's model)."""

    model_config = SettingsConfigDict(env_prefix="SMTP_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="SMTP server host.")
    port: int = Field(default=2525, description="SMTP server port (the local stack's catcher by default).")


def default_sms_sink() -> Path:
    """Where the local stack's SMS land (one JSON line each)."""
    return Path(os.environ.get("FACTORA_STATE_DIR", ".local/stack")) / "sms" / "outbox.jsonl"


class Settings(ServiceSettings):
    """Everything the notifications service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+asyncpg://notifications:notifications@127.0.0.1:15432/notifications"),
        description="SQLAlchemy URL of the notifications database.",
    )
    http_port: int = Field(default=8004, description="Port of the notifications HTTP API.")
    db_pool_size: int = Field(
        default=8,
        description="Connections kept in the pool: each SMTP lane claims and records on two at once at most.",
    )
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    sms_sink_path: Path = Field(default_factory=default_sms_sink, description="Local SMS sink file.")
    max_attempts: int = Field(default=6, description="Delivery attempts before a message is marked failed.")
    retry_base_delay_s: float = Field(default=2.0, description="First retry delay; doubles, with jitter.")
    retry_max_delay_s: float = Field(default=300.0, description="Cap on one retry delay.")
    stuck_after_s: float = Field(
        default=120.0, description="A delivery left 'sending' this long (crash mid-send) becomes 'unknown'."
    )
    claim_batch_size: int = Field(
        default=10, ge=1, le=500, description="Due deliveries one lane claims at a time (bounds memory)."
    )
    sms_lanes: int = Field(default=1, ge=1, le=16, description="SMS sent at once.")
    sms_default_region: str = Field(
        default="FR", description="Country (ISO 3166 alpha-2) of phone numbers given without a country code."
    )
    jwks_url: str = Field(
        default="http://127.0.0.1:8001/.well-known/jwks.json",
        validation_alias="IDENTITY_JWKS_URL",
        description="Identity's JWKS, used to verify operators' access tokens.",
    )
    signing_base_url: str = Field(
        default="http://127.0.0.1:8003",
        validation_alias="SIGNING_BASE_URL",
        description="Base URL of the signing API, where document_ref paths are fetched for attachments.",
    )
    signing_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token presented to signing's archive to fetch a document to attach. "
            "Unset: documents are linked, never attached."
        ),
    )
    attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Largest document attached; a bigger one is linked instead."
    )
    attachment_timeout_s: float = Field(default=15.0, gt=0, description="Bound on fetching one document from signing.")
