"""Alembic environment of the identity database."""

from identity.adapters.tables import METADATA
from servicekit.migrations import run_env

run_env(METADATA)
