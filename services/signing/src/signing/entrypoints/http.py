"""Signing HTTP API: archived documents and their export bundles for their seller and buyer only; seal verification.

Every route needs a valid access token; the company comes from the token. Rights are
not checked yet (parties-only scoping is): the archive and verification routes are
candidates for Right.VIEW_INVOICES or Right.ADMIN once tokens carry rights everywhere.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.auth import CurrentPrincipal
from servicekit.http import DbSession
from signing.adapters import archive
from signing.adapters.sandbox import SandboxBusy, SandboxRefusal, VerificationSandbox
from signing.documents.inspect import looks_like_pdf, not_a_pdf
from signing.entrypoints.uploads import read_pdf_upload, refuse
from signing.service import verification
from signing.service.verification import VerificationReport, safe_name

router = APIRouter(prefix="/archive", tags=["archive"])
verify_router = APIRouter(tags=["verification"])


def sandbox(request: Request) -> VerificationSandbox:
    return request.app.state.sandbox


Session = DbSession
Sandbox = Annotated[VerificationSandbox, Depends(sandbox)]
NOT_FOUND = "no such document for your company"
ERROR_RESPONSES = {
    401: {"description": "No valid access token."},
    404: {"description": "No such document, or the caller's company is neither its seller nor its buyer."},
}


async def _entry(db: AsyncSession, archive_id: uuid.UUID, company_id: str):  # type: ignore[no-untyped-def]
    entry = await archive.document_for_party(db, archive_id, company_id)
    if entry is None:
        raise HTTPException(404, NOT_FOUND)
    return entry


def _refused(exc: SandboxRefusal | SandboxBusy) -> HTTPException:
    if isinstance(exc, SandboxBusy):
        return refuse(503, "busy", f"{exc}; try again shortly")
    return refuse(422, exc.code, exc.message)


@router.get(
    "/documents/{archive_id}",
    summary="The sealed PDF/A-3 (Factur-X) of an invoice; only its seller and buyer may read it.",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **ERROR_RESPONSES},
)
async def get_document(archive_id: uuid.UUID, principal: CurrentPrincipal, db: Session) -> Response:
    entry = await _entry(db, archive_id, principal.company_id)
    return Response(
        entry.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name(entry.invoice_number)}.pdf"',
            "Digest": f"sha-256={entry.sha256}",
        },
    )


@router.get(
    "/documents/{archive_id}/xml",
    summary="The structured invoice (CII XML) embedded in the sealed PDF.",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **ERROR_RESPONSES},
)
async def get_document_xml(archive_id: uuid.UUID, principal: CurrentPrincipal, db: Session) -> Response:
    entry = await _entry(db, archive_id, principal.company_id)
    return Response(entry.xml, media_type="application/xml")


@router.get(
    "/documents/{archive_id}/bundle",
    summary="Export bundle: a zip of the sealed PDF, its XML and verification.json (report and chain link).",
    description=(
        "For the seller and the buyer of the document only. verification.json holds the seal "
        "report (as POST /verify gives it), the entry's link in the archive's hash chain "
        "(sequence, previous and chain hash, and the formula), its retention date, and the "
        "SHA-256 of the other two files."
    ),
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}},
        **ERROR_RESPONSES,
        503: {"description": "The verification workers are busy."},
    },
)
async def get_document_bundle(
    archive_id: uuid.UUID, principal: CurrentPrincipal, db: Session, checker: Sandbox
) -> Response:
    entry = await _entry(db, archive_id, principal.company_id)
    try:
        filename, bundle = await verification.export_bundle(entry, checker)
    except (SandboxRefusal, SandboxBusy) as exc:
        raise _refused(exc) from exc
    return Response(
        bundle,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary", "description": "The PDF to check."}},
                "required": ["file"],
            }
        },
    },
}


@verify_router.post(
    "/verify",
    summary="Check a PDF's seal: intact or modified, signer, signing time, timestamp, trust, archived copy.",
    description=(
        "Send the PDF as the raw body (application/pdf) or as the `file` field of a "
        "multipart/form-data form. The file is read in a separate process with a time and "
        "memory limit. The archive match names an entry only when the caller's company is "
        "its seller or buyer; otherwise it says there is no match visible to the caller. "
        "Refusals carry `detail.code`: 413 too_large; 415 unsupported_media_type; 400 empty, "
        "no_file, bad_multipart; 422 not_a_pdf, encrypted_pdf, malformed_pdf, "
        "decompression_bomb, memory_limit, too_slow, unprocessable_pdf; 503 busy."
    ),
    response_model=VerificationReport,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses={
        400: {"description": "Empty upload or malformed multipart body."},
        401: {"description": "No valid access token."},
        413: {"description": "The file exceeds the configured size limit."},
        415: {"description": "Neither application/pdf nor multipart/form-data."},
        422: {"description": "The file is not a PDF we can read safely (the code says why)."},
        503: {"description": "The verification workers are busy."},
    },
)
async def verify_upload(
    request: Request, principal: CurrentPrincipal, db: Session, checker: Sandbox
) -> VerificationReport:
    pdf = await read_pdf_upload(request, request.app.state.verify_max_bytes)
    if not looks_like_pdf(pdf):
        refused = not_a_pdf()
        raise refuse(422, refused.code, refused.message)
    try:
        return await verification.verify_document(pdf, principal.company_id, checker, db)
    except (SandboxRefusal, SandboxBusy) as exc:
        raise _refused(exc) from exc
