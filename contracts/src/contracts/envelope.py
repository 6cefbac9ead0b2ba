"""CloudEvents 1.0 envelope in Kafka binary mode: headers carry the attributes, the value the JSON."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
TENANT_HEADER = "factora_tenant"
TRACEPARENT_HEADER = "traceparent"
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time")


class EnvelopeError(ValueError):
    """A Kafka record whose headers do not form a valid CloudEvents envelope."""


class Envelope(BaseModel):
    """The CloudEvents attributes of one event, as carried in Kafka headers."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Unique event id (UUID); consumers use it as the idempotency key.")
    source: str = Field(description="URI-reference of the producing service, e.g. /factora/invoicing.")
    type: str = Field(description="Schema name of the payload, e.g. invoicing.invoice-issued.v1.")
    time: datetime = Field(description="When the event happened (UTC).")
    subject: str | None = Field(default=None, description="Aggregate id the event is about.")
    tenant: str | None = Field(default=None, description="Company id the event belongs to.")
    traceparent: str | None = Field(default=None, description="W3C trace context of the producer.")
    content_type: str = Field(default=CONTENT_TYPE, description="Media type of the payload.")

    @classmethod
    def new(
        cls,
        *,
        source: str,
        type: str,
        subject: str | None = None,
        tenant: str | None = None,
        traceparent: str | None = None,
        id: str | None = None,
    ) -> Envelope:
        """A fresh envelope with a random id and the current time."""
        return cls(
            id=id or str(uuid.uuid4()),
            source=source,
            type=type,
            time=datetime.now(UTC),
            subject=subject,
            tenant=tenant,
            traceparent=traceparent,
        )

    def to_headers(self) -> dict[str, str]:
        """Kafka headers for this envelope (binary content mode)."""
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_time": self.time.isoformat(),
            "content-type": self.content_type,
        }
        if self.subject:
            headers["ce_subject"] = self.subject
        if self.tenant:
            headers[TENANT_HEADER] = self.tenant
        if self.traceparent:
            headers[TRACEPARENT_HEADER] = self.traceparent
        return headers

    @classmethod
    def from_headers(cls, headers: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]]) -> Envelope:
        """Parse Kafka headers; raise EnvelopeError naming the missing or bad header."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        h = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in items}
        missing = [name for name in REQUIRED_HEADERS if not h.get(name)]
        if missing:
            raise EnvelopeError(f"missing CloudEvents header(s): {', '.join(missing)}")
        if h["ce_specversion"] != SPEC_VERSION:
            raise EnvelopeError(f"ce_specversion must be {SPEC_VERSION}, got {h['ce_specversion']!r}")
        try:
            time = datetime.fromisoformat(h["ce_time"])
        except ValueError as exc:
            raise EnvelopeError(f"ce_time is not an ISO-8601 timestamp: {h['ce_time']!r}") from exc
        return cls(
            id=h["ce_id"],
            source=h["ce_source"],
            type=h["ce_type"],
            time=time,
            subject=h.get("ce_subject"),
            tenant=h.get(TENANT_HEADER),
            traceparent=h.get(TRACEPARENT_HEADER),
            content_type=h.get("content-type", CONTENT_TYPE),
        )
