"""Signing settings (env prefix SIGNING_)."""

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


def default_pki_dir() -> Path:
    """Development PKI folder under the local stack's state folder."""
    return Path(os.environ.get("FACTORA_STATE_DIR", ".local/stack")) / "signing" / "pki"


class Settings(ServiceSettings):
    """Everything the signing service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SIGNING_", extra="ignore")

    service_name: str = "signing"
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+asyncpg://signing:signing@127.0.0.1:15432/signing"),
        description="SQLAlchemy URL of the signing database.",
    )
    http_port: int = Field(default=8003, description="Port of the signing HTTP API.")
    jwks_url: str = Field(
        default="http://127.0.0.1:8001/.well-known/jwks.json",
        validation_alias="IDENTITY_JWKS_URL",
        description="Identity's JWKS, used to verify access tokens.",
    )
    pki_dir: Path = Field(
        default_factory=default_pki_dir,
        description="Folder of the development CA and seal (created on first start when no PKCS#12 is given).",
    )
    pkcs12_path: Path | None = Field(
        default=None, description="PKCS#12 file holding the seal key and certificate chain (production)."
    )
    pkcs12_passphrase: SecretStr = Field(
        default=SecretStr("factora-dev-seal"), description="Passphrase of the PKCS#12 file."
    )
    trust_roots: list[Path] = Field(
        default_factory=list, description="PEM files of CA certificates trusted when verifying seals."
    )
    timestamp_url: str | None = Field(
        default=None, description="RFC 3161 timestamp authority; when set, seals reach PAdES B-T."
    )
    sealing_workers: int = Field(default=2, description="Processes in the sealing pool.")
