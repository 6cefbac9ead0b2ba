"""The outbox relay crashes between publishing a batch and marking it sent: the batch goes out twice, its effects once.

No hook in the services: a statement trigger on the outbox holds the relay's mark-sent UPDATE (the
batch is already acknowledged by the broker at that point), the test kills the service with
SIGKILL while it waits, and the restarted relay publishes the same rows again.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest

from factora_testing.flow import assert_exactly_once, wait_until
from notifications.service.dispatcher import Throughput

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(7200)]

RELAYING = ("invoicing", "signing", "notifications")

INSTALL = """
CREATE TABLE IF NOT EXISTS fault_switch (armed boolean NOT NULL);
INSERT INTO fault_switch SELECT false WHERE NOT EXISTS (SELECT 1 FROM fault_switch);
CREATE OR REPLACE FUNCTION fault_hold_mark_sent() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF (SELECT armed FROM fault_switch LIMIT 1) THEN
    PERFORM pg_sleep(600);
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS fault_hold_mark_sent ON outbox;
CREATE TRIGGER fault_hold_mark_sent BEFORE UPDATE ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION fault_hold_mark_sent();
"""
REMOVE = """
DROP TRIGGER IF EXISTS fault_hold_mark_sent ON outbox;
DROP FUNCTION IF EXISTS fault_hold_mark_sent();
DROP TABLE IF EXISTS fault_switch;
"""
HELD = "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep' AND query ILIKE 'UPDATE outbox%'"


def admin_dsn(admin_url: str, database: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


async def test_a_relay_crash_between_publish_and_mark_sent_duplicates_no_effect(faults):
    stack = faults.stack
    admin = stack.postgres.admin_url
    rounds = 1

    async def crash_relays(run):
        crashes = 0
        try:
            for database in RELAYING:
                conn = await asyncpg.connect(admin_dsn(admin, database))
                try:
                    await conn.execute(INSTALL)
                finally:
                    await conn.close()
            for n in range(rounds):
                for i, name in enumerate(RELAYING):
                    await run.progressed(0.05 + 0.8 * (n * len(RELAYING) + i) / (rounds * len(RELAYING)))
                    if await crash_one(stack, admin, name):
                        crashes += 1
                    run.monitor.mark_restored(f"relay of {name} back")
        finally:
            for database in RELAYING:
                with contextlib.suppress(Exception):
                    conn = await asyncpg.connect(admin_dsn(admin, database))
                    try:
                        await conn.execute(REMOVE)
                    finally:
                        await conn.close()
        run.notes["relay_crashes"] = crashes

    result = await faults.run("relay-crash", crash_relays)
    faults.record("4. relay crash between publish and mark-sent", result.figures)
    figures = result.figures
    # Killing notifications while its relay is held may also cut one SMTP transaction per e-mail lane.
    assert_exactly_once(figures, cut_mid_send=rounds * Throughput().email_lanes)
    # Each relay is crashed when it next marks a batch sent. In a short flow (CI's 100 invoices) a
    # later service may have nothing left to publish by its turn; the full run lands all three.
    assert 1 <= figures["relay_crashes"] <= rounds * len(RELAYING), figures
    if faults.count >= 1000:
        assert figures["relay_crashes"] == rounds * len(RELAYING), figures
    # The held batches were published, never marked, and published again after the restart.
    assert figures["redelivery_detail"]["outbox_resends"] > 0, figures


async def crash_one(stack, admin: str, name: str) -> bool:
    """Arm the trigger, wait for the relay to hang in mark-sent, SIGKILL the service, disarm, restart."""
    conn = await asyncpg.connect(admin_dsn(admin, name))
    try:
        await conn.execute("UPDATE fault_switch SET armed = true")
        held = await wait_until(lambda: _held(conn, name), 120, poll_s=0.1)
        if held:
            await stack.network.kill_service(name)
        await conn.execute("UPDATE fault_switch SET armed = false")
        # The killed client's backend would sleep on, holding its row locks: end it.
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'",
            name,
        )
    finally:
        await conn.close()
    if held:
        await asyncio.sleep(0.5)
        await stack.network.start_service(name)
    return held


async def _held(conn: asyncpg.Connection, name: str) -> bool:
    return bool(await conn.fetch(HELD, name))
