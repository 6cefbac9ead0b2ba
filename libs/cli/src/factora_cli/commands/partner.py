"""`factora partner keygen | send | rejections`: a partner system's tools, built on the factora_partner SDK."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contracts.v1 import PartnerInvoiceRejected, PartnerInvoiceSubmitted
from factora_cli.output import ExitCode, console, emit_json, errors, fail
from factora_partner import (
    DEFAULT_BOOTSTRAP,
    InvoiceDataError,
    KeyFileError,
    PartnerCredential,
    PartnerFeed,
    PartnerPublisher,
    PartnerSdkError,
    PublishError,
    SendResult,
    generate_key_files,
    invoice_files,
    load_invoice_file,
)
from factora_partner.publisher import BOOTSTRAP_ENV

partner_app = typer.Typer(
    help="Partner systems (ERPs, billing tools): make a key, send invoices over Kafka, read rejections.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of text.")]
BootstrapOption = Annotated[
    str,
    typer.Option("--bootstrap", envvar=BOOTSTRAP_ENV, help="Kafka bootstrap servers.", show_default=True),
]
PartnerIdOption = Annotated[
    str, typer.Option("--partner-id", help="Your partner system id (identity shows it with the partner system).")
]
REGISTER_PATH = "/company/partners/{partner_id}/keys"
SHOW_EACH_UP_TO = 20  # above this many files, text output lists only the failures


# --------------------------------------------------------------------------- keygen


@partner_app.command()
def keygen(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the key files into.")],
    name: Annotated[str, typer.Option("--name", help="File name stem: <name>.key.pem, <name>.pub.pem.")] = (
        "factora-partner"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing private key file.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Generate an Ed25519 key pair: the private key stays in a 0600 PEM file, the public key goes to identity."""
    try:
        key = generate_key_files(out, name=name, overwrite=force)
    except KeyFileError as exc:
        fail(f"{exc} (or pass --force)", ExitCode.USAGE, json_output=json_output)
    except OSError as exc:
        fail(f"cannot write into {out}: {exc.strerror}", ExitCode.USAGE, json_output=json_output)
    register = {"method": "POST", "path": REGISTER_PATH, "body": key.registration_body()}
    if json_output:
        emit_json(
            {
                "private_key_file": str(key.private_key_path),
                "public_key_file": str(key.public_key_path),
                "public_key": key.public_key,
                "public_key_pem": key.public_key_pem,
                "fingerprint": key.fingerprint,
                "register": register,
            }
        )
        return
    console.print(f"[bold]Private key[/]  {key.private_key_path} (0600, keep it secret, never send it)", soft_wrap=True)
    console.print(f"[bold]Public key[/]   {key.public_key}")
    console.print(f"[bold]Fingerprint[/]  {key.fingerprint}")
    console.print(
        "\nNext: the company administrator registers the public key in Factora (identity API, recent sign-in):\n"
        f'  POST {REGISTER_PATH}   {{"public_key": "{key.public_key}"}}\n'
        '  (a new partner system: POST /company/partners with {"name": ..., "public_key": ...})\n'
        "The answer's key.key_id is your --key-id and partner.partner_id your --partner-id:\n"
        f"  factora partner send INVOICES... --partner-id <partner_id> --key-file {key.private_key_path} "
        "--key-id <key_id>",
        soft_wrap=True,  # commands and keys must stay copy-pasteable, whatever the terminal width
    )


# --------------------------------------------------------------------------- send


def _load_all(
    paths: list[Path], *, partner_id: str, seller: str | None, buyer: str | None
) -> tuple[list[tuple[str, PartnerInvoiceSubmitted]], list[SendResult]]:
    """Every file read and validated: the good ones to send, the bad ones as failed results."""
    ready: list[tuple[str, PartnerInvoiceSubmitted]] = []
    refused: list[SendResult] = []
    for path in paths:
        try:
            event = load_invoice_file(path, partner_id=partner_id, seller_company_id=seller, buyer_company_id=buyer)
        except InvoiceDataError as exc:
            refused.append(SendResult(external_id=None, error=str(exc), label=str(path)))
            continue
        ready.append((str(path), event))
    return ready, refused


