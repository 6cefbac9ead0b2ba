"""Signing HTTP API: archived documents for their seller and buyer only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.auth import CurrentPrincipal
from signing.adapters import archive

router = APIRouter(prefix="/archive", tags=["archive"])


async def session(request: Request):  # type: ignore[no-untyped-def]
    async with request.app.state.runtime.sessions() as s:
        yield s


Session = Annotated[AsyncSession, Depends(session)]
NOT_FOUND = "no such document for your company"


@router.get(
    "/documents/{archive_id}",
    summary="The sealed PDF/A-3 (Factur-X) of an invoice; only its seller and buyer may read it.",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def get_document(archive_id: uuid.UUID, principal: CurrentPrincipal, db: Session) -> Response:
    entry = await archive.document_for_party(db, archive_id, principal.company_id)
    if entry is None:
        raise HTTPException(404, NOT_FOUND)
    return Response(
        entry.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{entry.invoice_number}.pdf"',
            "Digest": f"sha-256={entry.sha256}",
        },
    )


@router.get(
    "/documents/{archive_id}/xml",
    summary="The structured invoice (CII XML) embedded in the sealed PDF.",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
)
async def get_document_xml(archive_id: uuid.UUID, principal: CurrentPrincipal, db: Session) -> Response:
    entry = await archive.document_for_party(db, archive_id, principal.company_id)
    if entry is None:
        raise HTTPException(404, NOT_FOUND)
    return Response(entry.xml, media_type="application/xml")
