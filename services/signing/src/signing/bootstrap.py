"""Composition root of the signing service: sealer pool, verification sandbox, subscription, HTTP API."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from contracts import catalogue
from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime
from signing.adapters.sandbox import VerificationSandbox
from signing.adapters.sealing import PooledInvoiceSealer, verification_trust_roots
from signing.entrypoints.http import router, verify_router
from signing.service import handlers
from signing.settings import Settings


def build_app(settings: Settings | None = None) -> FastAPI:
    """The signing HTTP app; the sealing pool and the verification sandbox start and stop with it.

    Building starts nothing: processes are launched by the app's lifespan.
    """
    settings = settings or Settings()
    runtime = ServiceRuntime(settings)
    sealer = PooledInvoiceSealer(settings)
    sandbox = VerificationSandbox(
        [],
        workers=settings.verify_workers,
        timeout_s=settings.verify_timeout_s,
        memory_mb=settings.verify_memory_mb,
        decode_limit_mb=settings.verify_decode_limit_mb,
    )

    async def start_sandbox() -> None:
        # After the sealer: on first start it creates the development CA we then trust.
        sandbox.trust_roots = verification_trust_roots(settings)
        await sandbox.start()

    ctx = handlers.Context(source=settings.source, sealer=sealer)
    runtime.subscribe(
        catalogue.INVOICE_ISSUED,
        partial(handlers.seal_issued_invoice, ctx),
        prepare=partial(handlers.prepare_seal, ctx),  # type: ignore[arg-type]
    )
    runtime.declare_publications(catalogue.INVOICE_SEALED, catalogue.SEALING_FAILED)
    app = create_http_app(
        runtime,
        title="Factora signing",
        description="Sealed Factur-X PDF/A-3 invoices, their 24/7 archive and signature verification.",
        routers=[router, verify_router],
        jwks_url=settings.jwks_url,
        on_startup=[sealer.start, start_sandbox],
        on_shutdown=[sandbox.stop, sealer.stop],
    )
    app.state.sandbox = sandbox
    app.state.verify_max_bytes = settings.verify_max_bytes
    return app
