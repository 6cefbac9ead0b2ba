"""Public help: categories with expected answer times, knowledge base, tutorials, phone lines, holidays."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from support.adapters import repository
from support.domain.errors import NotFound
from support.domain.phone_hours import LineSchedule, in_zone, is_open, openings, zone
from support.entrypoints import schemas, views
from support.entrypoints.deps import Context, ReadSession
from support.service import expectations

router = APIRouter(tags=["help"])

Locale = Annotated[Literal["fr", "en"], Query(description="Language of the texts.")]
TimeZone = Annotated[
    str | None, Query(max_length=64, description="The caller's IANA time zone, e.g. Europe/Paris (default UTC).")
]
WEEKDAY_NAMES = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


@router.get("/categories", summary="Case categories, their targets, and when to expect an answer if you write now.")
async def list_categories(
    ctx: Context, session: ReadSession, locale: Locale = "fr", tz: TimeZone = None
) -> list[schemas.CategoryOut]:
    calendar = await ctx.calendar(session)
    now = ctx.now()
    caller_zone = zone(tz) if tz else None
    return [
        schemas.CategoryOut(
            code=c.code,
            label=c.label_fr if locale == "fr" else c.label_en,
            first_response_business_hours=c.first_response_minutes / 60,
            resolution_business_hours=c.resolution_minutes / 60,
            expectation=views.expectation(
                expectations.for_new_case(
                    timedelta(minutes=c.first_response_minutes), calendar, now, locale, caller_zone
                )
            ),
        )
        for c in await repository.categories(session)
    ]


@router.get("/sla/holidays", summary="Days the desk is closed (besides weekends), from the holiday data.")
async def holidays(
    ctx: Context, session: ReadSession, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> list[schemas.HolidayOut]:
    rows = await repository.holidays(session, ctx.settings.holiday_calendars, year)
    return [schemas.HolidayOut(day=h.day.isoformat(), calendar=h.calendar, name=h.name) for h in rows]


def _article(a) -> schemas.ArticleOut:  # type: ignore[no-untyped-def]
    return schemas.ArticleOut(
        slug=a.slug, locale=a.locale, topic=a.topic, title=a.title, summary=a.summary, body=a.body
    )


@router.get(
    "/kb/articles",
    summary="Knowledge-base articles in a language; with q, a full-text search ranked by relevance.",
    description="The search uses PostgreSQL full-text search with French or English stemming (accents "
    "ignored): articles with all the words first, or else those with any of them, best first (ts_rank).",
)
async def list_articles(
    session: ReadSession,
    locale: Locale = "fr",
    q: Annotated[str | None, Query(max_length=200, description="Words to look for.")] = None,
    topic: Annotated[str | None, Query(max_length=40, description="Only this topic.")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[schemas.SearchHit]:
    if q and q.strip():
        found = await repository.search_articles(session, locale, q.strip(), limit)
        return [
            schemas.SearchHit(**_article(a).model_dump(), rank=rank)
            for a, rank in found
            if not topic or a.topic == topic
        ]
    rows = await repository.articles(session, locale, topic)
    return [schemas.SearchHit(**_article(a).model_dump(), rank=0.0) for a in rows[:limit]]


@router.get("/kb/articles/{slug}", summary="One article in one language.")
async def get_article(slug: str, session: ReadSession, locale: Locale = "fr") -> schemas.ArticleOut:
    found = await repository.article(session, slug, locale)
    if found is None:
        raise NotFound("no-such-article", f"no article '{slug}' in '{locale}'")
    return _article(found)


@router.get("/kb/topics", summary="Topics of articles and tutorials.")
async def list_topics(session: ReadSession, locale: Locale = "fr") -> list[schemas.TopicOut]:
    return [
        schemas.TopicOut(code=t.code, label=t.label_fr if locale == "fr" else t.label_en)
        for t in await repository.topics(session)
    ]


def _tutorial(t) -> schemas.TutorialOut:  # type: ignore[no-untyped-def]
    return schemas.TutorialOut(
        slug=t.slug,
        locale=t.locale,
        topic=t.topic,
        title=t.title,
        summary=t.summary,
        steps=list(t.steps),
        video_url=t.video_url,
    )


@router.get("/tutorials", summary="Tutorials grouped by topic (title, summary, steps, optional video).")
async def list_tutorials(
    session: ReadSession,
    locale: Locale = "fr",
    topic: Annotated[str | None, Query(max_length=40)] = None,
) -> list[schemas.TutorialTopic]:
    rows = await repository.tutorials(session, locale, topic)
    grouped = []
    for t in await repository.topics(session):
        mine = [_tutorial(r) for r in rows if r.topic == t.code]
        if mine:
            label = t.label_fr if locale == "fr" else t.label_en
            grouped.append(schemas.TutorialTopic(topic=schemas.TopicOut(code=t.code, label=label), tutorials=mine))
    return grouped


@router.get("/tutorials/{slug}", summary="One tutorial in one language.")
async def get_tutorial(slug: str, session: ReadSession, locale: Locale = "fr") -> schemas.TutorialOut:
    found = await repository.tutorial(session, slug, locale)
    if found is None:
        raise NotFound("no-such-tutorial", f"no tutorial '{slug}' in '{locale}'")
    return _tutorial(found)


def _days_text(weekdays: list[int], locale: str) -> str:
    names = WEEKDAY_NAMES[locale]
    days = sorted(weekdays)
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{names[days[0]]} - {names[days[-1]]}" if locale == "fr" else f"{names[days[0]]} to {names[days[-1]]}"
    return ", ".join(names[d] for d in days)


@router.get(
    "/support-numbers",
    summary="Local support numbers with their opening hours in the caller's time zone.",
    description="Each line's hours are defined in its own zone and converted date by date (summer time on "
    "either side comes out right); public holidays of the line's country are skipped.",
)
async def support_numbers(
    ctx: Context,
    session: ReadSession,
    locale: Locale = "fr",
    tz: TimeZone = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2, description="ISO 3166 country code.")] = None,
    days: Annotated[int, Query(ge=1, le=14, description="Calendar days of openings to list, today included.")] = 7,
) -> list[schemas.SupportLineOut]:
    caller = tz or "UTC"
    zone(caller)  # 422 for an unknown zone before any work
    now = ctx.now()
    lines = await repository.support_lines(session, country)
    result = []
    for line in lines:
        closed_on: frozenset[date] = frozenset()
        if line.holiday_calendar:
            closed_on = frozenset(h.day for h in await repository.holidays(session, [line.holiday_calendar]))
        schedule = LineSchedule(line.timezone, line.opens, line.closes, frozenset(line.weekdays), closed_on)
        periods = in_zone(openings(schedule, now, days), caller)
        result.append(
            schemas.SupportLineOut(
                country=line.country,
                country_name=line.country_name_fr if locale == "fr" else line.country_name_en,
                phone=line.phone,
                languages=list(line.languages),
                line_time_zone=line.timezone,
                hours_in_line_time_zone=f"{line.opens:%H:%M}-{line.closes:%H:%M}, {_days_text(line.weekdays, locale)}",
                caller_time_zone=caller,
                open_now=is_open(schedule, now),
                next_openings=[schemas.OpeningOut(opens_at=a, closes_at=b) for a, b in periods],
            )
        )
    return result
