"""Composition root of the support service."""

from __future__ import annotations

from fastapi import FastAPI

from servicekit.http import create_http_app
from servicekit.runtime import ServiceRuntime
from support.entrypoints.http import router
from support.settings import Settings


def build_app(settings: Settings | None = None) -> FastAPI:
    """The support HTTP app."""
    settings = settings or Settings()
    return create_http_app(
        ServiceRuntime(settings),
        title="Factora support",
        description="Cases with business-hours SLAs, the knowledge base and the MFA-reset workflow.",
        routers=[router],
    )
