"""The `factora` Typer application: registers every command group."""

from __future__ import annotations

import typer

from factora_cli.commands.archive import archive_app
from factora_cli.commands.demo import demo
from factora_cli.commands.partner import partner_app
from factora_cli.commands.stack import stack_app
from factora_cli.commands.verify import verify

app = typer.Typer(
    name="factora",
    help="Factora e-invoicing network: try it, send partner invoices, fetch and verify sealed PDFs, check the stack.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("demo")(demo)
app.command("verify")(verify)
app.add_typer(archive_app, name="archive")
app.add_typer(partner_app, name="partner")
app.add_typer(stack_app, name="stack")


def main() -> None:
    """Console-script entry point."""
    app()
