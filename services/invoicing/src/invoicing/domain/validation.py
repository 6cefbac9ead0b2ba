"""Validation of an invoice: EN 16931 rules, the document's arithmetic and the country rules, in one report."""

from __future__ import annotations

from contracts.v1 import PartnerInvoiceSubmitted, RejectionReason
from invoicing.domain.countries.rules import check_country_rules
from invoicing.domain.findings import Collector, Finding, ValidationReport
from invoicing.domain.model import InvoiceContent, build_invoice
from invoicing.domain.rules import check_content, check_document, check_stated_totals


def validate(source: InvoiceContent | PartnerInvoiceSubmitted) -> ValidationReport:
    """Every finding on this content (errors block issuing; warnings are kept with the invoice)."""
    content = InvoiceContent.of(source)
    out = Collector()
    check_content(content, out)
    check_country_rules(content, out)
    if content.lines:
        document = build_invoice(content, invoice_id="(draft)", number="(draft)")
        check_document(document, out)
        check_stated_totals(content, document, out)
    return out.report()


def as_reason(finding: Finding, locale: str) -> RejectionReason:
    """A finding as partners receive it."""
    return RejectionReason(
        rule=finding.rule, field=finding.field, message=finding.message(locale), messages=finding.messages()
    )


def validate_submission(sub: PartnerInvoiceSubmitted, locale: str = "en") -> list[RejectionReason]:
    """The errors of a partner submission as rejection reasons (empty list = it may be issued)."""
    return [as_reason(f, locale) for f in validate(sub).errors]
