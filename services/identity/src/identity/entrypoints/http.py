"""Identity HTTP API of the walking skeleton: the JWKS every service verifies tokens with."""

from __future__ import annotations

from fastapi import APIRouter, Request

from identity.adapters.keys import public_key_set

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json", summary="Public keys that verify Factora access tokens.")
async def jwks(request: Request) -> dict:
    async with request.app.state.runtime.sessions() as session:
        return await public_key_set(session)
