"""Load benchmark of the invoice pipeline on the real local stack (`make bench`).

Signed partner invoices go in on `invoicing.partner-invoice-submitted.v1` at stepped offered rates; each is
followed to issued (invoicing), sealed and archived (signing), and the buyer's e-mail accepted by the SMTP
catcher. Reports throughput, p50/p95/p99 per stage and end to end, CPU ms per invoice per process, the load
average (the machine may be shared), a naive-sealer baseline, and writes a JSON result and a PNG chart.

Run: uv run python tests/load/bench_pipeline.py [--rates 10,20,30,40,50,70,100,150] [--step-seconds 35]
Ports: the FACTORA_TEST_* variables (as the tests use); stack folder .local/bench-stack (FACTORA_BENCH_STACK_DIR);
results in results/bench (FACTORA_BENCH_RESULTS_DIR).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_cpu import cpu_seconds, used_between
from bench_driver import Driver
from bench_naive import sealing_baseline
from bench_parties import make_trading_pairs
from bench_report import StepResult, print_table, stage_latencies, write_chart, write_json
from bench_stack import BenchStack
from bench_timeline import collect, count_mail

from devstack.config import ports_for_tests, repo_root

# Production checks on: signed partner records, known and connected parties (the local stack relaxes both).
SERVICE_ENV = {"INVOICING_REQUIRE_PARTNER_SIGNATURE": "true", "INVOICING_REQUIRE_CONNECTED_BUYER": "true"}


def say(message: str) -> None:
    load = os.getloadavg()
    print(f"[{datetime.now():%H:%M:%S} load {load[0]:.2f}] {message}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    root = repo_root()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10,20,30,40,50,70,100,150", help="offered invoices/s, one step each")
    parser.add_argument("--step-seconds", type=float, default=35.0, help="length of one step")
    parser.add_argument("--settle-seconds", type=float, default=8.0, help="start of a step left out of its rates")
    parser.add_argument("--drain-seconds", type=float, default=90.0, help="wait for the backlog after the last step")
    parser.add_argument("--pairs", type=int, default=12, help="supplier/buyer pairs the invoices rotate over")
    parser.add_argument("--label", default="pipeline", help="name of the result files (<label>.json, <label>.png)")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path(os.environ.get("FACTORA_BENCH_RESULTS_DIR", root / "results" / "bench")),
    )
    parser.add_argument(
        "--stack-dir",
        type=Path,
        default=Path(os.environ.get("FACTORA_BENCH_STACK_DIR", root / ".local" / "bench-stack")),
    )
    parser.add_argument("--profile", action="store_true", help="run each service under cProfile (<stack>-profiles)")
    parser.add_argument(
        "--cost", type=int, default=0, help="instead of steps: CPU per invoice for this many invoices at the first rate"
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the naive-sealer micro baseline")
    parser.add_argument(
        "--fast-postgres", action="store_true", help="Postgres without fsync (as the tests run it); durable otherwise"
    )
    return parser.parse_args(argv)


def profiled_command(profiles: Path):  # type: ignore[no-untyped-def]
    profiles.mkdir(parents=True, exist_ok=True)

    def command(name: str) -> list[str]:
        # uvicorn re-raises the SIGTERM it handled once it has shut down; as SystemExit, cProfile
        # still writes its file (under the default action the process would just die).
        output = str(profiles / f"{name}.prof")
        statement = f"import runpy; runpy.run_module({name!r}, run_name='__main__')"
        script = (
            "import cProfile, signal, sys\n"
            "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
            f"cProfile.run({statement!r}, {output!r})"
        )
        return [sys.executable, "-c", script]

    return command


async def measure_step(
    stack: BenchStack, driver: Driver, index: int, rate: float, args: argparse.Namespace
) -> StepResult:
    """Send at `rate` for a step; the rates and CPU are taken after the first settle seconds."""
    result = StepResult(offered_per_s=rate, duration_s=args.step_seconds, sent=0)
    load_before = os.getloadavg()[0]
    sending = asyncio.create_task(driver.run_step(index, rate, args.step_seconds))
    await asyncio.sleep(args.settle_seconds)
    mail_before, cpu_before, began = count_mail(stack.mail_dir), cpu_seconds(stack.pids()), time.monotonic()
    result.sent = await sending
    mail_after, cpu_after = count_mail(stack.mail_dir), cpu_seconds(stack.pids())
    window = time.monotonic() - began
    result.completed = mail_after - mail_before
    result.achieved_per_s = round(result.completed / window, 1)
    used = used_between(cpu_before, cpu_after)
    result.cpu_cores_busy = round(sum(used.values()) / window, 2)
    per = max(result.completed, 1)
    result.cpu_ms_per_invoice = {name: round(seconds * 1000 / per, 1) for name, seconds in used.items()}
    result.load_average = (round(load_before, 2), round(os.getloadavg()[0], 2))
    backlog = len(driver.submissions) - count_mail(stack.mail_dir)
    # Saturated: the output fell behind the input, or several seconds of work are queued.
    result.saturated = result.achieved_per_s < 0.9 * rate or backlog > 5 * rate
    say(
        f"step {rate:g}/s: sent {result.sent}, e-mails {result.achieved_per_s:.1f}/s over the last {window:.0f} s, "
        f"backlog {backlog}, {result.cpu_cores_busy:.2f} cores busy" + (" -> saturated" if result.saturated else "")
    )
    return result


async def idle_cpu(stack: BenchStack, seconds: float) -> dict[str, float]:
    """Cores each part keeps busy with no invoice in flight (pollers, heartbeats): subtracted in cost mode."""
    before, began = cpu_seconds(stack.pids()), time.monotonic()
    await asyncio.sleep(seconds)
    used = used_between(before, cpu_seconds(stack.pids()))
    window = time.monotonic() - began
    idle = {name: round(value / window, 3) for name, value in used.items()}
    say(f"idle: {sum(idle.values()):.2f} cores busy ({', '.join(f'{k} {v:.2f}' for k, v in idle.items())})")
    return idle


async def measure_cost(
    stack: BenchStack, driver: Driver, count: int, rate: float, idle: dict[str, float]
) -> dict[str, object]:
    """CPU ms per invoice per part for `count` invoices, from the first send until the last e-mail, net of idle.

    Contention from other work on the machine stretches the wall time but hardly the CPU an invoice
    costs, so this is the figure to compare before and after a change on a shared machine.
    """
    expected = count_mail(stack.mail_dir) + count
    before, began = cpu_seconds(stack.pids()), time.monotonic()
    load_before = os.getloadavg()[0]
    await driver.run_step(99, rate, count / rate)
    found = await wait_for_mail(stack, expected, 600)
    window = time.monotonic() - began
    used = used_between(before, cpu_seconds(stack.pids()))
    net = {name: max(0.0, value - idle.get(name, 0.0) * window) for name, value in used.items()}
    per = {name: round(value * 1000 / count, 2) for name, value in net.items()}
    gross = {name: round(value * 1000 / count, 2) for name, value in used.items()}
    total = round(sum(per.values()), 1)
    say(
        f"cost: {count} invoices at {rate:g}/s done in {window:.0f} s ({found - expected + count} e-mails), "
        f"CPU ms per invoice net of idle: total {total}; " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(per.items()))
    )
    say(f"cost: gross CPU ms per invoice (idle included): total {sum(gross.values()):.1f}; {gross}")
    return {"count": count, "rate": rate, "wall_s": round(window, 1), "cpu_ms_per_invoice": per, "total_cpu_ms": total,
            "gross_cpu_ms_per_invoice": gross,
            "load_average": (round(load_before, 2), round(os.getloadavg()[0], 2)), "idle_cores": idle}  # fmt: skip


async def wait_for_mail(stack: BenchStack, expected: int, timeout_s: float) -> int:
    """Poll the catcher's folder (another process writes it, so there is no event to wait on)."""
    deadline = time.monotonic() + timeout_s
    while (found := count_mail(stack.mail_dir)) < expected and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    return found


