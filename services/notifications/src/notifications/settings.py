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
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    sms_sink_path: Path = Field(default_factory=default_sms_sink, description="Local SMS sink file.")
    max_attempts: int = Field(default=6, description="Delivery attempts before a message is marked failed.")
    retry_base_delay_s: float = Field(default=2.0, description="First retry delay; doubles, with jitter.")
    retry_max_delay_s: float = Field(default=300.0, description="Cap on one retry delay.")
    stuck_after_s: float = Field(
        default=120.0, description="A delivery left 'sending' this long (crash mid-send) becomes 'unknown'."
    )
