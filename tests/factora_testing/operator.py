"""Operator commands on the test network (`python -m <service>.manage …`), run with the services' environment."""

from __future__ import annotations

import os
import subprocess
import sys

from contracts.examples import SAMPLE_SELLER_ID


def run_manage(network, *args: str) -> str:  # type: ignore[no-untyped-def]
    """Run `python -m <args>` with the network's environment; its stdout, or an assertion naming stderr."""
    out = subprocess.run(
        [sys.executable, "-m", *args],
        env={**os.environ, **network.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, f"{' '.join(args)} failed: {out.stderr}"
    return out.stdout.strip()


def fund_sample_seller(network, credits: int = 100) -> str:  # type: ignore[no-untyped-def]
    """Give the shared sample seller credits: many tests (and replays of earlier records) issue from it,
    so its welcome balance alone runs out depending on the order the session runs them in."""
    return run_manage(network, "invoicing.manage", "credits", "--company", SAMPLE_SELLER_ID, "--add", str(credits))
