"""Throttling state in PostgreSQL: sliding-window counts per account, per (account, source), per source.

Accounts are keyed by the SHA-256 of the address typed, known or not, so a throttled answer
is the same for an existing and a non-existing account.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import LoginChallenge, ThrottleEvent
from identity.domain.errors import TooManyAttempts
from identity.domain.secrets import token_hash
from identity.domain.throttle import FailureCount, wait_s, window_wait_s
from identity.domain.validation import normalise_email
from identity.service.context import now
from identity.settings import ThrottleSettings

T = ThrottleEvent
FAILED, PASSWORD_OK, SUCCEEDED, SENT = "failed", "password_ok", "succeeded", "sent"


def too_many(wait: float, what: str) -> TooManyAttempts:
    """The 429 answer, the same whoever the account is."""
    seconds = max(1, int(wait + 0.999))
    return TooManyAttempts(f"Too many {what}. Wait {seconds} seconds, then try again.", retry_after_s=seconds)


def account_key(email: str) -> str:
    """The throttling key of a typed address (hashed: typos and probes are not stored in clear)."""
    return token_hash(normalise_email(email))


def add_event(session: AsyncSession, kind: str, source: str, outcome: str, key: str | None = None) -> ThrottleEvent:
    """Count one attempt in the caller's transaction."""
    event = ThrottleEvent(kind=kind, account_key=key, source=source, outcome=outcome)
    session.add(event)
    return event


async def _failures(
    session: AsyncSession, kind: str, key: str, since: datetime, source: str | None = None
) -> FailureCount:
    """Failures in the window after the last success of the same scope."""
    scope = [T.kind == kind, T.account_key == key]
    if source is not None:
        scope.append(T.source == source)
    last_success = (
        select(func.max(T.at)).where(*scope, T.outcome == SUCCEEDED).scalar_subquery()  # type: ignore[arg-type]
    )
    count, latest = (
        await session.exec(
            select(func.count(), func.max(T.at)).where(
                *scope,
                T.outcome == FAILED,  # type: ignore[arg-type]
                T.at > since,  # type: ignore[arg-type,operator]
                T.at > func.coalesce(last_success, since),  # type: ignore[arg-type,operator]
            )
        )
    ).one()
    return FailureCount(int(count), latest)


async def _nth_latest(
    session: AsyncSession, kind: str, source: str, n: int, since: datetime, outcome: str | None = None
) -> datetime | None:
    """Time of the n-th most recent event from `source` in the window (None when fewer than n)."""
    query = select(T.at).where(T.kind == kind, T.source == source, T.at > since)  # type: ignore[arg-type,operator]
    if outcome is not None:
        query = query.where(T.outcome == outcome)  # type: ignore[arg-type]
    rows = (await session.exec(query.order_by(T.at.desc()).offset(n - 1).limit(1))).first()  # type: ignore[attr-defined]
    return rows[0] if rows else None


async def login_wait_s(
    session: AsyncSession, cfg: ThrottleSettings, key: str, source: str, *, device_known: bool
) -> float:
    """Seconds before this sign-in attempt may be checked; 0 when it may go ahead.

    Three limits, all sliding: failures of this account from this source back off exponentially;
    failures of this account from everywhere also slow new devices (a browser that signed in
    before is exempt, so the real user keeps access); and one source may fail only so often
    across all accounts (credential stuffing). Every wait is capped, so nobody is locked out
    for good by someone else's guesses.
    """
    moment = now()
    since = moment - timedelta(seconds=cfg.window_s)
    backoff = {"base_s": cfg.base_delay_s, "cap_s": cfg.max_delay_s}
    pair = await _failures(session, "login", key, since, source)
    waits = [wait_s(pair, moment, free=cfg.pair_free_failures, **backoff)]
    if not device_known:
        account = await _failures(session, "login", key, since)
        waits.append(wait_s(account, moment, free=cfg.account_free_failures, **backoff))
    oldest = await _nth_latest(session, "login", source, cfg.source_max_failures, since, FAILED)
    waits.append(min(cfg.max_delay_s, window_wait_s(oldest, moment, cfg.window_s)))
    return max(waits)


async def source_wait_s(session: AsyncSession, cfg: ThrottleSettings, kind: str, source: str, limit: int) -> float:
    """Seconds before `source` may make another `kind` request (recovery, signup)."""
    moment = now()
    oldest = await _nth_latest(session, kind, source, limit, moment - timedelta(seconds=cfg.window_s))
    return window_wait_s(oldest, moment, cfg.window_s)


async def sent_recently(session: AsyncSession, cfg: ThrottleSettings, kind: str, key: str) -> int:
    """Messages of `kind` already sent to this address in the window."""
    since = now() - timedelta(seconds=cfg.window_s)
    count = (
        await session.exec(
            select(func.count()).where(
                T.kind == kind,  # type: ignore[arg-type]
                T.account_key == key,  # type: ignore[arg-type]
                T.outcome == SENT,  # type: ignore[arg-type]
                T.at > since,  # type: ignore[arg-type,operator]
            )
        )
    ).scalar_one()
    return int(count)


async def prune(session: AsyncSession, older_than: timedelta) -> int:
    """Forget attempts, and sign-ins abandoned before their second factor, older than any window."""
    cutoff = now() - older_than
    attempts = await session.exec(delete(T).where(T.at < cutoff))  # type: ignore[arg-type,operator]
    await session.exec(delete(LoginChallenge).where(LoginChallenge.expires_at < cutoff))  # type: ignore[arg-type,operator]
    return attempts.rowcount or 0  # type: ignore[attr-defined]
