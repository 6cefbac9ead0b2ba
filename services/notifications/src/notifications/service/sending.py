"""One delivery attempt: render the message, fetch the document to attach, hand it to its channel.

Never raises: every failure becomes a SendResult the dispatcher records. Nothing here touches the ledger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from notifications.adapters import SendOutcome, SendResult
from notifications.adapters.documents import DocumentSource, FetchOutcome
from notifications.adapters.mailer import (
    Attachment,
    BeforeData,
    Mailer,
    MailSession,
    OutgoingEmail,
    not_handed_over,
)
from notifications.adapters.sms import InvalidPhoneNumber, SmsGateway, normalise_e164
from notifications.adapters.tables import Delivery
from notifications.adapters.templating import ATTACHING_TEMPLATES, TemplateError, TemplateRenderer
from notifications.metrics import ATTACHMENTS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt: the provider's verdict and, for a requested document, whether it went attached."""

    result: SendResult
    document_attached: bool | None = None


class SingleShot:
    """A lane for a mailer without sessions: every message is its own connection."""

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer
        self.last_used = time.monotonic()

    @property
    def is_open(self) -> bool:
        return False

    async def send(self, message: OutgoingEmail, before_data: BeforeData | None = None) -> SendResult:
        self.last_used = time.monotonic()
        if before_data is not None:
            # No SMTP dialogue to step into here: the hand-over is recorded before the mailer is called.
            try:
                await before_data()
            except Exception as exc:
                return not_handed_over(exc)
        return await self._mailer.send(message)

    async def close(self) -> None:
        return None


class MessageSender:
    """Turns a claimed ledger row into a message on its channel."""

    def __init__(
        self,
        renderer: TemplateRenderer,
        mailer: Mailer,
        sms: SmsGateway,
        *,
        max_attempts: int,
        documents: DocumentSource | None = None,
        default_region: str = "FR",
    ) -> None:
        self._renderer = renderer
        self._mailer = mailer
        self._sms = sms
        self._max_attempts = max_attempts
        self._documents = documents
        self._default_region = default_region

    def wants_attachment(self, delivery: Delivery) -> bool:
        if delivery.channel != "email" or not delivery.document_ref:
            return False
        if delivery.attach_document is not None:
            return delivery.attach_document
        return delivery.template in ATTACHING_TEMPLATES

    async def attempt(
        self,
        delivery: Delivery,
        lane: MailSession | None = None,
        *,
        before_hand_over: Callable[[], Awaitable[None]] | None = None,
    ) -> Attempt:
        """Render and hand the message to its channel; never raises.

        `before_hand_over` runs once everything is ready and just before the content goes out (for
        SMTP: after the relay accepted the recipient, right before DATA). The dispatcher records it,
        so rendering, fetching the document, connecting, MAIL and RCPT never count as sending.
        """
        ready = before_hand_over or _nothing
        try:
            if delivery.channel == "sms":
                return Attempt(await self._send_sms(delivery, ready))
            return await self._send_email(delivery, lane or SingleShot(self._mailer), ready)
        except TemplateError as exc:
            return Attempt(SendResult(SendOutcome.PERMANENT, f"template: {exc}", stage="template"))
        except _HandOverError as exc:
            # An adapter bug must not kill the worker; the message may have left.
            log.error("delivery %s: unexpected adapter error", delivery.id, exc_info=exc.__cause__)
            return Attempt(SendResult(SendOutcome.UNKNOWN, f"adapter error: {type(exc.__cause__).__name__}"))
        except Exception as exc:
            # Nothing was handed over yet: safe to try again later (up to the attempt limit).
            log.exception("delivery %s: error before sending", delivery.id)
            return Attempt(SendResult(SendOutcome.TRANSIENT, f"internal error: {type(exc).__name__}", stage="prepare"))

    async def _send_sms(self, delivery: Delivery, ready: Callable[[], Awaitable[None]]) -> SendResult:
        try:
            to = normalise_e164(delivery.recipient, self._default_region)
        except InvalidPhoneNumber:
            return SendResult(SendOutcome.PERMANENT, "recipient is not a valid phone number", stage="address")
        rendered = self._renderer.render(delivery.template, delivery.locale, delivery.params)
        await ready()
        return await _hand_over(self._sms.send(to, rendered.sms or rendered.text, str(delivery.id)))

    async def _send_email(self, delivery: Delivery, lane: MailSession, ready: Callable[[], Awaitable[None]]) -> Attempt:
        wanted = self.wants_attachment(delivery)
        attachment, wait = await self._attachment(delivery) if wanted else (None, None)
        if wait is not None:
            return Attempt(wait)
        stamped = False

        async def ready_once() -> None:
            nonlocal stamped
            if not stamped:
                await ready()
                stamped = True

        message = self._email(delivery, attachment)
        result = await _hand_over(lane.send(message, before_data=ready_once))
        if attachment is not None and _refused_for_size(result):
            # The relay will not take a message this big; the link alone still does the job.
            log.info("delivery %s: relay refused the attachment's size, sending the link only", delivery.id)
            ATTACHMENTS.labels("too_large").inc()
            attachment = None
            result = await _hand_over(lane.send(self._email(delivery, None), before_data=ready_once))
        return Attempt(result, document_attached=(attachment is not None) if wanted else None)

    def _email(self, delivery: Delivery, attachment: Attachment | None) -> OutgoingEmail:
        rendered = self._renderer.render(
            delivery.template, delivery.locale, delivery.params, document_attached=attachment is not None
        )
        return OutgoingEmail(
            ledger_id=str(delivery.id),
            to=delivery.recipient,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            attachment=attachment,
            language=rendered.locale,
        )

    async def _attachment(self, delivery: Delivery) -> tuple[Attachment | None, SendResult | None]:
        """The document to attach, or None (link only), or a transient result to try again later."""
        if self._documents is None or delivery.document_ref is None:
            ATTACHMENTS.labels("disabled").inc()
            return None, None
        fetched = await self._documents.fetch(delivery.document_ref)
        if fetched.outcome is FetchOutcome.FETCHED and fetched.attachment is not None:
            ATTACHMENTS.labels("attached").inc()
            return fetched.attachment, None
        ATTACHMENTS.labels(str(fetched.outcome)).inc()
        if fetched.outcome is FetchOutcome.TRANSIENT and delivery.attempts < self._max_attempts:
            return None, SendResult(SendOutcome.TRANSIENT, f"document: {fetched.detail}", stage="attachment")
        log.info("delivery %s: document not attached (%s), sending the link only", delivery.id, fetched.detail)
        return None, None


async def _nothing() -> None:
    return None


class _HandOverError(Exception):
    """The channel adapter raised instead of returning a result (its bug): the message may have left."""


async def _hand_over(call) -> SendResult:  # type: ignore[no-untyped-def]
    try:
        return await call
    except Exception as exc:
        raise _HandOverError from exc


def _refused_for_size(result: SendResult) -> bool:
    return result.outcome is SendOutcome.PERMANENT and result.code == 552 and result.stage in ("size", "mail", "data")
