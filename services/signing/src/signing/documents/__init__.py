"""Invoice documents: render, Factur-X, PAdES seal and verification; pure adapters, no I/O.

Names are imported on first use: a process that only verifies PDFs (the verification
sandbox) must not pay for loading fpdf2, facturx and the fonts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from signing.documents.cii import build_cii_xml
    from signing.documents.dev_pki import DevPki, ensure_dev_pki
    from signing.documents.facturx import make_invoice_pdf
    from signing.documents.render import render_invoice
    from signing.documents.sealer import PadesSealer, SealerConfig, SealingPool
    from signing.documents.verify import SignatureReport, async_verify_pdf, verify_pdf

_HOMES = {
    "DevPki": "dev_pki",
    "PadesSealer": "sealer",
    "SealerConfig": "sealer",
    "SealingPool": "sealer",
    "SignatureReport": "verify",
    "async_verify_pdf": "verify",
    "build_cii_xml": "cii",
    "ensure_dev_pki": "dev_pki",
    "make_invoice_pdf": "facturx",
    "render_invoice": "render",
    "verify_pdf": "verify",
}

__all__ = [
    "DevPki",
    "PadesSealer",
    "SealerConfig",
    "SealingPool",
    "SignatureReport",
    "async_verify_pdf",
    "build_cii_xml",
    "ensure_dev_pki",
    "make_invoice_pdf",
    "render_invoice",
    "verify_pdf",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
