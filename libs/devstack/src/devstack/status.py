"""`factora-stack status`: probes each part of the stack the way a client would."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from devstack.config import LOCALHOST, SERVICES, database_url, dev_ports, state_dir
from devstack.kafka import broker_answers
from devstack.pg_admin import asyncpg_dsn
from devstack.services import READY_PATH, http_ready
from devstack.state import StateFile


@dataclass
class Check:
    """One probed part: its name, address, whether it answered and a detail."""

    part: str
    address: str
    ok: bool
    detail: str = ""
    expected: bool = True


async def _kafka() -> Check:
    from contracts.catalogue import all_topic_names

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or f"{LOCALHOST}:{dev_ports().kafka.port}"
    topics = await broker_answers(bootstrap)
    if topics is None:
        return Check("kafka", bootstrap, False, "no answer")
    wanted = all_topic_names()
    have = sum(1 for t in wanted if t in topics)
    return Check("kafka", bootstrap, have == len(wanted), f"{have}/{len(wanted)} catalogue topics")


async def _database(service: str) -> Check:
    import asyncpg

    url = os.environ.get(f"{service.upper()}_DATABASE_URL") or database_url(
        service, service, dev_ports().postgres.port, service
    )
    shown = url.split("@", 1)[-1]
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return Check(f"db {service}", shown, False, type(exc).__name__)
    await conn.close()
    return Check(f"db {service}", shown, True, "login ok")


async def _smtp() -> Check:
    if host := os.environ.get("SMTP_HOST"):
        port = int(os.environ.get("SMTP_PORT") or 25)
    else:
        host, port = LOCALHOST, dev_ports().smtp.port
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 3)
        banner = await asyncio.wait_for(reader.readline(), 3)
        writer.close()
    except (OSError, TimeoutError):
        return Check("smtp", f"{host}:{port}", False, "no answer")
    return Check("smtp", f"{host}:{port}", banner.startswith(b"220"), banner.decode(errors="replace").strip())


async def _service(name: str, expected: bool) -> Check:
    port = dev_ports().service(name)
    url = f"http://{LOCALHOST}:{port}"
    ok = await http_ready(url + READY_PATH, timeout=2)
    return Check(name, url, ok, "ready" if ok else "not ready", expected)


async def _prometheus(url: str | None) -> Check:
    # Optional: only a stack that started one (Prometheus installed) expects it.
    if not url:
        return Check("prometheus", "-", False, "not started by this stack", expected=False)
    ok = await http_ready(f"{url}/-/ready", timeout=2)
    return Check("prometheus", url, ok, "ready" if ok else "not ready")


async def _gateway(url: str | None) -> Check:
    # Only a stack that started one (nginx installed) expects it.
    if not url:
        return Check("gateway", "-", False, "not started by this stack", expected=False)
    ok = await http_ready(f"{url}/healthz", timeout=2)
    return Check("gateway", url, ok, "answers /healthz" if ok else "no answer on /healthz")


async def collect() -> tuple[dict, list[Check]]:
    """The recorded state and a check of every part (infrastructure, then HTTP parts), each round concurrent."""
    state = StateFile(state_dir())
    data = state.read()
    owner = state.owner_alive()
    services_expected = data.get("mode") != "infra"
    # Two rounds: each HTTP probe builds an httpx client (TLS context and all) synchronously, which on a
    # loaded machine stalls the loop long enough to time the TCP-level probes out if they ran alongside.
    infra = await asyncio.gather(_kafka(), *(_database(s) for s in SERVICES), _smtp())
    http = await asyncio.gather(
        *(_service(s, services_expected) for s in SERVICES),
        _gateway(data.get("gateway") if owner else None),
        _prometheus(data.get("prometheus") if owner else None),
    )
    checks = [*infra, *http]
    return {"owner": owner, **data}, list(checks)


def report(data: dict, checks: list[Check]) -> tuple[str, bool]:
    """Printable table and whether every expected part is healthy."""
    owner = data.get("owner")
    head = (
        f"stack ({data.get('mode')}) supervised by pid {owner}, state {state_dir()}"
        if owner
        else f"no running stack recorded in {state_dir()}; probing default addresses"
    )
    lines = [head]
    for c in checks:
        mark = "ok  " if c.ok else ("DOWN" if c.expected else "off ")
        lines.append(f"  {mark}  {c.part:<16} {c.address:<34} {c.detail}")
    healthy = all(c.ok or not c.expected for c in checks)
    return "\n".join(lines), healthy
