"""Invoice files -> partner submissions: UBL 2.1 or CII XML, or JSON in the contract's own shape."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from contracts.v1 import PartnerInvoiceSubmitted
from factora_partner import cii, ubl
from factora_partner.errors import InvoiceDataError
from factora_partner.events import build_submission
from factora_partner.xmlread import parse_xml

INVOICE_SUFFIXES = (".xml", ".json")


def load_invoice_file(
    path: Path | str,
    *,
    partner_id: str,
    seller_company_id: str | None = None,
    buyer_company_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> PartnerInvoiceSubmitted:
    """Read one invoice file and return the validated submission.

    The XML flavour is recognised from the root element (UBL Invoice, UBL CreditNote or CII
    CrossIndustryInvoice). The invoice number (BT-1) becomes `external_id`. Seller and buyer
    company ids come from the party identifiers (UBL cac:PartyIdentification/cbc:ID, CII ram:ID)
    unless given here, for files whose parties carry other identifiers. `overrides` replaces
    top-level fields (e.g. {"seller": {...}}) after reading. Raises InvoiceDataError naming the
    file, the element and the field.
    """
    path = Path(path)
    origins: dict[str, str] = {}
    if path.suffix.lower() == ".json":
        data = _json_fields(path)
        for role, company_id in (("seller", seller_company_id), ("buyer", buyer_company_id)):
            if company_id and isinstance(data.get(role), dict):
                data[role] = {**data[role], "company_id": company_id}
    else:
        root = parse_xml(path)
        if root.tag in ubl.ROOTS:
            reader = ubl.ubl_reader(path, root)
            data = ubl.ubl_fields(reader, seller_company_id=seller_company_id, buyer_company_id=buyer_company_id)
        elif root.tag == cii.ROOT:
            reader = cii.cii_reader(path, root)
            data = cii.cii_fields(reader, seller_company_id=seller_company_id, buyer_company_id=buyer_company_id)
        else:
            raise InvoiceDataError(
                path,
                "(document)",
                f"root element {etree.QName(root).localname!r} ({etree.QName(root).namespace}) is neither a UBL 2.1 "
                "Invoice/CreditNote nor a CII CrossIndustryInvoice; export the invoice as UBL or Factur-X XML",
                element=f"/{etree.QName(root).localname}",
            )
        origins = reader.origins
    data.update(overrides or {})
    return build_submission(data, partner_id=partner_id, source=str(path), origins=origins)


def _json_fields(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvoiceDataError(path, "(file)", f"cannot read the file ({exc.strerror})") from exc
    except ValueError as exc:
        raise InvoiceDataError(path, "(file)", f"not valid JSON ({exc}); fix the file") from exc
    if not isinstance(data, dict):
        raise InvoiceDataError(path, "(document)", "the JSON must be one object in the submission's shape")
    return data


def invoice_files(paths: Iterable[Path | str]) -> Iterator[Path]:
    """The files named, and the .xml/.json files inside the folders named (sorted, not recursive)."""
    for entry in paths:
        entry = Path(entry)
        if entry.is_dir():
            yield from sorted(p for p in entry.iterdir() if p.is_file() and p.suffix.lower() in INVOICE_SUFFIXES)
        else:
            yield entry
