"""`factora-stack`: run, stop and inspect the local Factora stack."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from devstack.config import SERVICES, kafka_home, state_dir
from devstack.errors import StackError


def _cmd_up(args: argparse.Namespace, with_services: bool) -> int:
    from devstack.runner import StackRun, run

    stack = StackRun(with_services=with_services, skip=tuple(args.skip or ()), ready_timeout=args.ready_timeout)
    return asyncio.run(run(stack))


def _cmd_down(_: argparse.Namespace) -> int:
    from devstack.state import StateFile, stop_recorded

    state = StateFile(state_dir())
    if not state.path.exists():
        print(f"nothing to stop: no stack recorded in {state.path.parent}")
        return 0
    for line in stop_recorded(state) or ["nothing was running; cleared the stale state file"]:
        print(line)
    return 0


def _cmd_status(_: argparse.Namespace) -> int:
    from devstack.status import collect, report

    data, checks = asyncio.run(collect())
    text, healthy = report(data, checks)
    print(text)
    return 0 if healthy else 1


def _cmd_kafka_jars(_: argparse.Namespace) -> int:
    from devstack.kafka_jars import ensure_jars, jars_ready

    home = kafka_home()
    fresh = not jars_ready(home)
    started = time.monotonic()
    lib = ensure_jars(home)
    jars = len(list(lib.glob("*.jar")))
    how = f"fetched with Maven in {time.monotonic() - started:.1f} s" if fresh else "already complete"
    print(f"{jars} Kafka jars in {lib} ({how})")
    return 0


def _cmd_sample_invoice(_: argparse.Namespace) -> int:
    from devstack.sample import main as sample_main

    return sample_main()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and --help)."""
    parser = argparse.ArgumentParser(
        prog="factora-stack",
        description="Local Factora stack: Kafka (KRaft, from Maven jars), PostgreSQL, SMTP catcher, services.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="run infrastructure and the five services in the foreground")
    up.add_argument(
        "--skip",
        action="append",
        choices=SERVICES,
        metavar="SERVICE",
        help="do not start this service (you run it by hand); repeatable",
    )
    up.add_argument("--ready-timeout", type=float, default=180.0, help="seconds to wait for /health/ready")
    infra = sub.add_parser("infra", help="run only Kafka, PostgreSQL, the SMTP catcher and the topics")
    infra.set_defaults(skip=None, ready_timeout=0.0)
    sub.add_parser("down", help="stop a stack left running (its supervisor and every child)")
    sub.add_parser("status", help="probe each part; exit 1 if one is down")
    sub.add_parser("kafka-jars", help="fetch the Kafka jars with Maven (once; later runs are offline)")
    sub.add_parser(
        "sample-invoice",
        help="publish a sample partner invoice to the running stack; print its sealed PDF and e-mail",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the factora-stack console script."""
    args = build_parser().parse_args(argv)
    commands = {
        "up": lambda a: _cmd_up(a, with_services=True),
        "infra": lambda a: _cmd_up(a, with_services=False),
        "down": _cmd_down,
        "status": _cmd_status,
        "kafka-jars": _cmd_kafka_jars,
        "sample-invoice": _cmd_sample_invoice,
    }
    try:
        return commands[args.command](args)
    except StackError as exc:
        print(f"factora-stack: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
