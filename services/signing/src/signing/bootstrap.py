"""Composition root of the signing service: sealer pool, subscription, archive API."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from contracts import catalogue
from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime
from signing.adapters.sealing import PooledInvoiceSealer
from signing.entrypoints.http import router
from signing.service import handlers
from signing.settings import Settings


def build_app(settings: Settings | None = None) -> FastAPI:
    """The signing HTTP app; the sealing pool starts and stops with it."""
    settings = settings or Settings()
    runtime = ServiceRuntime(settings)
    sealer = PooledInvoiceSealer(settings)
    ctx = handlers.Context(source=settings.source, sealer=sealer)
    runtime.subscribe(catalogue.INVOICE_ISSUED, partial(handlers.seal_issued_invoice, ctx))
    runtime.declare_publications(catalogue.INVOICE_SEALED, catalogue.SEALING_FAILED)
    return create_http_app(
        runtime,
        title="Factora signing",
        description="Sealed Factur-X PDF/A-3 invoices, their 24/7 archive and signature verification.",
        routers=[router],
        jwks_url=settings.jwks_url,
        on_startup=[sealer.start],
        on_shutdown=[sealer.stop],
    )
