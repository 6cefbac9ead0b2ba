"""Composition root of the invoicing service: runtime, subscriptions, payment provider and HTTP app."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import catalogue
from contracts.envelope import Envelope
from contracts.topics import identity
from contracts.v1 import PartnerInvoiceSubmitted
from invoicing.adapters.payments import PaymentProvider, TestPaymentProvider
from invoicing.adapters.signatures import RawRecord
from invoicing.entrypoints import http, http_billing, http_relationships
from invoicing.entrypoints.deps import install_error_handlers
from invoicing.service import handlers
from invoicing.service.context import Context
from invoicing.settings import Settings
from servicekit import consumer
from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime


def build_context(settings: Settings) -> Context:
    return Context(
        source=settings.source,
        signing_base_url=settings.signing_base_url,
        portal_base_url=settings.portal_base_url,
        require_partner_signature=settings.require_partner_signature,
        require_connected_buyer=settings.require_connected_buyer,
        welcome_credits=settings.welcome_credits,
        low_credits_threshold=settings.low_credits_threshold,
        strong_auth_max_age_s=settings.strong_auth_max_age_s,
        invitation_ttl_days=settings.invitation_ttl_days,
    )


def current_record(runtime: ServiceRuntime) -> RawRecord | None:
    """The Kafka record being handled, as received: headers and value bytes (for signature checks).

    servicekit's handlers get the parsed event and envelope only; servicekit keeps the record
    being handled (one of a batch) in a context variable, which is where we read it from.
    """
    raw = consumer.current_record()
    if raw is None:
        return None
    headers = {k: (v.decode(errors="replace") if isinstance(v, bytes) else str(v)) for k, v in raw.headers or []}
    return RawRecord(headers=headers, value=raw.value or b"")


def build_runtime(settings: Settings, ctx: Context | None = None) -> ServiceRuntime:
    """The runtime with every invoicing subscription registered."""
    runtime = ServiceRuntime(settings)
    ctx = ctx or build_context(settings)

    async def partner_intake(event: PartnerInvoiceSubmitted, envelope: Envelope, session: AsyncSession) -> None:
        await handlers.accept_partner_invoice(ctx, event, envelope, session, current_record(runtime))

    runtime.subscribe(
        catalogue.PARTNER_INVOICE_SUBMITTED,
        partner_intake,  # type: ignore[arg-type]
        on_invalid=partial(handlers.reject_unreadable_submission, ctx),
    )
    runtime.subscribe(catalogue.INVOICE_SEALED, partial(handlers.mark_delivered, ctx))
    runtime.subscribe(catalogue.SEALING_FAILED, partial(handlers.mark_sealing_failed, ctx))
    runtime.subscribe(identity.COMPANY_REGISTERED, partial(handlers.on_company_registered, ctx))
    runtime.subscribe(identity.COMPANY_UPDATED, partial(handlers.on_company_updated, ctx))
    runtime.subscribe(identity.PARTNER_CREDENTIAL_REGISTERED, partial(handlers.on_key_registered, ctx))
    runtime.subscribe(identity.PARTNER_CREDENTIAL_REVOKED, partial(handlers.on_key_revoked, ctx))
    runtime.declare_publications(
        catalogue.INVOICE_ISSUED,
        catalogue.INVOICE_STATUS_CHANGED,
        catalogue.PARTNER_INVOICE_REJECTED,
        catalogue.SEND_REQUESTED,
    )
    return runtime


def build_payment_provider(settings: Settings) -> PaymentProvider:
    if settings.payment_provider == "test":
        return TestPaymentProvider()
    raise ValueError(f"unknown INVOICING_PAYMENT_PROVIDER {settings.payment_provider!r}; only 'test' exists so far")


def build_app(settings: Settings | None = None, *, payment_provider: PaymentProvider | None = None) -> FastAPI:
    """The invoicing HTTP app (consumers and relay run in its lifespan)."""
    settings = settings or Settings()
    ctx = build_context(settings)
    app = create_http_app(
        build_runtime(settings, ctx),
        title="Factora invoicing",
        description=(
            "Invoices and credit notes between suppliers and the buyers they trade with: trading relationships, "
            "the online form (drafts, validation with reasons, issuing), credit notes, withdrawal, the buyer's "
            "statuses, UBL and CII exports, and the Billing menu (transaction credits)."
        ),
        routers=[http.router, http_relationships.router, http_billing.router],
        jwks_url=settings.jwks_url,
    )
    app.state.invoicing_context = ctx
    app.state.payment_provider = payment_provider or build_payment_provider(settings)
    install_error_handlers(app)
    return app
