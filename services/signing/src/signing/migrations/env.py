"""Alembic environment of the signing database."""

from sqlmodel import SQLModel

import signing.adapters.tables  # noqa: F401  (registers the tables)
from servicekit.migrations import run_env

run_env(SQLModel.metadata)
