"""`factora verify FILE.pdf`: asks signing whether a PDF's seal is intact and trusted, and says so plainly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from factora_cli.api import ApiError, ApiUnreachable, exit_code_for_status
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

PIPED_WIDTH = 200
# Refusal codes of POST /verify (detail.code) and how to say them.
REFUSALS = {
    "not_a_pdf": "not a PDF",
    "encrypted_pdf": "an encrypted PDF, which cannot be checked",
    "malformed_pdf": "a damaged PDF (cross-reference table, trailer or objects)",
    "decompression_bomb": "a PDF that decompresses to far too much data",
    "memory_limit": "a PDF too large to check within the memory limit",
    "too_slow": "a PDF too slow to check",
    "unprocessable_pdf": "a PDF the checker could not process",
    "too_large": "larger than the service accepts",
}


def verdict_of(report: dict[str, Any]) -> tuple[str, str]:
    """(verdict code, sentence) for a verification report."""
    integrity = report.get("integrity")
    trust = report.get("trust") or {}
    if integrity == "intact" and trust.get("trusted") and report.get("valid"):
        return "intact_trusted", "INTACT AND TRUSTED: the seal is valid, covers every byte and chains to our roots"
    if integrity == "intact":
        problem = trust.get("problem") or report.get("problem") or "the signer is not trusted"
        return "intact_untrusted", f"INTACT BUT NOT TRUSTED: {problem}"
    if integrity == "modified":
        return "modified", f"MODIFIED: {report.get('problem') or 'the file changed after it was sealed'}"
    if integrity == "unsigned":
        return "unsigned", "NOT SIGNED: the file carries no seal"
    return "unknown", f"UNKNOWN VERDICT: integrity={integrity!r}"


def details(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The report's facts as (label, value) rows, the ones present only."""
    signer = report.get("signer") or {}
    stamp = report.get("timestamp") or {}
    trust = report.get("trust") or {}
    archive = report.get("archive") or {}
    document = report.get("document") or {}
    rows = [
        ("summary", report.get("summary")),
        ("signer", signer.get("subject")),
        ("issuer", signer.get("issuer")),
        ("serial", signer.get("serial")),
        ("signed at", _with_source(report.get("signing_time"), report.get("signing_time_source"))),
        ("timestamp", _timestamp(stamp) if stamp else None),
        ("trusted", _yes_no(trust.get("trusted")) + (f" ({trust['problem']})" if trust.get("problem") else "")),
        ("coverage", report.get("coverage")),
        ("signatures", report.get("signatures")),
        ("archive", archive.get("message")),
        ("sha-256", document.get("sha256")),
        ("size", f"{document['size_bytes']} bytes" if document.get("size_bytes") is not None else None),
        ("problem", report.get("problem")),
    ]
    return [(label, str(value)) for label, value in rows if value not in (None, "")]


def _with_source(time: Any, source: Any) -> str | None:
    if not time:
        return None
    return f"{time} ({'certified by a timestamp authority' if source == 'timestamp' else 'claimed by the signer'})"


def _timestamp(stamp: dict[str, Any]) -> str:
    state = "valid" if stamp.get("valid") else "NOT valid"
    trusted = "trusted" if stamp.get("trusted") else "not trusted"
    return f"{stamp.get('time')} by {stamp.get('authority')} ({state}, {trusted})"


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def verify(
    file: Annotated[Path, typer.Argument(help="The PDF to check.", exists=True, dir_okay=False, readable=True)],
    api: ApiOption = DEFAULT_API_URL,
    service_url: ServiceUrlOption = None,
    token: TokenOption = None,
    session: SessionOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check a sealed PDF with Factora's signing service: exit 0 only when it is intact and trusted."""
    data = file.read_bytes()
    if not data.startswith(b"%PDF-"):
        # Said at once, without a round trip or a token: the service would refuse it the same way.
        _finish(file, "not_a_pdf", f"NOT A PDF: {file.name} does not start with %PDF-", None, json_output)
    client = make_api(api, service_url, json_output=json_output, timeout=60.0)
    with client:
        bearer = bearer_token(client, token, session, json_output=json_output)
        try:
            response = client.request(
                "POST",
                "signing",
                "/verify",
                token=bearer,
                content=data,
                headers={"Content-Type": "application/pdf"},
                what="verification",
                ok=(200,),
            )
        except ApiUnreachable as exc:
            fail(str(exc), ExitCode.UNREACHABLE, json_output=json_output)
        except ApiError as exc:
            if exc.status in (413, 422) and exc.code:
                words = REFUSALS.get(exc.code, exc.code)
                _finish(file, exc.code, f"REFUSED: {file.name} is {words} ({exc.message})", None, json_output)
            if exc.status == 503:
                fail(f"{exc.message}; try again in a moment", ExitCode.UNREACHABLE, json_output=json_output)
            fail(exc.message, exit_code_for_status(exc.status), json_output=json_output)
    report = response.json()
    code, sentence = verdict_of(report)
    _finish(file, code, sentence, report, json_output)


def _finish(file: Path, code: str, sentence: str, report: dict[str, Any] | None, json_output: bool) -> None:
    ok = code == "intact_trusted"
    if json_output:
        emit_json({"file": str(file), "verdict": code, "ok": ok, "message": sentence, "report": report})
    else:
        colour = "green" if ok else "red"
        console.print(f"[bold {colour}]{sentence}[/]", soft_wrap=True)
        if report is not None:
            table = Table.grid(padding=(0, 2))
            for label, value in details(report):
                table.add_row(label, value)
            # Piped output has no terminal width: one line per fact rather than wrapped columns.
            out = console if console.is_terminal else Console(file=console.file, width=PIPED_WIDTH, highlight=False)
            out.print(table)
    raise typer.Exit(int(ExitCode.OK if ok else ExitCode.FAILED))
