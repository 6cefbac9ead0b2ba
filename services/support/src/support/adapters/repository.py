"""Queries of the support database: every case query is scoped to who may see the case."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from support.adapters.tables import (
    CaseAttachment,
    CaseAttachmentContent,
    CaseCategory,
    CaseIdentityCheck,
    CaseMessage,
    CaseToken,
    KbTopic,
    KnowledgeArticle,
    SlaHoliday,
    SupportCase,
    SupportLine,
    Tutorial,
)
from support.domain.workflow import format_reference

SEARCH_CONFIG = {"fr": "support_french", "en": "support_english"}


async def next_reference(session: AsyncSession, year: int) -> str:
    """A fresh SUP-<year>-<number> from the database sequence (unique, not gap-free)."""
    number = (await session.execute(text("SELECT nextval('support_case_number_seq')"))).scalar_one()
    return format_reference(year, int(number))


async def category(session: AsyncSession, code: str) -> CaseCategory | None:
    return await session.get(CaseCategory, code)


async def categories(session: AsyncSession) -> Sequence[CaseCategory]:
    return (await session.exec(select(CaseCategory).order_by(col(CaseCategory.position)))).all()


async def case_by_reference(session: AsyncSession, reference: str, *, for_update: bool = False) -> SupportCase | None:
    query = select(SupportCase).where(SupportCase.reference == reference.strip().upper())
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def cases_of_requester(
    session: AsyncSession, company_id: str, user_id: str | None, *, limit: int, offset: int
) -> Sequence[SupportCase]:
    """A member's cases; `user_id` None means every case of the company (administrators)."""
    query = select(SupportCase).where(SupportCase.company_id == company_id)
    if user_id is not None:
        query = query.where(SupportCase.requester_user_id == user_id)
    query = query.order_by(col(SupportCase.created_at).desc()).limit(limit).offset(offset)
    return (await session.exec(query)).all()


async def desk_cases(
    session: AsyncSession,
    *,
    states: Sequence[str],
    categories: Sequence[str] | None,
    assignee: str | None,
    unassigned: bool,
) -> Sequence[SupportCase]:
    """Cases that reached the desk, in the given states (SLA filtering happens on top, in Python)."""
    query = select(SupportCase).where(col(SupportCase.sla_started_at).is_not(None), col(SupportCase.state).in_(states))
    if categories:
        query = query.where(col(SupportCase.category).in_(categories))
    if unassigned:
        query = query.where(col(SupportCase.assignee_id).is_(None))
    elif assignee:
        query = query.where(SupportCase.assignee_id == assignee)
    return (await session.exec(query.order_by(col(SupportCase.sla_started_at)))).all()


async def messages(session: AsyncSession, case_id: uuid.UUID, *, include_internal: bool) -> Sequence[CaseMessage]:
    query = select(CaseMessage).where(CaseMessage.case_id == case_id)
    if not include_internal:
        query = query.where(col(CaseMessage.internal).is_(False))
    return (await session.exec(query.order_by(col(CaseMessage.created_at), col(CaseMessage.id)))).all()


async def attachments(session: AsyncSession, case_id: uuid.UUID, *, include_internal: bool) -> Sequence[CaseAttachment]:
    query = select(CaseAttachment).where(CaseAttachment.case_id == case_id)
    if not include_internal:
        query = query.where(col(CaseAttachment.internal).is_(False))
    return (await session.exec(query.order_by(col(CaseAttachment.created_at)))).all()


async def attachment_usage(session: AsyncSession, case_id: uuid.UUID) -> tuple[int, int]:
    """How many attachments the case holds and their total size in bytes."""
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(CaseAttachment.size_bytes), 0)).where(
                CaseAttachment.case_id == case_id
            )
        )
    ).one()
    return int(count), int(total)


