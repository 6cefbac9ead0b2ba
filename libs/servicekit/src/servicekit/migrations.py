"""Alembic per service: run migrations programmatically and share the async env.py logic."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

VERSION_TABLE = "alembic_version"


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    """An Alembic config pointing at a service's migrations folder and database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade_to_head(migrations_dir: Path, database_url: str) -> None:
    """Bring the database to the newest revision (call outside a running event loop)."""
    command.upgrade(alembic_config(migrations_dir, database_url), "head")


def run_env(target_metadata: MetaData) -> None:
    """Body of each service's migrations/env.py: online, async, one transaction."""
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic config has no sqlalchemy.url; run migrations through upgrade_to_head()")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run_async())
