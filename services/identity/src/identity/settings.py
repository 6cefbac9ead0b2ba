"""Identity settings (env prefix IDENTITY_)."""

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class Argon2Settings(BaseModel):
    """argon2id cost; the defaults follow RFC 9106's second recommendation (64 MiB, 3 passes)."""

    time_cost: int = Field(default=3, ge=1, description="Passes over memory.")
    memory_kib: int = Field(default=65536, ge=8, description="Memory per hash in KiB (65536 = 64 MiB).")
    parallelism: int = Field(default=1, ge=1, description="Lanes per hash; 1 leaves the other cores to other logins.")
    max_concurrent: int = Field(
        default=2, ge=1, description="Hashes computed at once; caps memory (memory_kib each) under a login flood."
    )


class ThrottleSettings(BaseModel):
    """Sign-in and recovery throttling: exponential back-off that slows guessing but never locks anyone out for good."""

    window_s: float = Field(default=900.0, description="Sliding window in which failures are counted.")
    pair_free_failures: int = Field(default=5, description="Failures of one account from one source before back-off.")
    account_free_failures: int = Field(
        default=20, description="Failures of one account from all sources before new devices are slowed too."
    )
    base_delay_s: float = Field(default=1.0, description="First back-off delay; doubles with each further failure.")
    max_delay_s: float = Field(default=900.0, description="Cap on one back-off delay: nobody waits longer than this.")
    source_max_failures: int = Field(
        default=100, description="Failed sign-ins one source may make in the window, all accounts together."
    )
    recovery_per_account: int = Field(
        default=3, description="Recovery e-mails (reset, reminder, verification) one address receives per window."
    )
    recovery_per_source: int = Field(default=30, description="Recovery requests one source may make per window.")
    signups_per_source: int = Field(default=10, description="Sign-ups one source may make per window.")


class Settings(ServiceSettings):
    """Everything the identity service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "identity"
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+asyncpg://identity:identity@127.0.0.1:15432/identity"),
        description="SQLAlchemy URL of the identity database.",
    )
    http_port: int = Field(default=8001, description="Port of the identity HTTP API.")
    access_token_ttl_s: int = Field(default=600, description="Lifetime of access tokens (short by design).")
    refresh_token_ttl_s: int = Field(
        default=7 * 24 * 3600, description="A refresh token unused this long expires (each use rotates it)."
    )
    session_max_age_s: int = Field(
        default=30 * 24 * 3600, description="A session ends this long after its sign-in, however often it is refreshed."
    )
    recent_auth_max_age_s: int = Field(
        default=900,
        description="Sensitive actions (MFA changes, admin transfer, user deletion...) need a sign-in this recent.",
    )
    login_challenge_ttl_s: int = Field(
        default=600, description="Time to complete the second factor after the password."
    )
    mfa_code_ttl_s: int = Field(default=600, description="Lifetime of an SMS or e-mail code.")
    mfa_max_attempts: int = Field(default=5, description="Wrong codes after which a code or sign-in attempt is void.")
    email_verification_ttl_s: int = Field(default=48 * 3600, description="Lifetime of an e-mail verification link.")
    password_reset_ttl_s: int = Field(default=1800, description="Lifetime of a password-reset link (30 minutes).")
    invitation_ttl_s: int = Field(default=7 * 24 * 3600, description="Lifetime of an invitation link.")
    login_min_duration_s: float = Field(
        default=0.35,
        description="Every sign-in answer takes at least this long, so timing never tells a known account apart.",
    )
    recovery_min_duration_s: float = Field(
        default=0.25, description="The same floor for sign-up, forgotten password or username and verification."
    )
    portal_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Base URL of the member portal; e-mailed links point at its pages.",
    )
    totp_issuer: str = Field(default="Factora", description="Issuer name shown by authenticator apps.")
    trusted_proxies: list[str] = Field(
        default=["127.0.0.1", "::1"],
        description="Peers (the gateway) whose X-Forwarded-For header gives the client address.",
    )
    staff_company_name: str = Field(default="Factora staff", description="Legal name of the staff company.")
    staff_company_country: str = Field(default="FR", description="Country of the staff company.")
    argon2: Argon2Settings = Field(default_factory=Argon2Settings, description="Password hashing cost.")
    throttle: ThrottleSettings = Field(default_factory=ThrottleSettings, description="Throttling of guesses.")
