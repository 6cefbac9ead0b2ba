"""Invoice statuses: the network's delivery status and the buyer's processing status, and who may move them."""

from __future__ import annotations

from typing import Literal

# issued -> sealed -> delivered (or sealing_failed); withdrawn by the seller; drafts are the seller's only.
DeliveryStatus = Literal["draft", "issued", "sealed", "delivered", "sealing_failed", "withdrawn"]
BuyerStatus = Literal["received", "approved", "on_hold", "rejected", "paid"]

BUYER_STATUSES: tuple[str, ...] = ("received", "approved", "on_hold", "rejected", "paid")
# From the buyer's current status (None: not yet looked at) to the ones it may set next.
BUYER_TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"received", "approved", "on_hold", "rejected", "paid"}),
    "received": frozenset({"approved", "on_hold", "rejected", "paid"}),
    "on_hold": frozenset({"received", "approved", "rejected", "paid"}),
    "approved": frozenset({"on_hold", "paid"}),
    "rejected": frozenset(),
    "paid": frozenset(),
}
REASON_REQUIRED = frozenset({"rejected"})
# A buyer acts on documents that reached it: not drafts, not withdrawn ones.
BUYER_VISIBLE = frozenset({"issued", "sealed", "delivered", "sealing_failed", "withdrawn"})
BUYER_ACTIONABLE = frozenset({"issued", "sealed", "delivered"})
WITHDRAWABLE = frozenset({"issued", "sealed", "delivered", "sealing_failed"})
# What the supplier's e-mail template (invoice-status-changed) calls each buyer status; None: no e-mail.
SUPPLIER_EMAIL_STATUS: dict[str, str | None] = {
    "received": "in_review",
    "approved": "approved",
    "on_hold": None,
    "rejected": "rejected",
    "paid": "paid",
}


def buyer_transition_problem(current: str | None, new: str, reason: str | None) -> str | None:
    """Why the buyer may not move from `current` to `new`, or None."""
    if new not in BUYER_STATUSES:
        return f"unknown status {new!r}; choose among {', '.join(BUYER_STATUSES)}"
    if new == current:
        return None
    if new not in BUYER_TRANSITIONS[current]:
        if not BUYER_TRANSITIONS[current]:
            return f"the invoice is already {current}: that status is final"
        allowed = ", ".join(sorted(BUYER_TRANSITIONS[current]))
        return f"an invoice that is {current or 'not yet processed'} can become {allowed}, not {new}"
    if new in REASON_REQUIRED and not (reason or "").strip():
        return "say why the invoice is rejected: the supplier sees the reason"
    return None
