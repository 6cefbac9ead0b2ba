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