def _progress_bar(enabled: bool) -> tuple[Progress | None, Callable[[int, int, SendResult], None] | None]:
    if not enabled:
        return None, None
    bar = Progress(
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("send", total=None)

    def advance(done: int, total: int, result: SendResult) -> None:
        bar.update(task, completed=done, total=total)

    return bar, advance


async def _publish(
    credential: PartnerCredential, bootstrap: str, ready: list[tuple[str, PartnerInvoiceSubmitted]], show_bar: bool
) -> list[SendResult]:
    bar, progress = _progress_bar(show_bar)
    async with PartnerPublisher(credential, bootstrap_servers=bootstrap) as publisher:
        if bar is None:
            return await publisher.send_many(ready, progress=progress)
        with bar:
            return await publisher.send_many(ready, progress=progress)


@partner_app.command()
def send(
    files: Annotated[
        list[Path], typer.Argument(help="Invoice files (UBL 2.1 or CII XML, or JSON) and folders of them.")
    ],
    partner_id: PartnerIdOption,
    key_file: Annotated[Path, typer.Option("--key-file", help="Your private key (PEM), from `keygen` or identity.")],
    key_id: Annotated[str, typer.Option("--key-id", help="The key id identity gave your public key.")],
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
    seller_company_id: Annotated[
        str | None, typer.Option("--seller-company-id", help="Seller's Factora company id, when files carry another.")
    ] = None,
    buyer_company_id: Annotated[
        str | None, typer.Option("--buyer-company-id", help="Buyer's Factora company id, when files carry another.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Sign and publish invoices; exit 0 only when every one was acknowledged by Kafka."""
    try:
        credential = PartnerCredential.from_file(key_file, partner_id=partner_id, key_id=key_id)
    except PartnerSdkError as exc:
        fail(str(exc), ExitCode.USAGE, json_output=json_output)
    paths = list(invoice_files(files))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        fail(f"no such file: {', '.join(missing)}", ExitCode.USAGE, json_output=json_output)
    if not paths:
        fail("no invoice files (.xml, .json) found in the folders given", ExitCode.USAGE, json_output=json_output)
    ready, refused = _load_all(paths, partner_id=partner_id, seller=seller_company_id, buyer=buyer_company_id)
    sent: list[SendResult] = []
    if ready:
        show_bar = console.is_terminal and not json_output and len(ready) > 1
        try:
            sent = asyncio.run(_publish(credential, bootstrap, ready, show_bar))
        except PublishError as exc:
            fail(str(exc), ExitCode.UNREACHABLE, json_output=json_output)
    order = {str(p): i for i, p in enumerate(paths)}
    results = sorted(refused + sent, key=lambda r: order.get(r.label or "", 0))
    failed = [r for r in results if not r.ok]
    code = ExitCode.OK if not failed else ExitCode.FAILED
    if json_output:
        emit_json(
            {
                "sent": len(results) - len(failed),
                "failed": len(failed),
                "exit_code": int(code),
                "bootstrap": bootstrap,
                "results": [r.as_dict() for r in results],
            }
        )
    else:
        _print_summary(results, failed)
    raise typer.Exit(int(code))


def _print_summary(results: list[SendResult], failed: list[SendResult]) -> None:
    if len(results) <= SHOW_EACH_UP_TO:
        for r in results:
            if r.ok:
                console.print(
                    f"[green]sent[/]   {r.label}: {r.external_id} (partition {r.partition}, offset {r.offset}, "
                    f"event {r.event_id})",
                    soft_wrap=True,
                )
    for r in failed:
        errors.print(f"[red]failed[/] {r.label}: {r.error}", soft_wrap=True)
    colour = "green" if not failed else "red"
    console.print(f"[bold {colour}]Sent {len(results) - len(failed)}, failed {len(failed)}.[/]")


# --------------------------------------------------------------------------- rejections

RELATIVE = re.compile(r"(\d+)([smhd])")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str | None) -> datetime | None:
    """An ISO 8601 time (UTC when no offset is given) or an age such as 30m, 2h, 7d."""
    if not value:
        return None
    if match := RELATIVE.fullmatch(value.strip()):
        return datetime.now(UTC) - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("give an ISO 8601 time (2026-03-02T08:00) or an age such as 30m, 2h, 7d") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rejection_record(event: PartnerInvoiceRejected, time: datetime, where: dict[str, Any]) -> dict[str, Any]:
    """One JSON line of `rejections --json`."""
    return {
        "time": time.isoformat(),
        "partner_id": event.partner_id,
        "external_id": event.external_id,
        "submission_event_id": event.submission_event_id,
        "reasons": [{"rule": r.rule, "field": r.field, "message": r.message} for r in event.reasons],
        **where,
    }


def _print_rejection(event: PartnerInvoiceRejected, time: datetime) -> None:
    console.print(
        f"[bold]{time:%Y-%m-%d %H:%M:%S}[/] rejected [bold]{event.external_id or '(unreadable reference)'}[/] "
        f"(submission {event.submission_event_id})"
    )
    for reason in event.reasons:
        console.print(f"  [red]{reason.rule}[/] {reason.field}: {reason.message}", soft_wrap=True)


async def _read_rejections(feed: PartnerFeed, json_output: bool) -> int:
    count = 0
    async with feed:
        async for item in feed:
            event = item.rejection
            if event is None:
                continue
            count += 1
            if json_output:
                where = {"partition": item.partition, "offset": item.offset}
                # JSON lines, flushed one by one so `--follow --json | jq` sees each as it arrives.
                sys.stdout.write(json.dumps(rejection_record(event, item.envelope.time, where), ensure_ascii=False))
                sys.stdout.write("\n")
                sys.stdout.flush()
            else:
                _print_rejection(event, item.envelope.time)
    return count


@partner_app.command()
def rejections(
    partner_id: Annotated[str | None, typer.Option("--partner-id", help="Your partner system id.")] = None,
    company_id: Annotated[
        str | None, typer.Option("--company-id", help="The supplier company you publish for (narrows the feed).")
    ] = None,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new rejections until Ctrl-C.")] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Only rejections from this time (ISO 8601) or age (30m, 2h, 7d).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per line, per rejection.")] = False,
) -> None:
    """Rejections of your submissions: rule, field and what to fix. Without --follow, prints what is there."""
    if not partner_id and not company_id:
        fail("give --partner-id, --company-id or both", ExitCode.USAGE, json_output=json_output)
    moment = parse_since(since)
    feed = PartnerFeed(
        partner_id=partner_id,
        company_id=company_id,
        bootstrap_servers=bootstrap,
        kinds=("rejection",),
        since=moment,
        follow=follow,
    )
    if follow and not json_output:
        errors.print(f"Waiting for rejections on {bootstrap} (Ctrl-C to stop)...")
    try:
        count = asyncio.run(_read_rejections(feed, json_output))
    except KeyboardInterrupt:
        raise typer.Exit(int(ExitCode.OK)) from None
    except PartnerSdkError as exc:
        fail(str(exc), ExitCode.UNREACHABLE, json_output=json_output)
    if not json_output:
        console.print(f"{count} rejection(s).")
