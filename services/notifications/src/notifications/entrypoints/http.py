"""Notifications HTTP API for operators: the state of the delivery ledger."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func
from sqlmodel import select

from notifications.adapters.tables import Delivery

router = APIRouter(prefix="/deliveries", tags=["deliveries"])


@router.get("/summary", summary="How many deliveries are in each state, per channel.")
async def summary(request: Request) -> dict[str, dict[str, int]]:
    async with request.app.state.runtime.sessions() as session:
        rows = (
            await session.exec(
                select(Delivery.channel, Delivery.status, func.count()).group_by(Delivery.channel, Delivery.status)
            )
        ).all()
    result: dict[str, dict[str, int]] = {}
    for channel, status, count in rows:
        result.setdefault(channel, {})[status] = count
    return result