async def run(args: argparse.Namespace) -> int:
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    say(f"load benchmark: rates {rates}, {args.step_seconds:g} s per step, {os.cpu_count()} CPUs")
    # Beside the stack folder, which is wiped when the stack starts.
    profiles = args.stack_dir.resolve().with_name(args.stack_dir.name + "-profiles")
    command = {"command": profiled_command(profiles)} if args.profile else {}
    stack = BenchStack(
        directory=args.stack_dir.resolve(),
        ports=ports_for_tests(),
        service_env=SERVICE_ENV,
        durable_postgres=not args.fast_postgres,
        **command,
    )
    started = time.monotonic()
    steps: list[StepResult] = []
    cost: dict[str, object] | None = None
    idle: dict[str, float] = {}
    try:
        await stack.start(say)
        say(f"stack ready in {time.monotonic() - started:.0f} s; creating {args.pairs} trading pairs")
        pairs = await make_trading_pairs(stack.bootstrap, stack.database_url("invoicing"), args.pairs, 1_000_000)
        driver = Driver(stack.bootstrap, pairs)
        await driver.start()
        try:
            say("warm-up: 40 invoices at 10/s")
            await driver.run_step(-1, 10, 4)
            await wait_for_mail(stack, len(driver.submissions), 120)
            idle = await idle_cpu(stack, 5.0)
            if args.cost:
                cost = await measure_cost(stack, driver, args.cost, rates[0], idle)
            for index, rate in enumerate([] if args.cost else rates):
                steps.append(await measure_step(stack, driver, index, rate, args))
                if steps[-1].saturated:
                    break
        finally:
            await driver.stop()
        found = await wait_for_mail(stack, len(driver.submissions), args.drain_seconds)
        say(f"drained: {found} of {len(driver.submissions)} e-mails; reading the systems of record")
        timelines = await collect(
            driver.submissions,
            invoicing_dsn=stack.database_url("invoicing"),
            signing_dsn=stack.database_url("signing"),
            notifications_dsn=stack.database_url("notifications"),
            mail_dir=stack.mail_dir,
        )
    finally:
        say("stopping the stack")
        await stack.stop()
    for index, step in enumerate(steps):
        step.latency_ms = stage_latencies([t for t in timelines if t.step == index])
    if cost is not None:
        cost["latency_ms"] = stage_latencies([t for t in timelines if t.step == 99])
        print(f"cost run latencies (ms): {cost['latency_ms']}")
    lost = [t.external_id for t in timelines if t.end_to_end is None]
    naive = None if args.no_naive else await asyncio.to_thread(sealing_baseline)
    kept_up = [s.achieved_per_s for s in steps if not s.saturated]
    summary = {
        "label": args.label,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_end": os.getloadavg(),
        "sustained_per_s": max(kept_up, default=0.0),
        "peak_achieved_per_s": max((s.achieved_per_s for s in steps), default=0.0),
        "invoices": len(timelines),
        "not_completed": len(lost),
        "naive_sealing_baseline": naive,
        "idle_cores": idle,
        "cost": cost,
        "duration_s": round(time.monotonic() - started, 1),
    }
    print_table(steps)
    print(
        f"\nsustained end to end: {summary['sustained_per_s']:.1f} invoices/s (highest step that kept up); "
        f"peak {summary['peak_achieved_per_s']:.1f}/s; {len(lost)} of {len(timelines)} invoices not completed"
    )
    if naive:
        print(
            f"sealing, CPU ms per seal: ours {naive['ours_cpu_ms']:.1f}, naive pyHanko SimpleSigner "
            f"{naive['naive_cpu_ms']:.1f} ({naive['ratio']:.1f}x); naive caps one core at "
            f"{naive['naive_seals_per_core_s']:.0f} seals/s"
        )
    json_path, png_path = args.results_dir / f"{args.label}.json", args.results_dir / f"{args.label}.png"
    write_json(json_path, summary, steps)
    if steps:
        write_chart(
            png_path,
            steps,
            f"Factora pipeline, {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.1f}: "
            f"sustained {summary['sustained_per_s']:.0f}/s, peak {summary['peak_achieved_per_s']:.0f}/s",
        )
    say(f"results: {json_path} and {png_path} ({summary['duration_s']:.0f} s in all)")
    return 0


async def run_until_signalled(args: argparse.Namespace) -> int:
    """`run`, cancelled by SIGINT or SIGTERM (even in the background, where SIGINT is ignored), so the
    stack is always stopped on the way out."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    return await run(args)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run_until_signalled(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
