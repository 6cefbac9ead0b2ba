"""Send SMS through an HTTP gateway, or append them to a JSON-lines file on the local stack."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from notifications.adapters import SendOutcome, SendResult

log = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
DETAIL_LIMIT = 300
# What people type around the digits; letters (vanity numbers, "ext.") are refused.
PHONE_TEXT = re.compile(r"\+?[\d\s().\-/]+")


class InvalidPhoneNumber(ValueError):
    """The number cannot be turned into E.164; the message says why."""


def normalise_e164(raw: str, default_region: str = "FR") -> str:
    """'06 12 34 56 78' (FR) → '+33612345678', checked against the numbering plan of its country.

    A number without a country code is read as dialled in `default_region` (ISO 3166 alpha-2).
    `phonenumbers` knows each country's trunk prefix, international prefix and number ranges,
    so a number that cannot exist (too short, unassigned range) is refused here, not by the provider.
    """
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or not PHONE_TEXT.fullmatch(text):
        raise InvalidPhoneNumber(f"a phone number holds digits, spaces and one leading +: {raw!r}")
    region = default_region.upper()
    if not text.startswith("+") and region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidPhoneNumber(f"no country code known for region {default_region!r}: {raw!r}")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        reason = str(exc).split(") ", 1)[-1]  # "(1) The string supplied ..." without the error number
        raise InvalidPhoneNumber(f"not a phone number ({reason}): {raw!r}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"not a valid number in its country's numbering plan: {raw!r}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not E164.match(e164):
        raise InvalidPhoneNumber(f"not a valid international number (7 to 15 digits): {raw!r}")
    return e164


class SmsGateway(Protocol):
    """Hands one SMS to a provider; never raises, the result says what happened."""

    async def send(self, to_e164: str, text: str, idempotency_key: str) -> SendResult: ...


class HttpSmsSettings(BaseModel):
    """A JSON-over-HTTPS SMS provider; nest it in the service settings."""

    model_config = ConfigDict(frozen=True)

    url: str = Field(description="Endpoint that accepts one SMS per POST.")
    auth: Literal["none", "bearer", "basic"] = Field(default="bearer", description="Auth scheme.")
    token: SecretStr | None = Field(default=None, description="Bearer token (auth=bearer).")
    username: str | None = Field(default=None, description="Account id (auth=basic).")
    password: SecretStr | None = Field(default=None, description="Account secret (auth=basic).")
    sender: str = Field(default="Factora", description="Sender id shown on the handset.")
    timeout: float = Field(default=10.0, gt=0, description="Seconds allowed per request.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if httpx.URL(value).scheme not in ("https", "http"):
            raise ValueError("the SMS gateway URL must be http(s)")
        return value

    @model_validator(mode="after")
    def _credentials_match_scheme(self) -> HttpSmsSettings:
        if self.auth == "bearer" and self.token is None:
            raise ValueError("auth=bearer needs a token")
        if self.auth == "basic" and (self.username is None or self.password is None):
            raise ValueError("auth=basic needs a username and a password")
        return self


class HttpSmsGateway:
    """POSTs {to, from, text} with an Idempotency-Key, so a retry never sends a second SMS."""

    # Before the request is fully written the provider cannot have acted on it.
    NOT_SENT = (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.WriteError,
        httpx.WriteTimeout,
        httpx.ProxyError,
    )
    # A refused credential is ours to fix; the message itself is fine and should wait.
    CREDENTIAL_STATUSES = frozenset({401, 403, 407})

    def __init__(self, settings: HttpSmsSettings, *, client: httpx.AsyncClient | None = None):
        self._settings = settings
        self._client = client or httpx.AsyncClient(timeout=settings.timeout)
        self._owns_client = client is None
        secrets = (settings.token, settings.password)
        self._secrets = tuple(s.get_secret_value() for s in secrets if s and s.get_secret_value())

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def send(self, to_e164: str, text: str, idempotency_key: str) -> SendResult:
        if not E164.match(to_e164):
            return SendResult(SendOutcome.PERMANENT, "recipient is not an E.164 number", stage="address")
        s = self._settings
        headers = {"Idempotency-Key": idempotency_key}
        auth: httpx.BasicAuth | None = None
        if s.auth == "bearer" and s.token is not None:
            headers["Authorization"] = f"Bearer {s.token.get_secret_value()}"
        elif s.auth == "basic" and s.username is not None and s.password is not None:
            auth = httpx.BasicAuth(s.username, s.password.get_secret_value())
        body = {"to": to_e164, "from": s.sender, "text": text}
        try:
            response = await self._client.post(s.url, json=body, headers=headers, auth=auth or httpx.USE_CLIENT_DEFAULT)
        except self.NOT_SENT as exc:
            result = SendResult(SendOutcome.TRANSIENT, self._clean(repr(exc)), stage="request")
        except httpx.TransportError as exc:
            # The request went out; the provider may have sent the SMS before the answer was lost.
            result = SendResult(SendOutcome.UNKNOWN, self._clean(repr(exc)), stage="response")
        else:
            result = self._classify(response)
        level = logging.INFO if result.outcome is SendOutcome.SENT else logging.WARNING
        log.log(level, "sms %s %s (status %s)", idempotency_key, result.outcome, result.code)
        return result

    def _classify(self, response: httpx.Response) -> SendResult:
        status = response.status_code
        detail = self._clean(f"HTTP {status}: {response.text[:200]}")
        if 200 <= status < 300:
            return SendResult(
                SendOutcome.SENT, detail, code=status, stage="response", provider_ref=_provider_ref(response)
            )
        if status in (408, 429) or status >= 500 or status in self.CREDENTIAL_STATUSES:
            return SendResult(
                SendOutcome.TRANSIENT, detail, code=status, stage="response", retry_after=_retry_after(response)
            )
        if 400 <= status < 500:
            return SendResult(SendOutcome.PERMANENT, detail, code=status, stage="response")
        # 1xx/3xx: the provider did not take the message (redirects are not followed).
        return SendResult(SendOutcome.TRANSIENT, detail, code=status, stage="response")

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text[:DETAIL_LIMIT]


def _provider_ref(response: httpx.Response) -> str | None:
    try:
        data: Any = response.json()
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in ("id", "message_id", "messageId", "sid"):
            if isinstance(data.get(key), str | int):
                return str(data[key])
    return None


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class FileSmsSink:
    """Local stack: one JSON line per SMS, so tests and developers can read what was 'sent'."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._lock = asyncio.Lock()

    async def send(self, to_e164: str, text: str, idempotency_key: str) -> SendResult:
        if not E164.match(to_e164):
            return SendResult(SendOutcome.PERMANENT, "recipient is not an E.164 number", stage="address")
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "to": to_e164,
            "text": text,
            "idempotency_key": idempotency_key,
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        try:
            async with self._lock:
                await asyncio.to_thread(self._append, line)
        except OSError as exc:
            return SendResult(SendOutcome.TRANSIENT, str(exc)[:DETAIL_LIMIT], stage="file")
        return SendResult(SendOutcome.SENT, str(self._path), stage="file", provider_ref=idempotency_key)

    def read_all(self) -> list[dict[str, Any]]:
        if not self._path.exists():
            return []
        with self._path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def _append(self, line: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as handle:
            handle.write(line)
