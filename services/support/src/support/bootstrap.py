"""Composition root of the support service: runtime, use-case context, SLA monitor, HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from contracts.topics import support as support_topics
from contracts.topics.notifications import SEND_REQUESTED
from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime
from support.entrypoints.http import ROUTERS, install_error_handler
from support.service.context import SupportContext
from support.service.sla_monitor import SlaMonitor
from support.settings import Settings


def build_runtime(settings: Settings) -> ServiceRuntime:
    """The runtime with what support publishes declared (it consumes nothing yet)."""
    runtime = ServiceRuntime(settings)
    runtime.declare_publications(
        support_topics.MFA_RESET_APPROVED,
        support_topics.CASE_OPENED,
        support_topics.CASE_STATE_CHANGED,
        SEND_REQUESTED,
    )
    return runtime


def build_app(settings: Settings | None = None) -> FastAPI:
    """The support HTTP app; `app.state.support` is the use-case context (its clock is replaceable in tests)."""
    settings = settings or Settings()
    runtime = build_runtime(settings)
    ctx = SupportContext.build(settings, runtime.sessions, runtime.relay.wake)
    monitor = SlaMonitor(ctx, settings.sla_sweep_interval_s)
    app = create_http_app(
        runtime,
        title="Factora support",
        description="Cases with business-hours SLAs, the knowledge base and the MFA-reset workflow.",
        routers=ROUTERS,
        jwks_url=settings.jwks_url,
        on_startup=[monitor.start],
        on_shutdown=[monitor.stop],
    )
    app.state.support = ctx
    app.state.sla_monitor = monitor
    install_error_handler(app)
    return app
