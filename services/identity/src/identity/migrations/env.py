"""Alembic environment of the identity database."""

import identity.adapters.tables  # noqa: F401  (registers the tables)
from servicekit.migrations import run_env
from sqlmodel import SQLModel

run_env(SQLModel.metadata)
