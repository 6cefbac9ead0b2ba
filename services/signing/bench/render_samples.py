"""Write a French and an English sample invoice, sealed, with a PNG of page 1 of each (for reviews and the issue).

Run: uv run python services/signing/bench/render_samples.py [FOLDER]   (default: .local/samples/)
Needs pdftoppm (Debian: apt-get install poppler-utils). The seal comes from a throwaway
development CA made for this run, so the samples verify only against that CA.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from signing.documents import PadesSealer, ensure_dev_pki, make_invoice_pdf, verify_pdf
from signing.documents.samples import english_invoice, standard_invoice

DEFAULT_FOLDER = Path(".local/samples")
RESOLUTION_DPI = 110


def write_samples(folder: Path) -> list[Path]:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("pdftoppm not found: apt-get install poppler-utils")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        pki = ensure_dev_pki(tmp, "samples-only")
        sealer = PadesSealer.from_pkcs12(pki.seal_p12, "samples-only")
        for name, document, locale in (
            ("invoice-fr", standard_invoice(), "fr"),
            ("invoice-en", english_invoice(), "en"),
        ):
            pdf, xml = make_invoice_pdf(document, locale)
            sealed = sealer.seal(pdf)
            report = verify_pdf(sealed, [pki.ca_cert])
            if not report.bottom_line:
                raise SystemExit(f"{name}: the sealed sample does not verify: {report.problem}")
            pdf_path = folder / f"{name}.pdf"
            pdf_path.write_bytes(sealed)
            (folder / f"{name}.xml").write_bytes(xml)
            subprocess.run(  # noqa: S603 - our own file names, a fixed program
                [pdftoppm, "-png", "-r", str(RESOLUTION_DPI), "-f", "1", "-l", "1", "-singlefile",
                 str(pdf_path), str(folder / f"{name}-page1")],
                check=True,
                timeout=60,
            )  # fmt: skip
            written += [pdf_path, folder / f"{name}.xml", folder / f"{name}-page1.png"]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    args = parser.parse_args(argv)
    for path in write_samples(args.folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
