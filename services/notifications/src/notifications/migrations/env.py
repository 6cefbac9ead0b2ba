"""Alembic environment of the notifications database."""

from sqlmodel import SQLModel

import notifications.adapters.tables  # noqa: F401  (registers the tables)
from servicekit.migrations import run_env

run_env(SQLModel.metadata)
