"""`factora stack status`: the network's health for operators: readiness, consumer lag, DLQs, outbox backlog."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from factora_cli.api import parse_service_urls
from factora_cli.network_options import DEFAULT_API_URL, ApiOption, JsonOption, ServiceUrlOption
from factora_cli.output import ExitCode, console, emit_json, fail
from factora_cli.stack_health import (
    HEALTHY,
    UNREACHABLE,
    GatewayHealth,
    ServiceHealth,
    probe_stack,
    service_urls,
)

stack_app = typer.Typer(help="The running network, for operators.", no_args_is_help=True)

PIPED_WIDTH = 200
STYLE = {"healthy": "green", "unhealthy": "red", "unreachable": "red"}


def exit_code(services: list[ServiceHealth], gateway: GatewayHealth | None) -> ExitCode:
    """0 all healthy, 3 when nothing answers at all, 1 otherwise."""
    parts: list[Any] = [*services, *([gateway] if gateway else [])]
    if all(p.status == UNREACHABLE for p in parts):
        return ExitCode.UNREACHABLE
    if all(p.status == HEALTHY for p in parts):
        return ExitCode.OK
    return ExitCode.FAILED


def status(
    api: ApiOption = DEFAULT_API_URL,
    service_url: ServiceUrlOption = None,
    no_gateway: Annotated[bool, typer.Option("--no-gateway", help="Do not check the API gateway.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each answer.")] = 3.0,
    json_output: JsonOption = False,
) -> None:
    """Health of every service (and the gateway), with consumer lag, dead-letter topics and outbox backlog."""
    try:
        urls = service_urls(overrides=parse_service_urls(service_url))
    except ValueError as exc:
        fail(str(exc), ExitCode.USAGE, json_output=json_output)
    services, gateway = probe_stack(urls, None if no_gateway else api, timeout_s=timeout)
    code = exit_code(services, gateway)
    if json_output:
        emit_json(
            {
                "healthy": code == ExitCode.OK,
                "exit_code": int(code),
                "gateway": gateway.__dict__ if gateway else None,
                "services": [s.as_dict() for s in services],
                "warnings": [f"{s.name}: {w}" for s in services for w in s.warnings],
            }
        )
    else:
        print_report(services, gateway, code)
    raise typer.Exit(int(code))


def _cell(value: Any, *, bad: bool = False) -> str:
    if value is None:
        return "[dim]-[/]"
    return f"[yellow]{value}[/]" if bad else str(value)


def print_report(services: list[ServiceHealth], gateway: GatewayHealth | None, code: ExitCode) -> None:
    """The table, then what deserves a look."""
    table = Table(title="Factora network", title_justify="left")
    figures = ("consumer lag", "DLQ", "outbox", "oldest (s)")
    for column in ("part", "status", "address", "detail", *figures):
        table.add_column(column, justify="right" if column in figures else "left")
    if gateway is not None:
        style = STYLE[gateway.status]
        table.add_row("gateway", f"[{style}]{gateway.status}[/]", gateway.url, gateway.detail, "", "", "", "")
    for s in services:
        m = s.metrics
        age = None if m is None or m.outbox_oldest_age_s is None else f"{m.outbox_oldest_age_s:.0f}"
        table.add_row(
            s.name,
            f"[{STYLE[s.status]}]{s.status}[/]",
            s.url,
            s.detail,
            _cell(None if m is None else m.total_lag, bad=bool(m and m.total_lag)),
            _cell(None if m is None else m.total_dlq, bad=bool(m and m.total_dlq)),
            _cell(None if m is None else m.outbox_backlog, bad=bool(m and m.outbox_backlog)),
            _cell(age),
        )
    # Piped output has no terminal width: let the table take what it needs rather than cut addresses.
    out = console if console.is_terminal else Console(file=console.file, width=PIPED_WIDTH, highlight=False)
    out.print(table)
    for s in services:
        if s.metrics is not None:
            for row in s.metrics.lag_by_topic:
                if row["lag"]:
                    behind = f"group {row['group']} is {row['lag']} record(s) behind on {row['topic']}"
                    console.print(f"  {s.name}: {behind}", soft_wrap=True)
        for warning in s.warnings:
            console.print(f"  [yellow]![/] {s.name}: {warning}", soft_wrap=True)
    parts: list[Any] = [*([gateway] if gateway else []), *services]
    failing = ", ".join(f"{getattr(p, 'name', 'gateway')} {p.status}" for p in parts if p.status != HEALTHY)
    verdict = {
        ExitCode.OK: "[green]all healthy[/]",
        ExitCode.FAILED: f"[red]not healthy: {failing}[/]",
        ExitCode.UNREACHABLE: "[red]nothing answers: is the stack running (`make up`)?[/]",
    }[code]
    console.print(verdict)


stack_app.command("status")(status)
