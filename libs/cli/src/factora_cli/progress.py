"""Named steps with a spinner on a terminal, one line each otherwise, and a failure that says which step and why."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from factora_cli.accounts import FlowProblem
from factora_cli.api import ApiError, ApiUnreachable
from factora_cli.mailbox import MailTimeout
from factora_cli.output import ExitCode


class WaitTimeout(TimeoutError):
    """Something awaited on the network (a seal, an archive entry) did not happen in time."""


class StepFailed(Exception):
    """A step could not be done: which one, why, and the exit code that says so to scripts."""

    def __init__(self, step: str, reason: str, code: ExitCode) -> None:
        self.step, self.reason, self.code = step, reason, code
        super().__init__(f"step '{step}' failed: {reason}")


def exit_code_of(exc: BaseException) -> ExitCode:
    """The exit code for an error raised inside a step."""
    if isinstance(exc, ApiUnreachable):
        return ExitCode.UNREACHABLE
    if isinstance(exc, ApiError):
        return exc.exit_code
    if isinstance(exc, MailTimeout | WaitTimeout):
        return ExitCode.TIMEOUT
    return ExitCode.FAILED


KNOWN_FAILURES = (ApiUnreachable, ApiError, MailTimeout, WaitTimeout, FlowProblem, OSError)


class Steps:
    """Runs the steps of a command; `quiet` (for --json) prints nothing."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.done: list[tuple[str, float]] = []

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        """One step: shown while it runs, ticked with its duration, or turned into StepFailed."""
        started = time.monotonic()
        spinner = self.console.status(title) if (self.console.is_terminal and not self.quiet) else None
        try:
            if spinner is not None:
                with spinner:
                    yield
            else:
                yield
        except KNOWN_FAILURES as exc:
            if not self.quiet:
                self.console.print(f"[red]✗[/] {title}", soft_wrap=True)
            raise StepFailed(title, str(exc), exit_code_of(exc)) from exc
        elapsed = time.monotonic() - started
        self.done.append((title, elapsed))
        if not self.quiet:
            self.console.print(f"[green]✓[/] {title} [dim]({elapsed:.1f} s)[/]", soft_wrap=True)
