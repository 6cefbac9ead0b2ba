"""The audit log is append-only and the administrator's to read; the migrations build exactly the tables."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import DBAPIError

from identity.adapters.tables import METADATA

pytestmark = pytest.mark.integration


async def test_the_audit_log_refuses_updates_and_deletes_even_from_the_service_role(driver):
    admin = await driver.new_company()
    for statement in (
        "UPDATE audit_log SET event = 'nothing happened' WHERE user_id = CAST(:u AS uuid)",
        "DELETE FROM audit_log WHERE user_id = CAST(:u AS uuid)",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            await driver.sql(statement, u=admin.user_id)
    with pytest.raises(DBAPIError, match="append-only"):
        await driver.sql("TRUNCATE audit_log")


async def test_the_administrator_reads_the_company_audit_log_with_successes_and_failures(driver):
    admin = await driver.new_company()
    await driver.post("/login", {"email": admin.email, "password": "wrong password entirely"}, ip="10.99.0.7")
    log = await driver.client.get("/company/audit-log?limit=50", headers=admin.headers)
    assert log.status_code == 200
    events = [e["event"] for e in log.json()]
    for expected in (
        "company.registered",
        "login.password_verified",
        "mfa.enrolled",
        "login.succeeded",
        "login.failed",
    ):
        assert expected in events, expected
    failure = next(e for e in log.json() if e["event"] == "login.failed")
    assert failure["ip"] == "10.99.0.7"
    text = log.text
    assert admin.password not in text and admin.tokens["refresh_token"] not in text and admin.secret not in text

    page = await driver.client.get(f"/company/audit-log?limit=2&before_id={log.json()[1]['id']}", headers=admin.headers)
    assert [e["id"] for e in page.json()] == [e["id"] for e in log.json()[2:4]]


async def test_the_migrations_create_exactly_the_tables_the_code_uses(driver):
    assert {"company", "user_account", "audit_log", "partner_key"} <= set(METADATA.tables)

    def diff(connection):
        include = {"include_name": lambda name, type_, _parents: type_ != "table" or name in METADATA.tables}
        return compare_metadata(MigrationContext.configure(connection, opts=include), METADATA)

    async with driver.ctx.sessions.kw["bind"].connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []
