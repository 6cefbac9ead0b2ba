"""Options every networked command shares: where the API is, direct service addresses, credentials."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from factora_cli.api import API_ENV, DEFAULT_API, TOKEN_ENV, Api, ApiError, ApiUnreachable, parse_service_urls
from factora_cli.output import ExitCode, fail
from factora_cli.session import SESSION_ENV, default_session_path, session_token

ApiOption = Annotated[
    str,
    typer.Option("--api", envvar=API_ENV, help="Base URL of the Factora API gateway.", show_default=True),
]
ServiceUrlOption = Annotated[
    list[str] | None,
    typer.Option(
        "--service-url",
        metavar="NAME=URL",
        help="Call this service straight at URL instead of through the gateway (repeatable).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document for scripts.")]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar=TOKEN_ENV, help="Access token (Bearer) of a member of the invoice's companies."),
]
SessionOption = Annotated[
    Path | None,
    typer.Option(
        "--session",
        envvar=SESSION_ENV,
        help="Session file written by `factora demo` (used when no --token is given). "
        "Default: .local/demo/session.json of the checkout.",
    ),
]

DEFAULT_API_URL = DEFAULT_API


def make_api(api: str, service_url: list[str] | None, *, json_output: bool, timeout: float = 30.0) -> Api:
    """The client, or a usage error naming the bad --service-url."""
    try:
        urls = parse_service_urls(service_url)
    except ValueError as exc:
        fail(str(exc), ExitCode.USAGE, json_output=json_output)
    return Api(api, service_urls=urls, timeout=timeout)


def bearer_token(client: Api, token: str | None, session: Path | None, *, json_output: bool) -> str:
    """--token / FACTORA_TOKEN, else a token of the demo's session file; UNAUTHORISED when there is neither."""
    if token:
        return token
    path = session or default_session_path()
    if not path.exists():
        fail(
            f"no access token: pass --token (or set {TOKEN_ENV}), or run `factora demo` first "
            f"(its session file {path} is used when there is no token)",
            ExitCode.UNAUTHORISED,
            json_output=json_output,
        )
    try:
        return session_token(path, client)
    except ValueError as exc:
        fail(str(exc), ExitCode.UNAUTHORISED, json_output=json_output)
    except ApiError as exc:
        fail(
            f"the demo session in {path} cannot be renewed ({exc.message}): run `factora demo` again or pass --token",
            ExitCode.UNAUTHORISED,
            json_output=json_output,
        )
    except ApiUnreachable as exc:
        fail(str(exc), ExitCode.UNREACHABLE, json_output=json_output)


def command_line(*words: str | Path) -> str:
    """Words joined as a shell would need them quoted."""
    return " ".join(shlex.quote(str(w)) for w in words)
