"""The naive baseline, measured in-process: stock pyHanko SimpleSigner against our sealer, CPU per seal."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from io import BytesIO

PASSPHRASE = b"bench-only-passphrase"


def cpu_ms_per_call(fn: Callable[[], object], count: int) -> float:
    fn()  # warm-up
    began = time.process_time()
    for _ in range(count):
        fn()
    return (time.process_time() - began) * 1000 / count


def sealing_baseline(count: int = 20) -> dict[str, float]:
    """CPU ms per seal of the same rendered invoice: stock pyHanko as documented, and Factora's PadesSealer.

    The signing service has no switch to seal the naive way, so the naive figure comes from here and
    is set against the sealer the pipeline used.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    from signing.documents import PadesSealer, ensure_dev_pki, make_invoice_pdf
    from signing.documents.samples import standard_invoice

    with tempfile.TemporaryDirectory() as tmp:
        pki = ensure_dev_pki(tmp, PASSPHRASE)
        pdf, _ = make_invoice_pdf(standard_invoice(), "fr")
        ours = PadesSealer.from_pkcs12(pki.seal_p12, PASSPHRASE)
        naive_signer = signers.SimpleSigner.load_pkcs12(pfx_file=str(pki.seal_p12), passphrase=PASSPHRASE)
        meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=SigSeedSubFilter.PADES)

        def naive() -> None:
            signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), meta, signer=naive_signer)

        ours_ms = cpu_ms_per_call(lambda: ours.seal(pdf), count)
        naive_ms = cpu_ms_per_call(naive, count)
    return {
        "ours_cpu_ms": round(ours_ms, 2),
        "naive_cpu_ms": round(naive_ms, 2),
        "ratio": round(naive_ms / ours_ms, 2),
        "naive_seals_per_core_s": round(1000 / naive_ms, 1),
    }
