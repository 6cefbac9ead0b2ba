"""Payments for credit packs: the PaymentProvider port and a test provider that behaves like a card processor."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol


@dataclass(frozen=True)
class PaymentResult:
    """The processor's answer: authorised or captured (with its reference), or declined with a code."""

    status: Literal["authorised", "captured", "declined"]
    reference: str
    decline_code: str | None = None
    message: str | None = None


class IdempotencyConflict(Exception):
    """The idempotency key was already used for a different request."""


class PaymentProvider(Protocol):
    """What buying credits needs from a payment processor (Stripe, Adyen, ... or the test provider)."""

    async def authorise(
        self, *, idempotency_key: str, amount: Decimal, currency: str, payment_method: str, description: str
    ) -> PaymentResult:
        """Reserve the amount on the payment method; the same key returns the same answer, never a second charge."""
        ...

    async def capture(self, *, reference: str, idempotency_key: str) -> PaymentResult:
        """Take the authorised amount; capturing twice is harmless."""
        ...


# Test payment methods, in the spirit of the processors' own test cards.
TEST_METHODS: dict[str, tuple[str | None, str | None]] = {
    "pm_card_visa": (None, None),
    "pm_card_mastercard": (None, None),
    "pm_card_declined": ("card_declined", "The card was declined by its issuer."),
    "pm_card_insufficient_funds": ("insufficient_funds", "The card has insufficient funds."),
    "pm_card_expired": ("expired_card", "The card has expired."),
}


class TestPaymentProvider:
    """An in-memory card processor: authorisation, capture, declines by test card, idempotency keys.

    Like a real processor it remembers each idempotency key with a fingerprint of the request:
    a retry with the same key and request gets the first answer again (no second authorisation),
    the same key with another request is refused.
    """

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self._by_key: dict[str, tuple[str, PaymentResult]] = {}
        self._authorised: dict[str, tuple[Decimal, str]] = {}
        self._captured: set[str] = set()
        self.authorisations = 0

    async def authorise(
        self, *, idempotency_key: str, amount: Decimal, currency: str, payment_method: str, description: str
    ) -> PaymentResult:
        fingerprint = hashlib.sha256(f"authorise|{amount}|{currency}|{payment_method}".encode()).hexdigest()
        if idempotency_key in self._by_key:
            seen, result = self._by_key[idempotency_key]
            if seen != fingerprint:
                raise IdempotencyConflict("idempotency key reused with a different request")
            return result
        self.authorisations += 1
        reference = f"pay_{uuid.uuid4().hex[:24]}"
        if amount <= 0:
            result = PaymentResult("declined", reference, "invalid_amount", "The amount must be above zero.")
        elif payment_method not in TEST_METHODS:
            result = PaymentResult("declined", reference, "invalid_payment_method", "Unknown payment method.")
        else:
            code, message = TEST_METHODS[payment_method]
            result = (
                PaymentResult("declined", reference, code, message) if code else PaymentResult("authorised", reference)
            )
        if result.status == "authorised":
            self._authorised[reference] = (amount, currency)
        self._by_key[idempotency_key] = (fingerprint, result)
        return result

    async def capture(self, *, reference: str, idempotency_key: str) -> PaymentResult:
        if reference not in self._authorised:
            return PaymentResult(
                "declined", reference, "no_authorisation", "Nothing was authorised under this reference."
            )
        self._captured.add(reference)
        return PaymentResult("captured", reference)

    def captured(self, reference: str) -> bool:
        return reference in self._captured
