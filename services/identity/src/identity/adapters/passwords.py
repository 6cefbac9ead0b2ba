"""argon2id hashing off the event loop, bounded in concurrency, with a decoy for unknown accounts."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from identity.domain.passwords import normalise
from identity.settings import Argon2Settings


class PasswordService:
    """Hashes and verifies passwords in worker threads (argon2 releases the GIL)."""

    def __init__(self, settings: Argon2Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.time_cost,
            memory_cost=settings.memory_kib,
            parallelism=settings.parallelism,
            type=Type.ID,
        )
        self._slots = asyncio.Semaphore(settings.max_concurrent)
        # Verified instead of a real hash when the account does not exist, so both answers cost the same.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(24))

    async def hash(self, password: str) -> str:
        """The argon2id hash (PHC string, salt and parameters included) of a password."""
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, normalise(password))

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches; with no stored hash, spends the same time and says False."""
        target = stored_hash or self._decoy
        async with self._slots:
            ok = await asyncio.to_thread(self._check, target, normalise(password))
        return ok and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters than today's."""
        return self._hasher.check_needs_rehash(stored_hash)

    def verify_sync(self, stored_hash: str, password: str) -> bool:
        """Blocking verification (the benchmark's raw rate)."""
        return self._check(stored_hash, normalise(password))

    def hash_sync(self, password: str) -> str:
        """Blocking hash (operator commands and benchmark set-up)."""
        return self._hasher.hash(normalise(password))

    def _check(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
