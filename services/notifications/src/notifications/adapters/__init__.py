"""Delivery adapters (templates, SMTP, SMS) and the send outcome they all report."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SendOutcome(enum.StrEnum):
    """What one delivery attempt proved about the message."""

    SENT = "sent"
    # Nothing was handed over; trying again later is safe.
    TRANSIENT = "transient"
    # This message can never be delivered as it is; trying again is pointless.
    PERMANENT = "permanent"
    # The provider may have accepted it: resending blindly could deliver it twice.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SendResult:
    """Outcome of one attempt, with the provider's answer stripped of secrets."""

    outcome: SendOutcome
    detail: str | None = None
    code: int | None = None
    stage: str | None = None
    provider_ref: str | None = None
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.outcome is SendOutcome.TRANSIENT
