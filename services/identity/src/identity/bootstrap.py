"""Composition root of the identity service."""

from __future__ import annotations

from fastapi import FastAPI

from identity.adapters.keys import ensure_signing_key
from identity.entrypoints.http import router
from identity.settings import Settings
from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime


def build_app(settings: Settings | None = None) -> FastAPI:
    """The identity HTTP app; makes sure a token-signing key exists before serving."""
    settings = settings or Settings()
    runtime = ServiceRuntime(settings)

    async def create_key() -> None:
        async with runtime.sessions() as session, session.begin():
            await ensure_signing_key(session)

    return create_http_app(
        runtime,
        title="Factora identity",
        description="Companies, users, rights, MFA, recovery and the keys that sign access tokens.",
        routers=[router],
        on_startup=[create_key],
    )
