"""Composition root of the notifications service: ledger consumer, dispatcher, HTTP app."""

from __future__ import annotations

import functools

from fastapi import FastAPI

from contracts import catalogue
from notifications.adapters.documents import SigningArchive
from notifications.adapters.mailer import SmtpMailer
from notifications.adapters.sms import FileSmsSink
from notifications.adapters.templating import TemplateRenderer
from notifications.entrypoints.http import router
from notifications.service.dispatcher import DeliveryDispatcher, RetryPolicy, Throughput
from notifications.service.handlers import record_send_request
from notifications.settings import Settings
from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime


def build_dispatcher(settings: Settings, runtime: ServiceRuntime) -> DeliveryDispatcher:
    """The delivery worker wired to the configured relay, SMS sink and signing archive."""
    documents = None
    if settings.signing_token is not None and settings.signing_token.get_secret_value():
        documents = SigningArchive(
            settings.signing_base_url,
            settings.signing_token,
            max_bytes=settings.attachment_max_bytes,
            timeout_s=settings.attachment_timeout_s,
        )
    return DeliveryDispatcher(
        runtime.sessions,
        TemplateRenderer(),
        SmtpMailer(settings.smtp),
        FileSmsSink(settings.sms_sink_path),
        source=settings.source,
        retry=RetryPolicy(
            max_attempts=settings.max_attempts,
            base_delay_s=settings.retry_base_delay_s,
            max_delay_s=settings.retry_max_delay_s,
            stuck_after_s=settings.stuck_after_s,
        ),
        documents=documents,
        throughput=Throughput(
            email_lanes=settings.smtp.connections,
            sms_lanes=settings.sms_lanes,
            claim_size=settings.claim_batch_size,
            idle_close_s=settings.smtp.idle_close_s,
        ),
        default_region=settings.sms_default_region,
        on_outbox_write=runtime.relay.wake,
    )


def build_app(settings: Settings | None = None) -> FastAPI:
    """The notifications HTTP app; the dispatcher runs in its lifespan."""
    settings = settings or Settings()
    runtime = ServiceRuntime(settings)
    dispatcher = build_dispatcher(settings, runtime)

    def after_commit() -> None:
        runtime.relay.wake()
        dispatcher.wake()

    runtime.consumers.after_commit = after_commit
    runtime.subscribe(
        catalogue.SEND_REQUESTED,
        functools.partial(record_send_request, default_region=settings.sms_default_region),  # type: ignore[arg-type]
    )
    runtime.declare_publications(catalogue.DELIVERY_STATUS)
    app = create_http_app(
        runtime,
        title="Factora notifications",
        description="Templated e-mail and SMS delivery with a ledger that never loses or doubles a message.",
        routers=[router],
        jwks_url=settings.jwks_url,
        on_startup=[dispatcher.start],
        on_shutdown=[dispatcher.stop],
    )
    app.state.dispatcher = dispatcher
    return app
