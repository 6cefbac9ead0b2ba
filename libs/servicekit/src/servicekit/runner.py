"""Process entry for a service: logging, tracing, wait for the database, migrate, serve."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from servicekit.db import make_engine, wait_for_database
from servicekit.logging import setup_logging
from servicekit.migrations import upgrade_to_head
from servicekit.settings import ServiceSettings
from servicekit.telemetry import setup_tracing


async def _wait_for(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        await wait_for_database(engine)
    finally:
        await engine.dispose()


def prestart(settings: ServiceSettings, migrations_dir: Path) -> None:
    """Wait for the database, then apply the service's migrations."""
    url = settings.database_url.get_secret_value()
    asyncio.run(_wait_for(url))
    upgrade_to_head(migrations_dir, url)


def run_service(settings: ServiceSettings, build_app: Callable[[], FastAPI], migrations_dir: Path) -> None:
    """Run one service in the foreground until SIGINT/SIGTERM, shutting down gracefully."""
    setup_logging(settings.service_name)
    setup_tracing(settings.service_name)
    prestart(settings, migrations_dir)
    uvicorn.run(
        build_app(),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=30,
    )
