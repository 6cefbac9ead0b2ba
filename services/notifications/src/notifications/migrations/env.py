"""Alembic environment of the notifications database."""

from servicekit.migrations import run_env
from sqlmodel import SQLModel

import notifications.adapters.tables  # noqa: F401  (registers the tables)

run_env(SQLModel.metadata)
