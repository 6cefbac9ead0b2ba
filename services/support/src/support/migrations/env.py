"""Alembic environment of the support database."""

from sqlmodel import SQLModel

import support.adapters.tables  # noqa: F401  (registers the tables)
from servicekit.migrations import run_env

run_env(SQLModel.metadata)
