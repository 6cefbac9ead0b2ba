"""Serialisations of an issued invoice or credit note: UBL 2.1 (Peppol BIS Billing 3.0) and CII (EN 16931)."""

from invoicing.domain.exports.cii import build_cii
from invoicing.domain.exports.ubl import build_ubl

__all__ = ["build_cii", "build_ubl"]
