"""Operator commands of the signing service: `python -m signing.cli verify FILE.pdf`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from signing.documents.verify import verify_pdf
from signing.settings import Settings


def trust_roots(explicit: list[Path]) -> list[Path]:
    """Roots given on the command line, else the configured ones, else the development CA."""
    if explicit:
        return explicit
    settings = Settings()
    return settings.trust_roots or [settings.pki_dir / "ca.pem"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m signing.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="check the seal of a PDF and print a JSON report")
    verify.add_argument("pdf", type=Path)
    verify.add_argument("--trust", type=Path, action="append", default=[], help="PEM of a trusted CA (repeatable)")
    args = parser.parse_args(argv)
    roots = trust_roots(args.trust)
    missing = [str(r) for r in roots if not r.exists()]
    if missing:
        print(f"trust root not found: {', '.join(missing)} (pass --trust CA.pem)", file=sys.stderr)
        return 2
    report = verify_pdf(args.pdf.read_bytes(), roots)
    print(json.dumps(asdict(report), indent=2, default=str))
    return 0 if report.bottom_line else 1


if __name__ == "__main__":
    sys.exit(main())
