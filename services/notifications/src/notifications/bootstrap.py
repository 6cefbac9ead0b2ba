"""Composition root of the notifications service: ledger consumer, dispatcher, HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from contracts import catalogue
from notifications.adapters.mailer import SmtpMailer
from notifications.adapters.sms import FileSmsSink
from notifications.adapters.templating import TemplateRenderer
from notifications.entrypoints.http import router
from notifications.service.dispatcher import DeliveryDispatcher, RetryPolicy
from notifications.service.handlers import record_send_request
from notifications.settings import Settings
from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime


def build_app(settings: Settings | None = None) -> FastAPI:
    """The notifications HTTP app; the dispatcher runs in its lifespan."""
    settings = settings or Settings()
    runtime = ServiceRuntime(settings)
    dispatcher = DeliveryDispatcher(
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
        on_outbox_write=runtime.relay.wake,
    )

    def after_commit() -> None:
        runtime.relay.wake()
        dispatcher.wake()

    runtime.consumers.after_commit = after_commit
    runtime.subscribe(catalogue.SEND_REQUESTED, record_send_request)
    runtime.declare_publications(catalogue.DELIVERY_STATUS)
    return create_http_app(
        runtime,
        title="Factora notifications",
        description="Templated e-mail and SMS delivery with a ledger that never loses or doubles a message.",
        routers=[router],
        on_startup=[dispatcher.start],
        on_shutdown=[dispatcher.stop],
    )
