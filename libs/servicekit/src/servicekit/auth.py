"""Access-token verification against identity's JWKS, done locally by every service."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, HTTPException, Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ALGORITHMS = ["ES256", "EdDSA"]
ISSUER = "factora-identity"


class Right:
    """Rights carried in access tokens; every service checks them server-side."""

    ADMIN = "admin"  # company administrator (exactly the users who may transfer the role)
    MANAGE_USERS = "manage_users"
    CREATE_INVOICES = "invoices:create"  # create and send invoices and credit notes
    VIEW_INVOICES = "invoices:view"
    MANAGE_BILLING = "billing"  # buy and view transaction credits
    MANAGE_CONTACTS = "contacts"
    MANAGE_PARTNERS = "partners"  # partner systems and trading connections
    SUPPORT_AGENT = "support:agent"  # Factora staff: works the support queue
    OPERATOR = "platform:operator"  # Factora staff: operates the network


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, their company, their rights and how strongly they logged in."""

    user_id: str
    company_id: str
    rights: frozenset[str]
    assurance: str = "aal1"  # "aal2" after a second factor (acr claim)
    authenticated_at: int | None = None  # auth_time claim, for "recent strong login" checks

    def has(self, right: str) -> bool:
        return right in self.rights


class JwksVerifier:
    """Verifies ES256/EdDSA access tokens; keys are cached and refetched on an unknown kid."""

    def __init__(self, jwks_url: str, *, refresh_after_s: float = 300.0) -> None:
        self._url = jwks_url
        self._refresh_after_s = refresh_after_s
        self._keys: KeySet | None = None
        self._fetched_at = 0.0

    async def _key_set(self, force: bool = False) -> KeySet:
        stale = time.monotonic() - self._fetched_at > self._refresh_after_s
        if self._keys is None or force or stale:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self._url)
                response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
            self._fetched_at = time.monotonic()
        return self._keys

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token; ValueError with the reason otherwise."""
        keys = await self._key_set()
        try:
            try:
                decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
            except JoseError:
                # A rotated signing key: refetch once before refusing.
                decoded = jwt.decode(token, await self._key_set(force=True), algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": ISSUER},
                sub={"essential": True},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise ValueError(f"invalid access token: {exc}") from exc
        claims = decoded.claims
        if not claims.get("company_id"):
            raise ValueError("invalid access token: no company_id claim")
        return Principal(
            user_id=str(claims["sub"]),
            company_id=str(claims["company_id"]),
            rights=frozenset(claims.get("rights", [])),
            assurance=str(claims.get("acr", "aal1")),
            authenticated_at=claims.get("auth_time"),
        )


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller, or 401 with a clear reason."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "send an access token: Authorization: Bearer <token>")
    verifier: JwksVerifier = request.app.state.jwks_verifier
    try:
        return await verifier.verify(token)
    except ValueError as exc:
        raise HTTPException(401, str(exc)) from exc
    except httpx.HTTPError as exc:
        raise HTTPException(503, "identity keys unavailable, try again shortly") from exc


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_right(right: str):  # type: ignore[no-untyped-def]
    """FastAPI dependency factory: the caller, if the token carries `right`; 403 otherwise."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has(right):
            raise HTTPException(403, f"this action needs the '{right}' right")
        return principal

    return dependency
