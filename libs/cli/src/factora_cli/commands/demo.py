"""`factora demo`: two new companies, a connection, an invoice issued, sealed, archived, downloaded and e-mailed."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from factora_cli.demo_data import run_id
from factora_cli.demo_flow import Demo, DemoOptions, DemoOutcome
from factora_cli.mailbox import default_mail_dir
from factora_cli.network_options import (
    DEFAULT_API_URL,
    ApiOption,
    JsonOption,
    ServiceUrlOption,
    command_line,
    make_api,
)
from factora_cli.output import ExitCode, console, emit_json, fail
from factora_cli.progress import StepFailed, Steps
from factora_cli.session import default_demo_dir, default_session_path


def demo(
    api: ApiOption = DEFAULT_API_URL,
    service_url: ServiceUrlOption = None,
    mail_dir: Annotated[
        Path | None,
        typer.Option(
            "--mail-dir",
            help="The SMTP catcher's mail folder (default: $FACTORA_STATE_DIR/mail, else .local/stack/mail).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the sealed PDF and the demo session (default: .local/demo/)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Seconds to wait for each e-mail and for the seal.")
    ] = 120.0,
    json_output: JsonOption = False,
) -> None:
    """Try the network on a running stack (`make up`): sign up two companies, connect them, send a sealed invoice."""
    options = DemoOptions(
        mail_dir=(mail_dir or default_mail_dir()).resolve(),
        out_dir=(out or default_demo_dir()).resolve(),
        timeout_s=timeout,
        tag=run_id(),
    )
    client = make_api(api, service_url, json_output=json_output)
    steps = Steps(console, quiet=json_output)
    try:
        with client:
            outcome = Demo(client, options, steps).run()
    except StepFailed as exc:
        fail(str(exc), exc.code, json_output=json_output)
    verify = verify_command(outcome, client.api)
    if json_output:
        emit_json(summary(outcome, verify, steps))
    else:
        print_summary(outcome, verify)
    raise typer.Exit(int(ExitCode.OK))


def verify_command(outcome: DemoOutcome, api: str) -> str:
    """`factora verify <pdf>`, with --api and --session only when they are not the defaults."""
    words: list[str | Path] = ["factora", "verify", outcome.pdf_path or ""]
    if api.rstrip("/") != DEFAULT_API_URL:
        words += ["--api", api]
    if outcome.session_path and outcome.session_path != default_session_path().resolve():
        words += ["--session", outcome.session_path]
    return command_line(*words)


def summary(outcome: DemoOutcome, verify: str, steps: Steps) -> dict[str, Any]:
    """The --json document."""
    return {
        "invoice": {
            "id": outcome.invoice_id,
            "number": outcome.invoice_number,
            "payable": outcome.payable,
            "archive_id": outcome.archive_id,
        },
        "pdf": {"path": str(outcome.pdf_path), "url": outcome.pdf_url, "sha256": outcome.pdf_sha256},
        "email": {"path": str(outcome.eml_path), "to": outcome.buyer_contact},
        "accounts": [a.public() for a in outcome.accounts.values()],
        "credits": {"before": outcome.credits_before, "bought": outcome.credits_bought},
        "relationship_id": outcome.relationship_id,
        "session": str(outcome.session_path),
        "verify_command": verify,
        "steps": [{"step": title, "seconds": round(seconds, 2)} for title, seconds in steps.done],
    }


def print_summary(outcome: DemoOutcome, verify: str) -> None:
    """The human summary: the invoice, where its files are, how to sign in, how to verify (never truncated)."""
    supplier, buyer = outcome.accounts["supplier"], outcome.accounts["buyer"]
    say = partial(console.print, soft_wrap=True)
    say()
    say(
        f"[bold]Invoice {outcome.invoice_number}[/] ({outcome.payable} EUR) "
        f"from {supplier.company_name} to {buyer.company_name}: sealed, archived and delivered."
    )
    credits = f"{outcome.credits_before} before issuing" + (
        f", {outcome.credits_bought} bought" if outcome.credits_bought else ""
    )
    for label, value in (
        ("sealed PDF", outcome.pdf_path),
        ("downloaded from", outcome.pdf_url),
        ("e-mail to buyer", outcome.eml_path),
        ("addressed to", outcome.buyer_contact),
        ("supplier credits", credits),
    ):
        say(f"  {label:<17} {value}")
    say()
    say("[bold]Demo accounts[/] (a local demo: the secrets are shown on purpose)")
    for account in outcome.accounts.values():
        say(f"  {account.role}: {account.company_name}")
        say(f"    e-mail       {account.email}")
        say(f"    password     {account.password}")
        say(f"    TOTP secret  {account.totp_secret}")
    say(f"  session file   {outcome.session_path} (used by `factora verify` and `factora archive get`)")
    say()
    say("[bold]Check the seal:[/]")
    say(f"  {verify}")
