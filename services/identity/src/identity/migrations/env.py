"""Alembic environment of the identity database."""

from sqlmodel import SQLModel

import identity.adapters.tables  # noqa: F401  (registers the tables)
from servicekit.migrations import run_env

run_env(SQLModel.metadata)
