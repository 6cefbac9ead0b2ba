"""Alembic environment of the invoicing database."""

import invoicing.adapters.tables  # noqa: F401  (registers the tables)
from servicekit.migrations import run_env
from sqlmodel import SQLModel

run_env(SQLModel.metadata)
