"""Alembic environment of the invoicing database."""

from sqlmodel import SQLModel

import invoicing.adapters.tables  # noqa: F401  (registers the tables)
from servicekit.migrations import run_env

run_env(SQLModel.metadata)
