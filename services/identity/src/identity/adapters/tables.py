"""Identity tables of the walking skeleton: the token-signing keys (users and companies come next)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from servicekit.messaging_tables import utcnow


class SigningKey(SQLModel, table=True):
    """A key identity signs access tokens with; its public half is published in the JWKS."""

    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True)
    private_jwk: dict[str, Any] = Field(sa_column=Column(sa.JSON, nullable=False))
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(sa.DateTime(timezone=True), nullable=False))
