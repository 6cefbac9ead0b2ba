"""Public help on real PostgreSQL: French and English full-text search, tutorials by topic, local numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.integration

TOPICS_OF_THE_ISSUE = {
    "forgotten-password",
    "forgotten-username",
    "mfa-methods",
    "lost-second-factor",
    "collaborators-and-rights",
    "admin-transfer",
    "company-contacts",
    "several-buyers",
    "cross-border-invoicing",
    "vat-compliance",
    "signed-pdf-and-archive",
    "delete-or-credit-invoice",
    "buying-transactions",
}


async def search(stack, q: str, locale: str) -> list[str]:
    answer = await stack.client.get("/kb/articles", params={"q": q, "locale": locale})
    assert answer.status_code == 200, answer.text
    return [a["slug"] for a in answer.json()]


@pytest.mark.parametrize(
    ("query", "locale", "expected"),
    [
        ("mot de passe oublié", "fr", "forgotten-password"),
        ("mot de passe oublie", "fr", "forgotten-password"),
        ("transfer admin rights", "en", "admin-transfer"),
        ("transférer les droits d'administrateur", "fr", "admin-transfer"),
        ("forgot my username", "en", "forgotten-username"),
        ("réinitialiser la double authentification", "fr", "lost-second-factor"),
        ("lost phone authenticator", "en", "lost-second-factor"),
        ("supprimer une facture", "fr", "delete-or-credit-invoice"),
        ("buy transactions", "en", "buying-transactions"),
        ("facture PDF signé archive", "fr", "signed-pdf-and-archive"),
        ("reverse charge export", "en", "cross-border-invoicing"),
    ],
)
async def test_search_returns_the_right_article_first(stack, query, locale, expected):
    found = await search(stack, query, locale)
    assert found and found[0] == expected, found


async def test_search_results_are_ranked_by_relevance(stack):
    answer = (await stack.client.get("/kb/articles", params={"q": "mot de passe oublié", "locale": "fr"})).json()
    ranks = [a["rank"] for a in answer]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > 0


async def test_a_search_with_one_unknown_word_still_finds_articles_with_the_others(stack):
    assert (await search(stack, "transfer admin rights zzyzx", "en"))[0] == "admin-transfer"


async def test_a_search_of_stop_words_only_finds_nothing_rather_than_failing(stack):
    assert await search(stack, "de la et", "fr") == []


async def test_every_topic_of_the_issue_has_an_article_in_french_and_english(stack):
    for locale in ("fr", "en"):
        answer = await stack.client.get("/kb/articles", params={"locale": locale, "limit": 50})
        slugs = {a["slug"] for a in answer.json()}
        assert slugs >= TOPICS_OF_THE_ISSUE, TOPICS_OF_THE_ISSUE - slugs
    article = (await stack.client.get("/kb/articles/admin-transfer", params={"locale": "en"})).json()
    assert article["topic"] == "users" and "admin" in article["title"].lower()


async def test_the_search_uses_a_gin_index_on_the_tsvector_column(stack):
    async with stack.ctx.sessions() as session:
        index = (
            await session.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_kb_article_search'"))
        ).scalar_one()
        configs = (
            (await session.execute(text("SELECT cfgname FROM pg_ts_config WHERE cfgname LIKE 'support_%' ORDER BY 1")))
            .scalars()
            .all()
        )
    assert "USING gin (search_vector)" in index
    assert configs == ["support_english", "support_french"]


async def test_tutorials_are_listed_by_topic_with_steps_and_optional_video(stack):
    grouped = (await stack.client.get("/tutorials", params={"locale": "fr"})).json()
    topics = [g["topic"]["code"] for g in grouped]
    assert topics == sorted(topics, key=topics.index) and {"security", "users", "invoicing"} <= set(topics)
    users = next(g for g in grouped if g["topic"]["code"] == "users")
    assert users["topic"]["label"] == "Utilisateurs et droits"
    transfer = next(t for t in users["tutorials"] if t["slug"] == "transfer-the-admin-role")
    assert len(transfer["steps"]) >= 3 and transfer["video_url"].startswith("https://")
    one = (await stack.client.get("/tutorials/invite-a-collaborator", params={"locale": "en"})).json()
    assert one["video_url"] is None and one["steps"][0].startswith("Open")
    only = (await stack.client.get("/tutorials", params={"locale": "en", "topic": "billing"})).json()
    assert [g["topic"]["code"] for g in only] == ["billing"]


async def test_local_numbers_show_opening_hours_in_the_callers_time_zone(stack):
    stack.clock.fixed = datetime(2026, 1, 12, 13, 0, tzinfo=UTC)  # Monday 14:00 in Paris, 08:00 in New York
    answer = await stack.client.get(
        "/support-numbers", params={"country": "FR", "tz": "America/New_York", "locale": "en"}
    )
    (line,) = answer.json()
    assert line["phone"] == "+33199001234" and line["country_name"] == "France"
    assert line["hours_in_line_time_zone"] == "09:00-18:00, Monday to Friday"
    assert line["open_now"] is True
    first = line["next_openings"][0]
    assert first["opens_at"] == "2026-01-12T03:00:00-05:00" and first["closes_at"] == "2026-01-12T12:00:00-05:00"
    all_lines = (await stack.client.get("/support-numbers", params={"tz": "Asia/Tokyo"})).json()
    assert {ln["country"] for ln in all_lines} >= {"FR", "GB", "US"}
    sydney = next(ln for ln in all_lines if ln["country"] == "AU")
    assert sydney["open_now"] is False  # midnight in Sydney
    bad = await stack.client.get("/support-numbers", params={"tz": "Europe/Atlantis"})
    assert bad.status_code == 422 and "IANA" in bad.json()["detail"]
