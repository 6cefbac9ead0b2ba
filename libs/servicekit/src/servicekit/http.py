"""HTTP app factory: health, metrics, error shape and lifecycle shared by every service."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.auth import JwksVerifier
from servicekit.consumer import is_infrastructure_error
from servicekit.metrics import HTTP_DURATION, HTTP_REQUESTS, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE
from servicekit.runtime import ServiceRuntime

Hook = Callable[[], Awaitable[None]]


def create_http_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    jwks_url: str | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
) -> FastAPI:
    """A FastAPI app whose lifespan runs the service runtime (consumers, relay)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Hooks start what handlers rely on (e.g. a sealing pool) before any message arrives.
        for hook in on_startup:
            await hook()
        await runtime.start()
        try:
            yield
        finally:
            # Consumers finish in-flight work first, then the hooks' workers stop, and only
            # then the relay makes its last flush, so nothing they wrote is left behind.
            await runtime.stop_consuming()
            for hook in on_shutdown:
                await hook()
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = runtime
    if jwks_url:
        app.state.jwks_verifier = JwksVerifier(jwks_url)

    @app.middleware("http")
    async def record_metrics(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        HTTP_DURATION.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    @app.get("/health/live", tags=["health"], summary="The process is up.")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/health/ready", tags=["health"], summary="Database and Kafka answer.")
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics.", include_in_schema=False)
    async def metrics() -> Response:
        try:
            backlog, age = await runtime.relay.backlog()
            OUTBOX_BACKLOG.set(backlog)
            OUTBOX_OLDEST_AGE.set(age)
        except Exception:  # noqa: S110 - metrics must still be served when the DB is down
            pass
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        if not is_infrastructure_error(exc):
            raise exc  # a bug or a constraint the route did not handle: a 500, logged
        return JSONResponse(
            {"detail": "The database is unavailable for a moment; try again shortly.", "code": "database_unavailable"},
            status_code=503,
            headers={"Retry-After": "2"},
        )

    app.add_exception_handler(DBAPIError, database_unavailable)
    app.add_exception_handler(ConnectionError, database_unavailable)
    for router in routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health/.*,metrics", exclude_spans=["receive", "send"])
    return app


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: a session of the service's own database for one request."""
    async with request.app.state.runtime.sessions() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session)]
