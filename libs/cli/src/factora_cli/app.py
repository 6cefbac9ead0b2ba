"""The `factora` Typer application: registers every command group."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="factora",
    help="Factora e-invoicing network: try it, send partner invoices, fetch and verify sealed PDFs, check the stack.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def main() -> None:
    """Console-script entry point."""
    app()
