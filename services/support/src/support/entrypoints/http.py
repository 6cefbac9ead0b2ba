"""Support HTTP API of the walking skeleton: knowledge-base search."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import or_
from sqlmodel import select

from support.adapters.tables import KnowledgeArticle

router = APIRouter(prefix="/kb", tags=["knowledge base"])


class ArticleOut(BaseModel):
    """A knowledge-base article."""

    slug: str
    locale: str
    title: str
    body: str


@router.get("/articles", summary="Knowledge-base articles in a language, optionally matching words.")
async def list_articles(
    request: Request,
    locale: Literal["fr", "en"] = "fr",
    q: str | None = Query(default=None, max_length=200, description="Words to look for in title or body."),
) -> list[ArticleOut]:
    query = select(KnowledgeArticle).where(KnowledgeArticle.locale == locale)
    if q:
        pattern = f"%{q}%"
        query = query.where(or_(KnowledgeArticle.title.ilike(pattern), KnowledgeArticle.body.ilike(pattern)))  # type: ignore[union-attr]
    async with request.app.state.runtime.sessions() as session:
        rows = (await session.exec(query.order_by(KnowledgeArticle.slug))).all()
    return [ArticleOut.model_validate(r, from_attributes=True) for r in rows]
