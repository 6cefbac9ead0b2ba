"""The test PostgreSQL: one role and database per service, isolation, fresh databases."""

from __future__ import annotations

import asyncpg
import pytest

from devstack.config import SERVICES
from devstack.pg_admin import asyncpg_dsn

pytestmark = pytest.mark.integration


def _other(service: str) -> str:
    return SERVICES[(SERVICES.index(service) + 1) % len(SERVICES)]


@pytest.mark.parametrize("service", SERVICES)
async def test_each_service_role_logs_in_to_its_own_database_only(postgres_server, service):
    own = asyncpg_dsn(postgres_server.database_url(service))
    conn = await asyncpg.connect(own)
    try:
        assert await conn.fetchval("SELECT current_user") == service
        await conn.execute("CREATE TABLE IF NOT EXISTS devstack_probe (id int)")
    finally:
        await conn.close()

    foreign = own.rsplit("/", 1)[0] + "/" + _other(service)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for database"):
        await asyncpg.connect(foreign)


async def test_service_roles_cannot_use_the_maintenance_database(postgres_server):
    if postgres_server.external:
        pytest.skip("the external server's postgres database is not ours to lock")
    dsn = asyncpg_dsn(postgres_server.database_url("identity")).rsplit("/", 1)[0] + "/postgres"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(dsn)


async def test_a_wrong_password_is_refused_over_tcp(postgres_server):
    dsn = asyncpg_dsn(postgres_server.database_url("support")).replace("support:support@", "support:nope@")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(dsn)


async def test_fresh_databases_are_new_empty_and_owned_by_their_own_role(fresh_database):
    first = await fresh_database("Invoicing Repo Tests")
    second = await fresh_database("invoicing-repo-tests")
    assert first != second
    assert first.startswith("postgresql+asyncpg://")
    conn = await asyncpg.connect(asyncpg_dsn(first))
    try:
        tables = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        await conn.execute("CREATE TABLE invoice (id int PRIMARY KEY)")
        name = await conn.fetchval("SELECT current_database()")
    finally:
        await conn.close()
    assert tables == 0
    assert name.startswith("invoicing_repo_tests_")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(asyncpg_dsn(second).rsplit("/", 1)[0] + "/" + name)


def test_fresh_database_works_from_synchronous_code(fresh_database):
    assert fresh_database.sync("sync").startswith("postgresql+asyncpg://")


async def test_the_admin_url_is_a_superuser(postgres_server):
    conn = await asyncpg.connect(postgres_server.admin_url)
    try:
        assert await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert (await conn.fetchval("SHOW max_connections")) == "200"
    finally:
        await conn.close()


async def test_lower_and_upper_understand_accented_letters(postgres_server):
    if postgres_server.external:
        pytest.skip("the external server's locale is its own")
    conn = await asyncpg.connect(asyncpg_dsn(postgres_server.database_url("support")))
    try:
        assert await conn.fetchval("SELECT lower('ÉCOLE ÀÇÏ')") == "école àçï"
    finally:
        await conn.close()
