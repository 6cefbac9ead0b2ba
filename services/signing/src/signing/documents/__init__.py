"""Invoice documents: render, Factur-X, PAdES seal and verification; pure adapters, no I/O."""

from signing.documents.cii import build_cii_xml
from signing.documents.dev_pki import DevPki, ensure_dev_pki
from signing.documents.facturx import make_invoice_pdf
from signing.documents.render import render_invoice
from signing.documents.sealer import PadesSealer, SealerConfig, SealingPool
from signing.documents.verify import SignatureReport, async_verify_pdf, verify_pdf

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