async def attachment_with_content(
    session: AsyncSession, case_id: uuid.UUID, attachment_id: uuid.UUID
) -> tuple[CaseAttachment, bytes] | None:
    row = (
        await session.execute(
            select(CaseAttachment, CaseAttachmentContent.content)
            .join(CaseAttachmentContent, CaseAttachmentContent.attachment_id == CaseAttachment.id)  # type: ignore[arg-type]
            .where(CaseAttachment.case_id == case_id, CaseAttachment.id == attachment_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def identity_checks(session: AsyncSession, case_id: uuid.UUID) -> Sequence[CaseIdentityCheck]:
    query = select(CaseIdentityCheck).where(CaseIdentityCheck.case_id == case_id)
    return (await session.exec(query.order_by(col(CaseIdentityCheck.recorded_at)))).all()


async def token(session: AsyncSession, token_hash: str, *, for_update: bool = False) -> CaseToken | None:
    query = select(CaseToken).where(CaseToken.token_hash == token_hash)
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def unconfirmed_cases_since(session: AsyncSession, email: str, since: datetime) -> int:
    """Cases opened without signing in for `email` since `since` that are still awaiting confirmation."""
    query = select(func.count()).where(
        SupportCase.requester_email == email,
        SupportCase.channel == "email",
        col(SupportCase.email_verified_at).is_(None),
        col(SupportCase.created_at) >= since,
    )
    return int((await session.execute(query)).scalar_one())


async def search_articles(
    session: AsyncSession, locale: str, words: str, limit: int
) -> list[tuple[KnowledgeArticle, float]]:
    """Articles matching `words`, best first (ts_rank); all words if possible, otherwise any of them."""
    config = SEARCH_CONFIG[locale]
    for any_word in (False, True):
        query_sql = "websearch_to_tsquery(CAST(:config AS regconfig), :words)"
        if any_word:
            query_sql = f"replace({query_sql}::text, '&', '|')::tsquery"
        rows = (
            await session.execute(
                text(
                    f"SELECT a.id, ts_rank(a.search_vector, q.query) AS rank "  # noqa: S608 - fixed SQL, values bound
                    f"FROM kb_article a, (SELECT {query_sql} AS query) q "
                    "WHERE a.locale = :locale AND q.query::text <> '' AND a.search_vector @@ q.query "
                    "ORDER BY rank DESC, a.slug LIMIT :limit"
                ),
                {"config": config, "words": words, "locale": locale, "limit": limit},
            )
        ).all()
        if rows:
            by_id = {
                a.id: a
                for a in (
                    await session.exec(
                        select(KnowledgeArticle).where(col(KnowledgeArticle.id).in_([r.id for r in rows]))
                    )
                ).all()
            }
            return [(by_id[r.id], float(r.rank)) for r in rows]
    return []


async def articles(session: AsyncSession, locale: str, topic: str | None) -> Sequence[KnowledgeArticle]:
    query = select(KnowledgeArticle).where(KnowledgeArticle.locale == locale)
    if topic:
        query = query.where(KnowledgeArticle.topic == topic)
    return (await session.exec(query.order_by(col(KnowledgeArticle.topic), col(KnowledgeArticle.slug)))).all()


async def article(session: AsyncSession, slug: str, locale: str) -> KnowledgeArticle | None:
    query = select(KnowledgeArticle).where(KnowledgeArticle.slug == slug, KnowledgeArticle.locale == locale)
    return (await session.exec(query)).first()


async def topics(session: AsyncSession) -> Sequence[KbTopic]:
    return (await session.exec(select(KbTopic).order_by(col(KbTopic.position)))).all()


async def tutorials(session: AsyncSession, locale: str, topic: str | None) -> Sequence[Tutorial]:
    query = select(Tutorial).where(Tutorial.locale == locale)
    if topic:
        query = query.where(Tutorial.topic == topic)
    return (await session.exec(query.order_by(col(Tutorial.topic), col(Tutorial.position)))).all()


async def tutorial(session: AsyncSession, slug: str, locale: str) -> Tutorial | None:
    return (await session.exec(select(Tutorial).where(Tutorial.slug == slug, Tutorial.locale == locale))).first()


async def support_lines(session: AsyncSession, country: str | None) -> Sequence[SupportLine]:
    query = select(SupportLine)
    if country:
        query = query.where(SupportLine.country == country.upper())
    return (await session.exec(query.order_by(col(SupportLine.country)))).all()


async def holidays(session: AsyncSession, calendars: Sequence[str], year: int | None = None) -> Sequence[SlaHoliday]:
    query = select(SlaHoliday).where(col(SlaHoliday.calendar).in_(list(calendars)))
    if year is not None:
        query = query.where(func.extract("year", col(SlaHoliday.day)) == year)
    return (await session.exec(query.order_by(col(SlaHoliday.day), col(SlaHoliday.calendar)))).all()
