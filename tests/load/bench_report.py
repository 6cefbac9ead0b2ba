"""Figures of a benchmark run: per-step latency percentiles, throughput, CPU per invoice; JSON, table and chart."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from bench_timeline import Timeline

STAGES = ("intake_to_issued", "issued_to_sealed", "sealed_to_mail", "end_to_end")


@dataclass
class StepResult:
    """One offered rate: what was sent, what came out, how long it took and what it cost."""

    offered_per_s: float
    duration_s: float
    sent: int
    completed: int = 0
    achieved_per_s: float = 0.0
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    cpu_ms_per_invoice: dict[str, float] = field(default_factory=dict)
    cpu_cores_busy: float = 0.0
    load_average: tuple[float, float] = (0.0, 0.0)
    saturated: bool = False


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "max": float("nan")}
    p50, p95, p99 = np.percentile(np.array(values) * 1000, [50, 95, 99])
    return {"p50": round(float(p50), 1), "p95": round(float(p95), 1), "p99": round(float(p99), 1),
            "max": round(max(values) * 1000, 1)}  # fmt: skip


def stage_latencies(timelines: list[Timeline]) -> dict[str, dict[str, float]]:
    """p50/p95/p99 per stage over the invoices that reached the end of that stage."""
    spans: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for t in timelines:
        if t.issued is not None:
            spans["intake_to_issued"].append(t.issued - t.submitted)
        if t.issued is not None and t.sealed is not None:
            spans["issued_to_sealed"].append(t.sealed - t.issued)
        if t.sealed is not None and t.mail_accepted is not None:
            spans["sealed_to_mail"].append(t.mail_accepted - t.sealed)
        if t.end_to_end is not None:
            spans["end_to_end"].append(t.end_to_end)
    return {stage: percentiles(values) for stage, values in spans.items()}


def print_table(steps: list[StepResult]) -> None:
    """The run as a plain-text table (also what the README's figures come from)."""
    print()
    print(f"{'offered/s':>9} {'sent':>5} {'done':>5} {'achieved/s':>10} {'load avg':>9}  "
          f"{'e2e p50/p95/p99 ms':>22}  {'issue p50/p99':>14} {'seal p50/p99':>14} {'mail p50/p99':>14}")  # fmt: skip
    for s in steps:
        e2e = s.latency_ms.get("end_to_end", {})
        nan = float("nan")
        cells = [
            f"{s.latency_ms.get(k, {}).get('p50', nan):6.0f}/{s.latency_ms.get(k, {}).get('p99', nan):<7.0f}"
            for k in ("intake_to_issued", "issued_to_sealed", "sealed_to_mail")
        ]
        mark = "  saturated" if s.saturated else ""
        print(
            f"{s.offered_per_s:9.0f} {s.sent:5d} {s.completed:5d} {s.achieved_per_s:10.1f} {s.load_average[0]:9.2f}  "
            f"{e2e.get('p50', nan):7.0f}/{e2e.get('p95', nan):6.0f}/{e2e.get('p99', nan):<7.0f}  "
            f"{cells[0]:>14} {cells[1]:>14} {cells[2]:>14}{mark}"
        )
    print()
    parts = sorted({k for s in steps for k in s.cpu_ms_per_invoice})
    print("CPU ms per invoice (process trees, over each step's measured window):")
    print(f"{'offered/s':>9} " + " ".join(f"{p[:13]:>13}" for p in parts) + f" {'total':>8} {'cores busy':>10}")
    for s in steps:
        total = sum(s.cpu_ms_per_invoice.values())
        print(
            f"{s.offered_per_s:9.0f} "
            + " ".join(f"{s.cpu_ms_per_invoice.get(p, 0.0):13.1f}" for p in parts)
            + f" {total:8.1f} {s.cpu_cores_busy:10.2f}"
        )


def write_json(path: Path, summary: dict, steps: list[StepResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**summary, "steps": [asdict(s) for s in steps]}, indent=2, default=str) + "\n")


def write_chart(path: Path, steps: list[StepResult], title: str) -> None:
    """Latency percentiles and achieved throughput against the offered load."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    offered = [s.offered_per_s for s in steps]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, style in (("p50", "o-"), ("p95", "s--"), ("p99", "^:")):
        left.plot(offered, [s.latency_ms["end_to_end"][key] for s in steps], style, label=f"end to end {key}")
    left.set_yscale("log")
    left.set_xlabel("offered load (invoices/s)")
    left.set_ylabel("latency (ms), event in -> buyer e-mail accepted")
    left.axhline(1000, color="grey", linewidth=0.8)
    left.grid(True, which="both", alpha=0.3)
    left.legend()
    right.plot(offered, [s.achieved_per_s for s in steps], "o-", label="achieved (e-mails accepted/s)")
    top = max(offered) * 1.05
    right.plot([0, top], [0, top], color="grey", linewidth=0.8, label="offered = achieved")
    right.set_xlabel("offered load (invoices/s)")
    right.set_ylabel("end-to-end throughput (invoices/s)")
    right.grid(True, alpha=0.3)
    right.legend()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
