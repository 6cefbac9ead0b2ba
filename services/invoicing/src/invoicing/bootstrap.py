"""Composition root of the invoicing service: runtime, subscriptions and HTTP app."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from contracts import catalogue
from invoicing.entrypoints.http import router
from invoicing.service import handlers
from invoicing.settings import Settings
from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime


def build_runtime(settings: Settings) -> ServiceRuntime:
    """The runtime with every invoicing subscription registered."""
    runtime = ServiceRuntime(settings)
    ctx = handlers.Context(source=settings.source, signing_base_url=settings.signing_base_url)
    runtime.subscribe(
        catalogue.PARTNER_INVOICE_SUBMITTED,
        partial(handlers.accept_partner_invoice, ctx),
        on_invalid=partial(handlers.reject_unreadable_submission, ctx),
    )
    runtime.subscribe(catalogue.INVOICE_SEALED, partial(handlers.mark_delivered, ctx))
    runtime.subscribe(catalogue.SEALING_FAILED, partial(handlers.mark_sealing_failed, ctx))
    runtime.declare_publications(
        catalogue.INVOICE_ISSUED,
        catalogue.INVOICE_STATUS_CHANGED,
        catalogue.PARTNER_INVOICE_REJECTED,
        catalogue.SEND_REQUESTED,
    )
    return runtime


def build_app(settings: Settings | None = None) -> FastAPI:
    """The invoicing HTTP app (consumers and relay run in its lifespan)."""
    settings = settings or Settings()
    return create_http_app(
        build_runtime(settings),
        title="Factora invoicing",
        description="Invoices and credit notes between suppliers and the buyers they trade with.",
        routers=[router],
        jwks_url=settings.jwks_url,
    )
