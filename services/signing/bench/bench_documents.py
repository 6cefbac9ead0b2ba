"""Benchmark of the document core: per-invoice CPU for render, Factur-X and seal, pool throughput.

Run: uv run python services/signing/bench/bench_documents.py [--n 200] [--key ec|rsa] [--compare]
Budget (ARCHITECTURE.md): render <= 3 ms, Factur-X <= 3 ms, seal <= 11 ms CPU per invoice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from signing.documents import (
    PadesSealer,
    SealerConfig,
    SealingPool,
    async_verify_pdf,
    build_cii_xml,
    ensure_dev_pki,
    make_invoice_pdf,
    render_invoice,
)
from signing.documents.facturx import to_facturx_pdf
from signing.documents.samples import reverse_charge_invoice, standard_invoice

PASSPHRASE = b"bench-only-passphrase"
BUDGET_MS = {"render": 3.0, "facturx": 3.0, "seal": 11.0}


def cpu_ms(fn: Callable[[], object], n: int, rounds: int = 5) -> float:
    """Best-of-rounds CPU milliseconds per call: the box is shared, the minimum is the cost."""
    fn()
    per_round = max(1, n // rounds)
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(per_round):
            fn()
        best = min(best, (time.process_time() - start) / per_round * 1000)
    return best


def line(label: str, ms: float, budget: float | None = None) -> None:
    verdict = "" if budget is None else ("  ok" if ms <= budget else f"  OVER {budget} ms")
    print(f"  {label:<44} {ms:7.3f} ms{verdict}")


def naive_costs(doc, pki, n: int) -> None:
    """What the known traps cost: fonts parsed per document, SimpleSigner per signature."""
    from io import BytesIO

    from fpdf import FPDF
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    from signing.documents.fonts import FONT_DIR

    def fonts_per_document() -> None:
        pdf = FPDF()
        pdf.add_font("dejavu", "", FONT_DIR / "DejaVuSans.ttf")
        pdf.add_font("dejavu", "B", FONT_DIR / "DejaVuSans-Bold.ttf")

    def fpdf2_embedding() -> None:
        pdf = FPDF()
        pdf.add_font("dejavu", "", FONT_DIR / "DejaVuSans.ttf")
        pdf.add_page()
        pdf.set_font("dejavu", "", 9)
        pdf.text(20, 20, "Facture F2025-000123 — 1 263,48 €")
        pdf.output()

    pdf, _ = make_invoice_pdf(doc, "fr")
    simple = signers.SimpleSigner.load_pkcs12(str(pki.seal_p12), passphrase=PASSPHRASE)
    meta = signers.PdfSignatureMetadata(field_name="Seal", subfilter=SigSeedSubFilter.PADES)

    def simple_signer() -> None:
        signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), meta, signer=simple)

    print("known traps, for comparison:")
    line("fpdf2 add_font x2 per document", cpu_ms(fonts_per_document, n))
    line("fpdf2 default font embedding (1 line of text)", cpu_ms(fpdf2_embedding, n))
    line("pyHanko SimpleSigner + size estimate", cpu_ms(simple_signer, n))


async def pool_throughput(config: SealerConfig, docs, locale: str, workers: int) -> None:
    pool = SealingPool(config, workers=workers)
    try:
        began = time.perf_counter()
        await pool.start()
        print(f"pool of {workers} workers started in {time.perf_counter() - began:.1f} s")
        pdfs = [make_invoice_pdf(doc, locale)[0] for doc in docs]

        began = time.perf_counter()
        await asyncio.gather(*(pool.seal(pdf) for pdf in pdfs))
        seal_only = len(pdfs) / (time.perf_counter() - began)

        async def one(doc) -> bytes:
            pdf, _ = make_invoice_pdf(doc, locale)  # in this process, as the handler does
            return await pool.seal(pdf)

        began, cpu = time.perf_counter(), time.process_time()
        sealed = await asyncio.gather(*(one(doc) for doc in docs))
        end_to_end = len(docs) / (time.perf_counter() - began)
        main_cpu = (time.process_time() - cpu) / len(docs) * 1000

        began = time.perf_counter()
        await asyncio.gather(*(pool.make_sealed_invoice(doc, locale) for doc in docs))
        all_in_pool = len(docs) / (time.perf_counter() - began)
    finally:
        pool.close()
    print(f"  seal only, {len(pdfs)} invoices:                   {seal_only:8.1f} documents/s")
    print(f"  render + Factur-X + seal, {len(docs)} invoices:    {end_to_end:8.1f} documents/s")
    report = await async_verify_pdf(sealed[-1], [Path(config.pkcs12_path).with_name("ca.pem")])
    ok = report.bottom_line
    print(f"  CPU in the handler process per invoice:  {main_cpu:.2f} ms (render, Factur-X, IPC)")
    print(f"  all three steps in the pool, {len(docs)} invoices: {all_in_pool:8.1f} documents/s")
    print(f"  last sealed invoice verifies: {ok}; load average now {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="invoices per measurement")
    parser.add_argument("--locale", choices=("fr", "en"), default="fr")
    parser.add_argument("--key", choices=("ec", "rsa"), default="ec", help="seal key type")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--compare", action="store_true", help="also time the naive ways")
    args = parser.parse_args()

    doc = standard_invoice()
    docs = [standard_invoice() if i % 4 else reverse_charge_invoice() for i in range(args.n)]
    with tempfile.TemporaryDirectory() as tmp:
        pki = ensure_dev_pki(tmp, PASSPHRASE, key_type=args.key)
        sealer = PadesSealer.from_pkcs12(pki.seal_p12, PASSPHRASE)
        pdf, xml = make_invoice_pdf(doc, args.locale)
        plain = render_invoice(doc, args.locale)

        render = cpu_ms(lambda: render_invoice(doc, args.locale), args.n)
        both = cpu_ms(lambda: make_invoice_pdf(doc, args.locale), args.n)
        cii = cpu_ms(lambda: build_cii_xml(doc), args.n)
        seal = cpu_ms(lambda: sealer.seal(pdf), args.n)
        print(f"per invoice, one process, CPU time, best of 5 rounds over {args.n} invoices")
        print(f"(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start)")
        print(f"(3 lines, {args.locale}, {args.key} seal key, {len(pdf) // 1024} KB Factur-X PDF)")
        line("render (fpdf2, PDF/A-3b)", render, BUDGET_MS["render"])
        # Factur-X is written in the same pass as the page (no re-parse of the PDF), so its
        # cost is the difference of two noisy figures; the XML build alone is shown too.
        line("render + Factur-X in one pass", both, BUDGET_MS["render"] + BUDGET_MS["facturx"])
        line("  Factur-X share (difference)", max(both - render, 0.0), BUDGET_MS["facturx"])
        line("  CII XML build alone (lxml)", cii)
        line("seal (PAdES B-B)", seal, BUDGET_MS["seal"])
        line("total", both + seal, sum(BUDGET_MS.values()))
        line("for reference: facturx.generate_from_binary", cpu_ms(lambda: to_facturx_pdf(plain, xml), 50))
        samples = [_wall_ms(lambda: sealer.seal(pdf)) for _ in range(50)]
        print(
            f"  seal wall time median / p95:  {statistics.median(samples):.2f} / "
            f"{statistics.quantiles(samples, n=20)[-1]:.2f} ms"
        )
        if args.compare:
            naive_costs(doc, pki, 20)
        config = SealerConfig(pkcs12_path=pki.seal_p12, passphrase=PASSPHRASE)
        asyncio.run(pool_throughput(config, docs, args.locale, args.workers))


def _wall_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


if __name__ == "__main__":
    main()
