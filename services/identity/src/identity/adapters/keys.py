"""Access-token keys: created on first start, published as a JWKS, used to sign and check tokens."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import SigningKey
from servicekit.auth import ALGORITHMS, ISSUER
from servicekit.db import SessionFactory

RELOAD_AFTER_S = 30.0


async def ensure_signing_key(session: AsyncSession) -> SigningKey:
    """The active key, generating a P-256 key the first time (ES256)."""
    key = (await session.exec(select(SigningKey).where(SigningKey.active))).first()
    if key is not None:
        return key
    kid = str(uuid.uuid4())
    private = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"}, private=True)
    key = SigningKey(kid=kid, private_jwk=private.as_dict(private=True))
    session.add(key)
    return key


async def public_key_set(session: AsyncSession) -> dict:
    """JWKS of every key still valid for verification (public halves only)."""
    keys = (await session.exec(select(SigningKey))).all()
    return KeySet([ECKey.import_key(k.private_jwk) for k in keys]).as_dict(private=False)


def issue_access_token(
    key: SigningKey,
    *,
    user_id: str,
    company_id: str,
    rights: Sequence[str],
    ttl_s: int,
    acr: str = "aal1",
    auth_time: int | None = None,
    session_id: str | None = None,
    amr: Sequence[str] = (),
) -> str:
    """A signed, short-lived access token for one user of one company."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": user_id,
        "company_id": company_id,
        "rights": list(rights),
        "acr": acr,
        "auth_time": auth_time if auth_time is not None else now,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    if session_id:
        claims["sid"] = session_id
    if amr:
        claims["amr"] = list(amr)
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, ECKey.import_key(key.private_jwk))


class TokenSigner:
    """The signing key and the verification key set, loaded once and reloaded on an unknown kid."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._active: SigningKey | None = None
        self._keys: KeySet | None = None
        self._loaded_at = 0.0

    async def load(self) -> None:
        """Create the first key if needed, then cache the active key and every public key."""
        async with self._sessions() as session, session.begin():
            self._active = await ensure_signing_key(session)
        async with self._sessions() as session:
            keys = (await session.exec(select(SigningKey))).all()
        self._keys = KeySet([ECKey.import_key(k.private_jwk) for k in keys])
        self._loaded_at = time.monotonic()

    @property
    def active(self) -> SigningKey:
        if self._active is None:
            raise RuntimeError("TokenSigner used before load()")
        return self._active

    def issue(self, **claims: Any) -> str:
        """An access token signed with the active key (see issue_access_token)."""
        return issue_access_token(self.active, **claims)

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid, unexpired token issued by us; ValueError with the reason otherwise."""
        if self._keys is None:
            await self.load()
        assert self._keys is not None
        try:
            try:
                decoded = jwt.decode(token, self._keys, algorithms=ALGORITHMS)
            except JoseError:
                # Maybe a key another replica just created; reloading is rate-limited so that
                # a stream of forged tokens cannot turn into a stream of database reads.
                if time.monotonic() - self._loaded_at < RELOAD_AFTER_S:
                    raise
                await self.load()
                decoded = jwt.decode(token, self._keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": ISSUER},
                sub={"essential": True},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise ValueError(f"invalid access token: {exc}") from exc
        return decoded.claims
