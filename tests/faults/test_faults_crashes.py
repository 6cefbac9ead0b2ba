"""Crashes, graceful stops and rebalances of the services while partner invoices flow: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from factora_testing.flow import assert_exactly_once
from notifications.service.dispatcher import Throughput

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(7200)]

# identity and support are not on the invoice path, but a crash of theirs must not disturb it either.
ALL_SERVICES = ("invoicing", "signing", "notifications", "identity", "support")
ON_THE_PATH = ("invoicing", "signing", "notifications")


async def test_kill_9_of_each_service_in_turn_loses_and_duplicates_nothing(faults):
    rounds = int(os.environ.get("FACTORA_FAULT_KILL_ROUNDS", "2"))
    plan = [name for _ in range(rounds) for name in ALL_SERVICES]

    async def kill_in_turn(run):
        in_flight = 0
        for n, name in enumerate(plan):
            await run.progressed(0.02 + 0.6 * n / len(plan))
            in_flight += run.in_flight()
            await run.stack.network.kill_service(name)
            await asyncio.sleep(1.0)
            await run.stack.network.start_service(name)
            run.monitor.mark_restored(f"kill -9 {name}")
        run.notes["kills"] = len(plan)
        run.notes["in_flight_at_kills"] = in_flight

    result = await faults.run("kill9", kill_in_turn)
    faults.record("1. kill -9 each service, in turn", result.figures)
    # A kill -9 of notifications may cut one SMTP transaction per e-mail lane.
    assert_exactly_once(result.figures, cut_mid_send=plan.count("notifications") * Throughput().email_lanes)
    # The kills landed mid-work (the redeliveries they caused, when caught by a scrape, are in the figures).
    assert result.figures["in_flight_at_kills"] > 0, result.figures


async def test_sigterm_under_load_finishes_in_flight_work_and_loses_nothing(faults):
    async def stop_gracefully(run):
        codes: dict[str, int | None] = {}
        stop_s: dict[str, float] = {}
        for n, name in enumerate(ON_THE_PATH):
            await run.progressed(0.1 + 0.25 * n)
            began = time.monotonic()
            codes[name] = await run.stack.network.stop_service(name, timeout=30.0)
            stop_s[name] = round(time.monotonic() - began, 1)
            await run.stack.network.start_service(name)
            run.monitor.mark_restored(f"SIGTERM {name}")
        run.notes["exit_codes"] = codes
        run.notes["stop_s"] = stop_s

    result = await faults.run("sigterm", stop_gracefully)
    faults.record("8. SIGTERM under load", result.figures)
    assert_exactly_once(result.figures)
    # A graceful stop: uvicorn finishes its shutdown, then re-raises SIGTERM (exit status -15) or
    # exits 0; never the SIGKILL that follows the 30 s grace period (-9).
    graceful = (0, -signal.SIGTERM)
    assert all(code in graceful for code in result.figures["exit_codes"].values()), result.figures


async def test_a_consumer_added_and_removed_mid_stream_rebalances_without_loss_or_duplicates(faults):
    async def add_then_remove(run):
        await run.progressed(0.15)
        extras = [await run.stack.network.start_extra_instance(name) for name in ON_THE_PATH]
        run.monitor.mark_restored("extra consumers joined")
        await run.progressed(0.55)
        codes = [await run.stack.network.stop_extra_instance(extra, timeout=30.0) for extra in extras]
        run.monitor.mark_restored("extra consumers left")
        run.notes["extra_instances"] = len(extras)
        run.notes["extra_exit_codes"] = codes

    result = await faults.run("rebalance", add_then_remove)
    faults.record("7. consumer added and removed (rebalance)", result.figures)
    assert_exactly_once(result.figures)
