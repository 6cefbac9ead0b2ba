"""Support tables of the walking skeleton: knowledge-base articles (cases come next)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel


class KnowledgeArticle(SQLModel, table=True):
    """A help article in one language; `slug` is shared by its translations."""

    __tablename__ = "kb_article"
    __table_args__ = (sa.UniqueConstraint("slug", "locale"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str
    locale: str
    title: str
    body: str = Field(sa_column=Column(sa.Text, nullable=False))
