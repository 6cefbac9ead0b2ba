"""Composition root of the identity service: context, subscriptions, publications and the HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from fastapi import FastAPI

from contracts import catalogue
from contracts.topics import identity as identity_topics
from identity.adapters.keys import TokenSigner
from identity.adapters.passwords import PasswordService
from identity.entrypoints import consumers
from identity.entrypoints.deps import install_error_handlers
from identity.entrypoints.http import ROUTERS
from identity.service import throttle
from identity.service.context import Context
from identity.settings import Settings
from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 600.0


def build_context(settings: Settings, runtime: ServiceRuntime) -> Context:
    """The shared use-case context on the runtime's database."""
    return Context(
        settings=settings,
        sessions=runtime.sessions,
        passwords=PasswordService(settings.argon2),
        signer=TokenSigner(runtime.sessions),
        after_commit=runtime.relay.wake,
    )


async def prune_forever(ctx: Context) -> None:
    """Forget throttling counts older than a day, every few minutes (they only matter inside a window)."""
    while True:
        try:
            async with ctx.tx() as s:
                await throttle.prune(s, timedelta(days=1))
        except Exception as exc:  # keep pruning after a database hiccup
            log.warning("pruning throttling counts failed: %s", exc)
        await asyncio.sleep(PRUNE_EVERY_S)


def build_app(settings: Settings | None = None) -> FastAPI:
    """The identity HTTP app; makes sure a token-signing key exists before serving."""
    settings = settings or Settings()
    runtime = ServiceRuntime(settings)
    ctx = build_context(settings, runtime)
    consumers.subscribe(runtime, ctx)
    runtime.declare_publications(*identity_topics.TOPICS, catalogue.SEND_REQUESTED)
    tasks: list[asyncio.Task[None]] = []

    async def start_pruning() -> None:
        tasks.append(asyncio.create_task(prune_forever(ctx), name="identity-prune"))

    async def stop_pruning() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = create_http_app(
        runtime,
        title="Factora identity",
        description="Companies, users, rights, MFA, recovery and the keys that sign access tokens.",
        routers=ROUTERS,
        on_startup=[ctx.signer.load, start_pruning],
        on_shutdown=[stop_pruning],
    )
    app.state.identity = ctx
    install_error_handlers(app)
    return app
