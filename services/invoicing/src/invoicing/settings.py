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
