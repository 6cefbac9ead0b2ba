"""veraPDF says the invoices are PDF/A-3b, before and after the seal."""

import shutil
import subprocess
from pathlib import Path

import pytest

from signing.documents import PadesSealer, ensure_dev_pki, make_invoice_pdf, render_invoice
from signing.documents.samples import long_invoice, reverse_charge_invoice, standard_invoice

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VERAPDF = Path(__file__).resolve().parents[2] / "bench" / "verapdf.sh"


@pytest.mark.skipif(
    not (shutil.which("java") and shutil.which("mvn")),
    reason="veraPDF needs java and mvn (it is fetched from Maven Central)",
)
def test_invoices_are_pdfa3b_before_and_after_sealing(tmp_path):
    pki = ensure_dev_pki(tmp_path / "pki", "pdfa-test")
    sealer = PadesSealer.from_pkcs12(pki.seal_p12, "pdfa-test")
    files = {
        "plain-fr.pdf": render_invoice(standard_invoice(), "fr"),
        "facturx-en.pdf": make_invoice_pdf(standard_invoice(), "en")[0],
        "reverse-charge-fr.pdf": make_invoice_pdf(reverse_charge_invoice(), "fr")[0],
    }
    files["sealed-long-fr.pdf"] = sealer.seal(make_invoice_pdf(long_invoice(), "fr")[0])
    files["sealed-en.pdf"] = sealer.seal(files["facturx-en.pdf"])
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    result = subprocess.run([str(VERAPDF), *paths], capture_output=True, text=True, timeout=600, check=False)
    if "PASS" not in result.stdout and "FAIL" not in result.stdout:
        pytest.skip(f"veraPDF could not be run: {result.stderr[-500:]}")
    assert result.returncode == 0, result.stdout + result.stderr
