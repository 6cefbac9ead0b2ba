"""Signing settings (env prefix SIGNING_)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
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
    pkcs11_module: Path | None = Field(
        default=None,
        description="PKCS#11 module (.so) of the HSM holding the seal key; when set, the key is used from the token.",
    )
    pkcs11_token_label: str | None = Field(default=None, description="Label of the PKCS#11 token holding the seal key.")
    pkcs11_pin: SecretStr | None = Field(default=None, description="User PIN of the PKCS#11 token.")
    pkcs11_key_label: str | None = Field(
        default=None, description="Label of the seal's private key on the token (defaults to the certificate label)."
    )
    pkcs11_cert_label: str | None = Field(
        default=None, description="Label of the seal certificate on the token (defaults to the key label)."
    )
    pkcs11_chain_labels: list[str] = Field(
        default_factory=list,
        description="Labels of issuing CA certificates on the token, embedded with the seal (JSON list).",
    )
    verify_max_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest PDF accepted by POST /verify, in bytes (413 beyond)."
    )
    verify_timeout_s: float = Field(
        default=10.0, description="Wall-clock limit on checking one PDF; the checking process is killed beyond it."
    )
    verify_memory_mb: int = Field(
        default=512, description="Address space a checking process may add beyond its start-up size (RLIMIT_AS)."
    )
    verify_decode_limit_mb: int = Field(
        default=64, description="Most decompressed data one PDF may produce while it is checked (decompression bombs)."
    )
    verify_workers: int = Field(default=1, description="Processes checking uploaded PDFs, apart from the sealing pool.")

    @model_validator(mode="after")
    def _one_seal_key(self) -> Settings:
        if self.pkcs11_module is None:
            return self
        if self.pkcs12_path is not None:
            raise ValueError("set SIGNING_PKCS11_MODULE or SIGNING_PKCS12_PATH, not both")
        missing = [
            name
            for name, value in (
                ("SIGNING_PKCS11_TOKEN_LABEL", self.pkcs11_token_label),
                ("SIGNING_PKCS11_PIN", self.pkcs11_pin),
            )
            if value is None
        ]
        if not (self.pkcs11_key_label or self.pkcs11_cert_label):
            missing.append("SIGNING_PKCS11_KEY_LABEL or SIGNING_PKCS11_CERT_LABEL")
        if missing:
            raise ValueError(f"a PKCS#11 seal also needs {', '.join(missing)}")
        return self
