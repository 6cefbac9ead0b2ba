"""Benchmark of sign-in: complete logins per second (password + TOTP) next to the raw argon2id verify rate.

Run: uv run python services/identity/bench/bench_login.py [--users 120] [--concurrency 8]

- raw argon2: PasswordService.verify_sync with the production parameters (argon2id, 3 passes,
  64 MiB, 1 lane), back to back on one thread, then on as many threads as the machine has cores;
- logins: the identity HTTP app in-process (httpx ASGITransport, no network), on a fresh
  PostgreSQL database, production settings (argon2 cost, at most 2 hashes at once, the 0.35 s
  answer floor, throttling): each user does POST /login (e-mail + password, from a device that
  signed in before) then POST /login/mfa/verify with a TOTP code, and gets its tokens. A TOTP
  code works once, so every user signs in once.

Kafka is not needed: the app is not started (no relay); the outbox rows it writes stay in the database.
PostgreSQL: FACTORA_BENCH_DATABASE_ADMIN_URL (a superuser postgresql:// URL) if set, otherwise an
embedded one is started in a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyotp

import identity
from devstack.config import LOCALHOST, PortSpec
from devstack.pg_admin import create_fresh_database
from devstack.postgres import PostgresCluster
from identity.adapters.passwords import PasswordService
from identity.adapters.tables import Company, KnownDevice, MfaFactor, User
from identity.bootstrap import build_app
from identity.domain import secrets, totp
from identity.settings import Argon2Settings, Settings
from servicekit.migrations import upgrade_to_head
from servicekit.settings import KafkaSettings

MIGRATIONS = Path(identity.__file__).parent / "migrations"
PASSWORD = "lampe de chevet bleue au grenier"  # noqa: S105  (the benchmark users' password)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def postgres(workdir: Path) -> AsyncIterator[str]:
    """Admin URL of the bench's PostgreSQL (external or embedded)."""
    external = os.environ.get("FACTORA_BENCH_DATABASE_ADMIN_URL", "").strip()
    if external:
        yield external
        return
    cluster = PostgresCluster(
        root_dir=workdir / "pg",
        port=PortSpec("bench PostgreSQL", free_port(), "FACTORA_BENCH_DATABASE_ADMIN_URL"),
        log_path=workdir / "postgres.log",
        durable=False,
    )
    await cluster.start()
    try:
        yield cluster.admin_url
    finally:
        await cluster.stop(timeout=10)


def raw_verify_rate(hasher: PasswordService, threads: int, seconds: float = 3.0) -> float:
    """argon2id verifications per second, back to back on `threads` threads."""
    stored = hasher.hash_sync(PASSWORD)
    deadline = time.perf_counter() + seconds

    def loop() -> int:
        done = 0
        while time.perf_counter() < deadline:
            assert hasher.verify_sync(stored, PASSWORD)
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        total = sum(pool.map(lambda _: loop(), range(threads)))
    return total / (time.perf_counter() - started)


async def seed_users(app, count: int, password_hash: str) -> list[tuple[str, str, str]]:
    """`count` active users with a confirmed TOTP factor and a known device: (email, secret, device token)."""
    ctx = app.state.identity
    users = []
    async with ctx.tx() as s:
        company = Company(
            legal_name="Bench SARL",
            country="FR",
            vat_id="FR40303265045",
            address_line1="1 rue du Banc",
            postcode="75001",
            city="Paris",
        )
        s.add(company)
        await s.flush()
        for i in range(count):
            email = f"bench-{i}-{uuid.uuid4().hex[:6]}@example.com"
            user = User(
                company_id=company.id,
                email=email,
                email_normalized=email,
                full_name=f"Bench {i}",
                password_hash=password_hash,
                status="active",
                is_admin=i == 0,
            )
            s.add(user)
            await s.flush()
            secret, device = totp.new_secret(), secrets.new_token()
            s.add(MfaFactor(user_id=user.id, kind="totp", secret=secret, confirmed_at=user.created_at))
            s.add(KnownDevice(user_id=user.id, token_hash=secrets.token_hash(device)))
            users.append((email, secret, device))
    return users


async def full_login(client: httpx.AsyncClient, email: str, secret: str, device: str) -> float:
    started = time.perf_counter()
    first = await client.post("/login", json={"email": email, "password": PASSWORD, "device_token": device})
    assert first.status_code == 200 and first.json()["status"] == "mfa_required", first.text
    code = pyotp.TOTP(secret).now()
    second = await client.post("/login/mfa/verify", json={"mfa_token": first.json()["mfa_token"], "code": code})
    assert second.status_code == 200 and second.json()["acr"] == "aal2", second.text
    return time.perf_counter() - started


async def login_rate(admin_url: str, users: int, concurrency: int) -> tuple[float, list[float], Settings]:
    url = (await create_fresh_database(admin_url, "bench_identity"))[1]
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    settings = Settings(database_url=url, kafka=KafkaSettings(bootstrap_servers="127.0.0.1:1"), db_pool_size=10)
    app = build_app(settings)
    ctx = app.state.identity
    await ctx.signer.load()
    seeded = await seed_users(app, users + concurrency, await ctx.passwords.hash(PASSWORD))
    warm, measured = seeded[:concurrency], seeded[concurrency:]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://identity.bench") as client:
        await asyncio.gather(*(full_login(client, *u) for u in warm))
        queue: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
        for user in measured:
            queue.put_nowait(user)
        latencies: list[float] = []

        async def worker() -> None:
            while not queue.empty():
                latencies.append(await full_login(client, *queue.get_nowait()))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    await app.state.runtime.engine.dispose()
    return len(measured) / elapsed, latencies, settings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=120, help="sign-ins measured (one per user)")
    parser.add_argument("--concurrency", type=int, default=8, help="sign-ins in flight at once")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cores = os.cpu_count() or 1
    argon2 = Argon2Settings()
    hasher = PasswordService(argon2)

    load_before = os.getloadavg()[0]
    one = raw_verify_rate(hasher, 1)
    many = raw_verify_rate(hasher, cores)
    workdir = Path(tempfile.mkdtemp(prefix="bench-login-"))
    try:
        async with postgres(workdir) as admin_url:
            rate, latencies, settings = await login_rate(admin_url, args.users, args.concurrency)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(
        f"identity sign-in benchmark ({cores} cores, "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after: other work skews the figures)"
    )
    print(
        f"  argon2id parameters      : {argon2.time_cost} passes, {argon2.memory_kib // 1024} MiB, "
        f"{argon2.parallelism} lane, at most {argon2.max_concurrent} at once in the service"
    )
    print(f"  raw argon2id verify      : {one:6.1f}/s on 1 thread, {many:6.1f}/s on {cores} threads")
    print(
        f"  logins with MFA (TOTP)   : {rate:6.1f}/s  ({len(latencies)} sign-ins, {args.concurrency} in flight, "
        f"password + code, HTTP in-process, PostgreSQL)"
    )
    print(
        f"  sign-in latency          : p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
        f"(answer floor {settings.login_min_duration_s * 1000:.0f} ms on the password step)"
    )
    print(f"  logins / raw verify rate : {rate / many:.0%} of the {cores}-thread argon2 rate")


if __name__ == "__main__":
    asyncio.run(main())
