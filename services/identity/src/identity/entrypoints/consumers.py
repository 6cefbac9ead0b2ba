"""What identity consumes from Kafka: support's approved MFA resets."""

from __future__ import annotations

from functools import partial

from contracts.topics.support import MFA_RESET_APPROVED
from identity.service.context import Context
from identity.service.support_reset import apply_mfa_reset
from servicekit.runtime import ServiceRuntime


def subscribe(runtime: ServiceRuntime, ctx: Context) -> None:
    """Register identity's subscriptions on the runtime's broker."""
    runtime.subscribe(MFA_RESET_APPROVED, partial(apply_mfa_reset, ctx))  # type: ignore[arg-type]
