"""Readiness and database outages of a service built by create_http_app, its lifespan run for real."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from servicekit.http import DbSession, create_http_app

pytestmark = pytest.mark.integration


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (runtime start and stop) around an in-process HTTP client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+asyncpg://nobody:nothing@127.0.0.1:{port}/nothing"


async def test_ready_answers_200_when_the_database_and_kafka_answer(messaging_db, make_runtime):
    runtime = make_runtime(messaging_db.url)
    assert await runtime.readiness() == {"database": True, "kafka": False}  # not started yet
    app = create_http_app(runtime, title="sktest", description="servicekit test service")
    async with serving(app) as client:
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
        metrics = await client.get("/metrics")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": True, "kafka": True}}
    assert live.json() == {"status": "live"}
    assert metrics.status_code == 200
    assert "factora_outbox_backlog 0.0" in metrics.text
    assert await runtime.readiness() == {"database": True, "kafka": False}  # stopped again


async def test_ready_answers_503_naming_the_database_when_it_does_not_answer(make_runtime):
    runtime = make_runtime(closed_port_url())
    app = create_http_app(runtime, title="sktest", description="servicekit test service")
    async with serving(app) as client:
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
        metrics = await client.get("/metrics")
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "checks": {"database": False, "kafka": True}}
    assert live.status_code == 200  # the process is up: restarting it would not help
    assert metrics.status_code == 200  # metrics are served even without the database


orders = APIRouter()


@orders.get("/orders/count")
async def count_orders(session: DbSession) -> dict[str, int]:
    return {"orders": (await session.execute(text("SELECT 1"))).scalar_one()}


@orders.post("/orders")
async def place_order() -> None:
    raise IntegrityError("INSERT INTO orders ...", {}, Exception("duplicate key"))


async def test_a_request_during_a_database_outage_answers_503_with_retry_after_and_a_bug_stays_a_500(make_runtime):
    runtime = make_runtime(closed_port_url())
    app = create_http_app(runtime, title="sktest", description="servicekit test service", routers=[orders])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            outage = await client.get("/orders/count")
            bug = await client.post("/orders")
    assert outage.status_code == 503
    assert outage.headers["retry-after"] == "2"
    assert outage.json()["code"] == "database_unavailable"
    assert bug.status_code == 500
