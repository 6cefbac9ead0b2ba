"""Errors the use cases raise; each carries what the user must know to act (the entry points map them)."""

from __future__ import annotations

from typing import Any


class InvoicingError(Exception):
    """Base: `code` is stable for clients, `detail` says what to do."""

    status = 400
    code = "invoicing_error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(InvoicingError):
    status, code = 404, "not_found"


class Conflict(InvoicingError):
    status, code = 409, "conflict"


class Forbidden(InvoicingError):
    status, code = 403, "forbidden"


class InvalidInvoice(InvoicingError):
    """Validation found errors; `extra['report']` holds the whole report."""

    status, code = 422, "invalid_invoice"


class NotConnected(InvoicingError):
    status, code = 409, "buyer_not_connected"


class NoCreditsLeft(InvoicingError):
    status, code = 402, "no_credits_left"


class CreditExceedsRemainder(InvoicingError):
    status, code = 409, "credit_exceeds_remainder"


class ConfirmationRequired(InvoicingError):
    status, code = 428, "confirmation_required"


class StepUpRequired(InvoicingError):
    status, code = 401, "insufficient_user_authentication"


class PaymentDeclined(InvoicingError):
    status, code = 402, "payment_declined"
