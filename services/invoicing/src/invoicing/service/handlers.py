"""Invoicing use cases triggered by events (partner intake, sealing results, identity's companies and keys).

The use cases live in their own modules; this one gathers the event handlers the runtime subscribes.
"""

from invoicing.service.context import Context
from invoicing.service.intake import accept_partner_invoice, reject_submission, reject_unreadable_submission
from invoicing.service.issuing import publish_status
from invoicing.service.lifecycle import delivery_params, mark_delivered, mark_sealing_failed
from invoicing.service.parties import on_company_registered, on_company_updated
from invoicing.service.partner_keys import on_key_registered, on_key_revoked

__all__ = [
    "Context",
    "accept_partner_invoice",
    "delivery_params",
    "mark_delivered",
    "mark_sealing_failed",
    "on_company_registered",
    "on_company_updated",
    "on_key_registered",
    "on_key_revoked",
    "publish_status",
    "reject_submission",
    "reject_unreadable_submission",
]
