"""Partner intake: authenticate the record, check the parties and the rules, then issue like the form does."""

from __future__ import annotations

import json
import logging

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.v1 import InvoiceReference, PartnerInvoiceRejected, PartnerInvoiceSubmitted, RejectionReason
from invoicing.adapters import repository
from invoicing.adapters.signatures import RawRecord
from invoicing.adapters.submissions import submission_facts
from invoicing.adapters.tables import InvoiceRecord
from invoicing.domain.errors import CreditExceedsRemainder, NoCreditsLeft
from invoicing.domain.findings import Finding
from invoicing.domain.model import InvoiceContent
from invoicing.domain.validation import as_reason, validate
from invoicing.service import issuing, parties, partner_keys
from invoicing.service.context import Context
from servicekit.metrics import INVOICES_REJECTED, after_commit
from servicekit.outbox import add_to_outbox

log = logging.getLogger(__name__)


def rejection_kind(reasons: list[RejectionReason]) -> str:
    """The metric label of a rejection: authentication, schema, credits or validation."""
    rules = {r.rule for r in reasons}
    if any(rule.startswith("FX-AUTH") for rule in rules):
        return "authentication"
    if "FX-SCHEMA" in rules:
        return "schema"
    if any("CREDIT" in rule for rule in rules):
        return "credits"
    return "validation"


async def reject_submission(
    ctx: Context,
    session: AsyncSession,
    envelope: Envelope,
    reasons: list[RejectionReason],
    *,
    partner_id: str | None,
    external_id: str | None,
) -> None:
    """Tell the partner why nothing was issued (keyed by the submission's subject, which starts with the seller)."""
    after_commit(session, INVOICES_REJECTED.labels("partner", rejection_kind(reasons)).inc)
    add_to_outbox(
        session,
        catalogue.PARTNER_INVOICE_REJECTED,
        PartnerInvoiceRejected(
            partner_id=partner_id,
            external_id=external_id,
            submission_event_id=envelope.id,
            reasons=reasons,
        ),
        source=ctx.source,
        key=envelope.subject or envelope.id,
        tenant=envelope.tenant,
    )


async def accept_partner_invoice(
    ctx: Context,
    event: PartnerInvoiceSubmitted,
    envelope: Envelope,
    session: AsyncSession,
    record: RawRecord | None = None,
) -> None:
    """Issue a partner's invoice, or publish a rejection with reasons; never both, never twice."""

    async def reject(reasons: list[RejectionReason]) -> None:
        await reject_submission(
            ctx, session, envelope, reasons, partner_id=event.partner_id, external_id=event.external_id
        )

    async def reject_unauthenticated(problem: partner_keys.AuthProblem) -> None:
        log.warning("partner record %s rejected: %s", envelope.id, problem.rule)
        reason = RejectionReason(
            rule=problem.rule, field=problem.field, message=problem.en, messages={"fr": problem.fr, "en": problem.en}
        )
        await reject([reason])

    must_be_signed = ctx.require_partner_signature
    if must_be_signed and (problem := partner_keys.unsigned_problem(record)) is not None:
        await reject_unauthenticated(problem)  # nothing to look up: no key id or no signature
        return
    seller_id, buyer_id = event.seller.company_id, event.buyer.company_id
    key_id = record.key_id if must_be_signed and record is not None else None
    facts = await submission_facts(session, seller_id, buyer_id, event.external_id, key_id=key_id)
    if must_be_signed and (problem := partner_keys.check_signed_record(event, record, facts.partner_key)) is not None:
        await reject_unauthenticated(problem)
        return
    if facts.already_issued:
        log.info("partner %s resubmitted %s; already issued", event.partner_id, event.external_id)
        return

    seller_party, buyer_party = facts.seller, facts.buyer
    locale = seller_party.locale if seller_party else event.seller.locale
    content = InvoiceContent.of(event)
    if seller_party is not None:
        content = content.model_copy(update={"seller": parties.as_party(seller_party, email=event.seller.email)})
    if buyer_party is not None:
        content = content.model_copy(update={"buyer": parties.as_party(buyer_party, email=event.buyer.email)})

    problems: list[Finding] = []
    if ctx.require_connected_buyer:
        if seller_party is None:
            problems.append(Finding("FX-PARTY-2", "seller.company_id", params={"company_id": seller_id}))
        if buyer_party is None:
            problems.append(Finding("FX-PARTY-3", "buyer.company_id", params={"company_id": buyer_id}))
        elif not facts.connected:
            problems.append(Finding("FX-REL-1", "buyer.company_id"))
    report = validate(content)
    problems += report.errors
    corrects: InvoiceRecord | None = None
    if content.type_code == "381" and content.preceding_invoice is not None:
        number = content.preceding_invoice.number
        corrects = await repository.find_by_number(session, seller_id, number, lock=True)
        if (
            corrects is None
            or corrects.type_code != "380"
            or corrects.buyer_company_id != buyer_id
            or (corrects.status in ("draft", "withdrawn"))
        ):
            problems.append(Finding("FX-CN-2", "preceding_invoice.number", params={"number": number}))
            corrects = None
        else:
            content = content.model_copy(
                update={
                    "preceding_invoice": InvoiceReference(
                        number=number, issue_date=corrects.issue_date, invoice_id=str(corrects.id)
                    )
                }
            )
    if problems:
        await reject([as_reason(f, locale) for f in problems])
        return
    try:
        await issuing.issue(
            ctx,
            session,
            content,
            report,
            source="partner",
            partner_id=event.partner_id,
            external_id=event.external_id,
            corrects=corrects,
        )
    except NoCreditsLeft:
        await reject([as_reason(Finding("FX-CREDIT-1", "seller.company_id"), locale)])
    except CreditExceedsRemainder as exc:
        finding = Finding(
            "FX-CN-3", "lines", params={"requested": exc.extra["requested"], "remaining": exc.extra["remaining"]}
        )
        await reject([as_reason(finding, locale)])


async def reject_unreadable_submission(
    ctx: Context, body: bytes, envelope: Envelope, error: ValidationError, session: AsyncSession
) -> None:
    """A submission that does not match the schema: one reason per bad field, rule FX-SCHEMA."""
    reasons = [
        RejectionReason(
            rule="FX-SCHEMA",
            field=".".join(str(p) for p in err["loc"]) or "(payload)",
            message=f"{err['msg']}; see the invoicing.partner-invoice-submitted.v1 JSON Schema.",
        )
        for err in error.errors()
    ]
    partner_id, external_id = _readable_ids(body)
    await reject_submission(ctx, session, envelope, reasons, partner_id=partner_id, external_id=external_id)


def _readable_ids(body: bytes) -> tuple[str | None, str | None]:
    """Partner id and reference from a payload that failed validation, when they can be read."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    pid, ext = data.get("partner_id"), data.get("external_id")
    return (pid if isinstance(pid, str) else None, ext if isinstance(ext, str) else None)
