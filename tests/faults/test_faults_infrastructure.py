"""Broker restart, database stop, mail relay gone or cutting off mid-message: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from aiosmtpd.controller import Controller

from factora_testing.flow import PartnerFlow, assert_exactly_once, wait_until
from factora_testing.records import plain_dsn
from notifications.service.dispatcher import Throughput

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(7200)]


async def test_a_kafka_broker_restart_mid_stream_loses_and_duplicates_nothing(faults):
    async def restart_broker(run):
        await run.progressed(0.3)
        began = time.monotonic()
        await run.stack.stop_kafka()
        await asyncio.sleep(5.0)
        await run.stack.start_kafka()
        run.notes["broker_down_s"] = round(time.monotonic() - began, 1)
        run.monitor.mark_restored("broker back")
        ready = await wait_until(run.stack.all_ready, 300)
        run.notes["services_ready_after_s"] = round(time.monotonic() - began, 1) if ready else None

    result = await faults.run("kafka-restart", restart_broker)
    faults.record("2. Kafka broker restart", result.figures)
    assert_exactly_once(result.figures)


async def test_postgres_down_for_30_s_loses_nothing_and_dead_letters_nothing(faults):
    async def stop_database(run):
        await run.progressed(0.3)
        began = time.monotonic()
        await run.stack.stop_postgres()
        await asyncio.sleep(30.0)
        await run.stack.start_postgres()
        run.notes["database_down_s"] = round(time.monotonic() - began, 1)
        run.monitor.mark_restored("database back")

    result = await faults.run("postgres-down", stop_database)
    faults.record("3. PostgreSQL down 30 s", result.figures)
    assert_exactly_once(result.figures)
    # A database outage is nobody's message's fault: no record may end in a dead-letter topic.
    assert result.dead_letters == [], [h.get("dlq_reason") for h, _ in result.dead_letters[:5]]


async def test_the_mail_relay_down_for_a_minute_then_back_delivers_every_e_mail_once(faults):
    async def relay_outage(run):
        await run.progressed(0.2)
        began = time.monotonic()
        run.stack.smtp.stop()
        await asyncio.sleep(60.0)
        run.stack.smtp.start()
        run.notes["relay_down_s"] = round(time.monotonic() - began, 1)
        run.monitor.mark_restored("relay back")

    result = await faults.run("smtp-down", relay_outage)
    faults.record("5a. SMTP catcher down 60 s", result.figures)
    figures = result.figures
    # The relay goes down abruptly: a message it was receiving at that instant may be left in doubt.
    assert_exactly_once(figures, cut_mid_send=Throughput().email_lanes)
    assert figures["emails"] + figures["in_doubt"] == figures["sent"] and figures["failed"] == 0, figures


class DropAfterData:
    """A relay that takes each message's whole content, then cuts the connection before answering."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.extend(address.lower() for address in envelope.rcpt_tos)
        server.transport.abort()
        return "250 never heard"


async def test_a_relay_cutting_off_after_data_leaves_the_e_mail_unknown_and_never_sends_it_again(faults):
    stack = faults.stack
    count = min(faults.count, 40)
    relay = DropAfterData()
    dropping = Controller(relay, hostname=stack.smtp.host, port=stack.smtp.port)

    async def cut_off_after_data(run):
        stack.smtp.stop()
        dropping.start()
        try:
            notifications = run.stack.network.database_url("notifications")

            async def all_final() -> bool:
                conn = await asyncpg.connect(plain_dsn(notifications))
                try:
                    final = await conn.fetchval(
                        "SELECT count(*) FROM delivery WHERE tenant = $1 AND status IN ('sent', 'unknown', 'failed')",
                        run.flow.buyer_id,
                    )
                finally:
                    await conn.close()
                return final >= count

            run.notes["all_final"] = await wait_until(all_final, 900, poll_s=2.0)
        finally:
            dropping.stop()
            stack.smtp.start()
        run.monitor.mark_restored("catcher back")
        # Time for a wrongful re-send to show up in the catcher, were there one.
        await asyncio.sleep(10.0)

    result = await faults.run("smtp-drop", cut_off_after_data, count=count)
    flow: PartnerFlow = result.flow
    figures = result.figures | {"relay_received": len(relay.received)}
    faults.record("5b. SMTP drop after DATA", figures)
    assert figures["dup_ledger"] == 0, figures
    # Each message reached the relay once, is recorded 'unknown', and was not sent again anywhere:
    # the relay may have it, so the one case where an e-mail is knowingly left in doubt.
    assert figures["unknown"] == figures["in_doubt"] == count, figures
    assert figures["emails"] == 0, figures
    wanted = {flow.buyer_email(e) for e in flow.sent}
    assert sorted(a for a in relay.received if a in wanted) == sorted(wanted), figures
