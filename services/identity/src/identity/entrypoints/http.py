"""Identity HTTP API: the routers, the JWKS every service verifies tokens with, the rights vocabulary."""

from __future__ import annotations

from fastapi import APIRouter, Request

from identity.adapters.keys import public_key_set
from identity.domain.rights import COMPANY_RIGHTS, GRANTABLE, STAFF_RIGHTS
from identity.entrypoints import http_account, http_auth, http_company
from identity.entrypoints.schemas import RightOut

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json", summary="Public keys that verify Factora access tokens.")
async def jwks(request: Request) -> dict:
    async with request.app.state.runtime.sessions() as session:
        return await public_key_set(session)


@router.get("/rights", tags=["users"], summary="The rights a user can hold, and what each allows.")
async def rights() -> list[RightOut]:
    return [
        RightOut(right=name, description=text, grantable=name in GRANTABLE)
        for name, text in {**COMPANY_RIGHTS, **STAFF_RIGHTS}.items()
    ]


ROUTERS = (router, http_auth.router, http_account.router, http_company.router)
