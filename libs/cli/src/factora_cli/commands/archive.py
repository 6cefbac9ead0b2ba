"""`factora archive get`: download a sealed PDF, its XML or its export bundle from the archive."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Annotated

import httpx
import typer

from factora_cli.api import Api, ApiError, ApiUnreachable
from factora_cli.network_options import (
    DEFAULT_API_URL,
    ApiOption,
    JsonOption,
    ServiceUrlOption,
    SessionOption,
    TokenOption,
    bearer_token,
    make_api,
)
from factora_cli.output import ExitCode, console, emit_json, fail

archive_app = typer.Typer(help="The archive of sealed invoices.", no_args_is_help=True)

PAGE = 200
MAX_PAGES = 50  # 10,000 documents: beyond that, give the archive or invoice id


class NotInArchive(Exception):
    """The reference names nothing archived that the caller's company may read."""


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _archive_of_invoice(client: Api, token: str, invoice_id: str) -> str | None:
    """The archive id of an invoice the caller sees, None when it is not an invoice of theirs."""
    try:
        view = client.get_json("invoicing", f"/invoices/{invoice_id}", token=token, what="the invoice")
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    if not view.get("archive_id"):
        raise NotInArchive(f"invoice {view.get('number') or invoice_id} is {view.get('status')}: not archived yet")
    return str(view["archive_id"])


def _archive_of_number(client: Api, token: str, number: str) -> str | None:
    """The archive id of the invoice with this number among the caller's (sent or received)."""
    for page in range(MAX_PAGES):
        listing = client.get_json(
            "invoicing",
            "/invoices",
            token=token,
            params={"limit": PAGE, "offset": page * PAGE, "include_withdrawn": "true"},
            what="the invoice list",
        )
        for item in listing.get("items", []):
            if item.get("number") == number:
                if not item.get("archive_id"):
                    raise NotInArchive(f"invoice {number} is {item.get('status')}: not archived yet")
                return str(item["archive_id"])
        if (page + 1) * PAGE >= int(listing.get("total", 0)):
            return None
    return None


def _not_found(reference: str) -> NotInArchive:
    return NotInArchive(
        f"nothing in the archive for {reference!r}: no archived document or invoice with this id or number "
        "is visible to your company (wrong id, or your company is neither its seller nor its buyer)"
    )


def fetch_document(client: Api, token: str, reference: str, suffix: str) -> tuple[str, str, httpx.Response]:
    """(archive id, path, answer) for an archive id, an invoice id or an invoice number; NotInArchive otherwise."""
    if _is_uuid(reference):
        path = f"/archive/documents/{reference}{suffix}"
        response = client.request("GET", "signing", path, token=token, what="the archive", ok=(200, 404))
        if response.status_code == 200:
            return reference, path, response
        archive_id = _archive_of_invoice(client, token, reference)
    else:
        archive_id = _archive_of_number(client, token, reference)
    if archive_id is None:
        raise _not_found(reference)
    path = f"/archive/documents/{archive_id}{suffix}"
    return archive_id, path, client.request("GET", "signing", path, token=token, what="the archive", ok=(200,))


def get(
    reference: Annotated[
        str, typer.Argument(metavar="ARCHIVE_ID_OR_INVOICE", help="Archive id, invoice id or invoice number.")
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)],
    bundle: Annotated[
        bool, typer.Option("--bundle", help="The export bundle (zip: PDF, XML, verification.json).")
    ] = False,
    xml: Annotated[bool, typer.Option("--xml", help="The structured invoice (CII XML) embedded in the PDF.")] = False,
    api: ApiOption = DEFAULT_API_URL,
    service_url: ServiceUrlOption = None,
    token: TokenOption = None,
    session: SessionOption = None,
    json_output: JsonOption = False,
) -> None:
    """Download the sealed PDF of an invoice (or its --xml, or its export --bundle)."""
    if bundle and xml:
        fail("choose --bundle or --xml, not both", ExitCode.USAGE, json_output=json_output)
    suffix = "/bundle" if bundle else "/xml" if xml else ""
    client = make_api(api, service_url, json_output=json_output, timeout=60.0)
    with client:
        bearer = bearer_token(client, token, session, json_output=json_output)
        try:
            archive_id, path, response = fetch_document(client, bearer, reference, suffix)
        except NotInArchive as exc:
            fail(str(exc), ExitCode.NOT_FOUND, json_output=json_output)
        except ApiUnreachable as exc:
            fail(str(exc), ExitCode.UNREACHABLE, json_output=json_output)
        except ApiError as exc:
            message = exc.message
            if exc.status == 404:
                message = f"no archived document {reference!r} visible to your company ({exc.message})"
            elif exc.status in (401, 403):
                message = f"{exc.message}: the token is missing, expired or not of a party of this invoice"
            fail(message, exc.exit_code, json_output=json_output)
        url = client.url("signing", path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(response.content)
    digest = hashlib.sha256(response.content).hexdigest()
    if json_output:
        emit_json(
            {
                "path": str(out.resolve()),
                "url": url,
                "archive_id": archive_id,
                "content_type": response.headers.get("content-type"),
                "bytes": len(response.content),
                "sha256": digest,
            }
        )
    else:
        console.print(f"Saved {out} ({len(response.content)} bytes, sha-256 {digest})", soft_wrap=True)
        console.print(f"  from {url}", soft_wrap=True)
    raise typer.Exit(int(ExitCode.OK))


archive_app.command("get")(get)
