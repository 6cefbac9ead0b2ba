"""Identity settings (env prefix IDENTITY_)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything the identity service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    service_name: str = "identity"
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+asyncpg://identity:identity@127.0.0.1:15432/identity"),
        description="SQLAlchemy URL of the identity database.",
    )
    http_port: int = Field(default=8001, description="Port of the identity HTTP API.")
    access_token_ttl_s: int = Field(default=600, description="Lifetime of access tokens (short by design).")
