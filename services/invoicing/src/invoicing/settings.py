"""Invoicing settings (env prefix INVOICING_)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything the invoicing service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="INVOICING_", extra="ignore")

    service_name: str = "invoicing"
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+asyncpg://invoicing:invoicing@127.0.0.1:15432/invoicing"),
        description="SQLAlchemy URL of the invoicing database.",
    )
    http_port: int = Field(default=8002, description="Port of the invoicing HTTP API.")
    jwks_url: str = Field(
        default="http://127.0.0.1:8001/.well-known/jwks.json",
        validation_alias="IDENTITY_JWKS_URL",
        description="Identity's JWKS, used to verify access tokens.",
    )
    signing_base_url: str = Field(
        default="http://127.0.0.1:8003",
        validation_alias="SIGNING_BASE_URL",
        description="Public base URL of the signing API, used in links to archived documents.",
    )
    portal_base_url: str = Field(
        default="http://127.0.0.1:8002",
        description="Base URL of the member portal, used in e-mail links (/invoices/{id}, /billing).",
    )
    require_partner_signature: bool = Field(
        default=True,
        description=(
            "Partner submissions must be signed with a partner key registered in identity "
            "(factora-partner-signature-v1). Turn off only on a local stack whose identity does not publish keys yet."
        ),
    )
    require_connected_buyer: bool = Field(
        default=True,
        description=(
            "Partner submissions must name a seller and a buyer known from identity's company events, connected by an "
            "active trading relationship. Off: unknown parties are taken as the submission states them (local stacks)."
        ),
    )
    welcome_credits: int = Field(
        default=20, ge=0, description="Transaction credits a company gets the first time invoicing sees it."
    )
    low_credits_threshold: int = Field(
        default=5, ge=0, description="Balance at which the company is told its credits are running low (and at 0)."
    )
    strong_auth_max_age_s: int = Field(
        default=600, ge=0, description="How recent the second-factor login must be to withdraw an invoice (seconds)."
    )
    invitation_ttl_days: int = Field(default=30, ge=1, description="Lifetime of a buyer's invitation code.")
    payment_provider: str = Field(
        default="test",
        description="Payment provider for credit purchases. Only 'test' (a simulated card processor) exists so far.",
    )
