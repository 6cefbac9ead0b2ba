"""Signing benchmark, one run: raw key rate, naive pyHanko, our sealer in one process, one worker and the pool.

Run: uv run python services/signing/bench/bench_signing.py [--seals 400] [--key ec|rsa] [--workers N]
Goal (issue 5): >= 90 seals/s per core and >= 160 seals/s on the machine, single-page invoice, PAdES B-B.
The machine may be shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from signing.documents import (
    PadesSealer,
    SealerConfig,
    SealingPool,
    async_verify_pdf,
    ensure_dev_pki,
    make_invoice_pdf,
)
from signing.documents.samples import standard_invoice

PASSPHRASE = b"bench-only-passphrase"
GOAL_PER_CORE = 90.0
GOAL_MACHINE = 160.0


def rate(fn: Callable[[], object], count: int) -> float:
    """Calls per second of wall time, after one warm-up call."""
    fn()
    started = time.perf_counter()
    for _ in range(count):
        fn()
    return count / (time.perf_counter() - started)


def row(label: str, value: float, unit: str, goal: float | None = None) -> None:
    verdict = "" if goal is None else (f"   goal >= {goal:g}: " + ("met" if value >= goal else "NOT MET"))
    print(f"  {label:<64} {value:9.1f} {unit}{verdict}")


def raw_signature_rate(p12_path, seconds: float = 1.0) -> tuple[str, float]:
    key, _, _ = pkcs12.load_key_and_certificates(p12_path.read_bytes(), PASSPHRASE)
    data = os.urandom(64)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        name = f"ECDSA {key.curve.name} SHA-256"

        def sign() -> bytes:
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
        name = f"RSA-{key.key_size} PKCS#1 v1.5 SHA-256"

        def sign() -> bytes:
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(100):
            sign()
        count += 100
    return name, count / (time.perf_counter() - started)


def naive_pyhanko_rate(p12_path, pdf: bytes, count: int) -> float:
    """pyHanko as its documentation shows it: SimpleSigner.load_pkcs12, then sign_pdf (automatic size)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    signer = signers.SimpleSigner.load_pkcs12(pfx_file=str(p12_path), passphrase=PASSPHRASE)
    meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=SigSeedSubFilter.PADES)

    def seal() -> None:
        signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), meta, signer=signer)

    return rate(seal, count)


@dataclass
class PoolFigures:
    seals_per_s: float
    documents_per_s: float
    worker_cpu_ms_per_seal: float
    parent_cpu_ms_per_seal: float
    startup_s: float


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, after[pid]) for pid in after)


async def pool_figures(config: SealerConfig, pdf: bytes, count: int, workers: int) -> PoolFigures:
    """Wall-clock rates of a SealingPool of `workers`, and the CPU each seal costs (load-independent)."""
    pool = SealingPool(config, workers=workers)
    try:
        began = time.perf_counter()
        await pool.start()
        startup = time.perf_counter() - began
        await asyncio.gather(*(pool.seal(pdf) for _ in range(workers * 4)))  # warm every worker

        cpu_before, parent_before = await pool.worker_cpu_seconds(), time.process_time()
        began = time.perf_counter()
        sealed = await asyncio.gather(*(pool.seal(pdf) for _ in range(count)))
        seals = count / (time.perf_counter() - began)
        parent_cpu = time.process_time() - parent_before
        worker_cpu = cpu_used(cpu_before, await pool.worker_cpu_seconds())

        document = standard_invoice()
        began = time.perf_counter()
        await asyncio.gather(*(pool.make_sealed_invoice(document, "fr") for _ in range(count)))
        documents = count / (time.perf_counter() - began)
    finally:
        pool.close()
    report = await async_verify_pdf(sealed[-1], [config.pkcs12_path.with_name("ca.pem")])
    if not report.bottom_line:
        raise SystemExit(f"the pool's seal does not verify: {report.problem}")
    return PoolFigures(seals, documents, worker_cpu / count * 1000, parent_cpu / count * 1000, startup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seals", type=int, default=400, help="seals per pool measurement")
    parser.add_argument("--key", choices=("ec", "rsa"), default="ec", help="seal key type (the dev PKI's default: ec)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes in the full pool")
    args = parser.parse_args()

    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        pki = ensure_dev_pki(tmp, PASSPHRASE, key_type=args.key)
        document = standard_invoice()
        pdf, _ = make_invoice_pdf(document, "fr")
        sealer = PadesSealer.from_pkcs12(pki.seal_p12, PASSPHRASE)
        config = SealerConfig(pkcs12_path=pki.seal_p12, passphrase=PASSPHRASE)

        print("Factora signing benchmark: single-page invoice (3 lines), PAdES B-B, development seal")
        print(f"  machine: {cpus} CPUs, load average {os.getloadavg()[0]:.2f} at start (other work shares it)")
        key_name, raw = raw_signature_rate(pki.seal_p12)
        row(f"raw signature, cryptography ({key_name})", raw, "sign()/s")
        render = 1000 / rate(lambda: make_invoice_pdf(document, "fr"), 200)
        row("render: fpdf2 PDF/A-3b + Factur-X XML, one process", render, "ms/document")
        row(
            "naive pyHanko: SimpleSigner.load_pkcs12 + sign_pdf (auto size)",
            naive_pyhanko_rate(pki.seal_p12, pdf, 60),
            "seals/s",
        )
        row("ours, in this process (cached key, fixed reservation)", rate(lambda: sealer.seal(pdf), 300), "seals/s")

        one = asyncio.run(pool_figures(config, pdf, args.seals, 1))
        row("ours, pool of 1 worker (seal only, IPC included)", one.seals_per_s, "seals/s", GOAL_PER_CORE)
        full = asyncio.run(pool_figures(config, pdf, args.seals, args.workers))
        row(f"ours, pool of {args.workers} workers (seal only)", full.seals_per_s, "seals/s", GOAL_MACHINE)
        row(f"ours, pool of {args.workers}: render + Factur-X + seal per call", full.documents_per_s, "documents/s")
        per_core = 1000 / full.worker_cpu_ms_per_seal
        row("  CPU per seal in a worker", full.worker_cpu_ms_per_seal, "ms")
        row("  seals per core-second of worker CPU (load-independent)", per_core, "seals/s", GOAL_PER_CORE)
        row("  CPU per seal in the calling process (pickling, IPC)", full.parent_cpu_ms_per_seal, "ms")
        capacity = 1000 * cpus / (full.worker_cpu_ms_per_seal + full.parent_cpu_ms_per_seal)
        row(f"  machine capacity if {cpus} cores did only this", capacity, "seals/s", GOAL_MACHINE)
        starts = f"{one.startup_s:.1f} s for 1 worker, {full.startup_s:.1f} s for {args.workers}"
        print(f"  pool start-up (fonts and key loaded once per worker): {starts}")
        print(f"  load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
