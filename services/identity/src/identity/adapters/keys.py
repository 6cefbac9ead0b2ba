"""Access-token keys: created on first start, published as a JWKS, used to sign tokens."""

from __future__ import annotations

import time
import uuid

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from identity.adapters.tables import SigningKey
from servicekit.auth import ISSUER


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


def issue_access_token(key: SigningKey, *, user_id: str, company_id: str, rights: list[str], ttl_s: int) -> str:
    """A signed, short-lived access token for one user of one company."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": user_id,
        "company_id": company_id,
        "rights": rights,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, ECKey.import_key(key.private_jwk))
