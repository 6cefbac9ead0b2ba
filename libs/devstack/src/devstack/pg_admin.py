"""Roles and databases: one per service, plus throwaway ones for isolated tests."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from devstack.config import database_url
from devstack.errors import StackError


def asyncpg_dsn(url: str) -> str:
    """An asyncpg DSN from a SQLAlchemy URL (drops the '+asyncpg' driver suffix)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def host_port(url: str) -> tuple[str, int]:
    """Host and port a PostgreSQL URL points at."""
    parts = urlsplit(asyncpg_dsn(url))
    return parts.hostname or "127.0.0.1", parts.port or 5432


async def _ensure_role(conn, role: str, password: str) -> None:
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    # DDL takes no bind parameters: format() with %I/%L quotes names and literals safely.
    sql = await conn.fetchval(
        f"SELECT format('{verb} ROLE %I WITH LOGIN PASSWORD %L', $1::text, $2::text)", role, password
    )
    await conn.execute(sql)


async def _ensure_database(conn, name: str, owner: str) -> None:
    if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
        await conn.execute(
            await conn.fetchval("SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)", name, owner)
        )
    # Only the owner (and superusers) may connect: no service reads another one's tables.
    await conn.execute(
        await conn.fetchval("SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', $1::text)", name)
    )


async def provision_services(
    admin_url: str, services: Iterable[str], *, lock_maintenance_db: bool = False
) -> dict[str, str]:
    """Ensure role <svc> (password <svc>) owning database <svc> for each service; their URLs."""
    import asyncpg

    host, port = host_port(admin_url)
    try:
        conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise StackError(f"cannot log in to PostgreSQL as admin ({host}:{port}): {exc}") from None
    try:
        urls: dict[str, str] = {}
        for service in services:
            await _ensure_role(conn, service, service)
            await _ensure_database(conn, service, service)
            urls[service] = database_url(service, service, port, service, host)
        if lock_maintenance_db:
            # Our own cluster: service roles have no business in the 'postgres' database either.
            await conn.execute("REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC")
        return urls
    except asyncpg.PostgresError as exc:
        raise StackError(f"provisioning service databases failed: {exc}") from None
    finally:
        await conn.close()


def _safe_name(prefix: str) -> str:
    base = re.sub(r"[^a-z0-9_]+", "_", prefix.lower()).strip("_") or "test"
    # 63 bytes is PostgreSQL's identifier limit; the random tail keeps names unique.
    return f"{base[:48]}_{secrets.token_hex(4)}"


async def create_fresh_database(admin_url: str, name_prefix: str = "test") -> tuple[str, str]:
    """A brand-new empty database owned by a brand-new role; (database name, SQLAlchemy URL).

    Falls back to a database owned by the admin user when the admin may not create roles.
    """
    import asyncpg

    name = _safe_name(name_prefix)
    host, port = host_port(admin_url)
    conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        try:
            await _ensure_role(conn, name, name)
            owner, password = name, name
        except asyncpg.InsufficientPrivilegeError:
            parts = urlsplit(asyncpg_dsn(admin_url))
            owner, password = parts.username or "postgres", parts.password or ""
        await _ensure_database(conn, name, owner)
    finally:
        await conn.close()
    return name, database_url(owner, password, port, name, host)


async def drop_databases(admin_url: str, names: Iterable[str]) -> None:
    """Drop test databases and their roles (used with external servers only)."""
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        for name in names:
            await conn.execute(
                await conn.fetchval("SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', $1::text)", name)
            )
            await conn.execute(await conn.fetchval("SELECT format('DROP ROLE IF EXISTS %I', $1::text)", name))
    finally:
        await conn.close()
