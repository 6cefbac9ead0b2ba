"""How every `factora` command speaks: rich on a terminal, plain otherwise, JSON for scripts, meaningful exit codes."""

from __future__ import annotations

import json
import sys
from enum import IntEnum
from typing import Any, NoReturn

import typer
from rich.console import Console


class ExitCode(IntEnum):
    """Exit codes scripts can branch on."""

    OK = 0
    FAILED = 1  # the command ran and the answer is "no" (a rejected invoice, a broken seal, an unhealthy stack)
    USAGE = 2  # bad arguments (Typer/Click use 2 too)
    UNREACHABLE = 3  # the stack, gateway or broker could not be reached
    NOT_FOUND = 4  # the thing asked for does not exist or is not yours
    UNAUTHORISED = 5  # missing, expired or insufficient credentials
    TIMEOUT = 6  # waited for an outcome that did not come in time


# Rich only colours when stdout is a terminal (and honours NO_COLOR), so piped output stays plain.
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout (no colour, no wrapping), for `--json`."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def fail(message: str, code: ExitCode = ExitCode.FAILED, *, json_output: bool = False) -> NoReturn:
    """Report an error (on stderr, or as {"error": …} with --json) and exit with `code`."""
    if json_output:
        emit_json({"error": message, "exit_code": int(code)})
    else:
        errors.print(f"[bold red]error:[/] {message}", soft_wrap=True)  # never break a path or URL
    raise typer.Exit(int(code))
