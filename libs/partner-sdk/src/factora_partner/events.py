"""Build a valid `invoicing.partner-invoice-submitted.v1` payload from a Python dict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from contracts.v1 import PartnerInvoiceSubmitted
from factora_partner.errors import InvoiceDataError

DICT_SOURCE = "<dict>"


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as the contract's field path: ('lines', 0, 'quantity') -> lines[0].quantity."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(invoice)"


def validation_hint(error: Mapping[str, Any]) -> str:
    """Pydantic's message, turned into what the partner should do."""
    kind = error.get("type", "")
    if kind == "missing":
        return "this field is required; add it (see the invoicing.partner-invoice-submitted.v1 JSON Schema)"
    return f"{error.get('msg', 'invalid value')} (got {error.get('input')!r}); correct the value"


def build_submission(
    data: Mapping[str, Any] | PartnerInvoiceSubmitted,
    *,
    partner_id: str | None = None,
    source: str = DICT_SOURCE,
    origins: Mapping[str, str] | None = None,
) -> PartnerInvoiceSubmitted:
    """Validate `data` against the contract; `partner_id`, when given, replaces the one in the data.

    Raises InvoiceDataError for the first invalid field (its message names the field, and the
    XML element when `origins` maps field paths to the elements they were read from).
    """
    if isinstance(data, PartnerInvoiceSubmitted):
        payload: dict[str, Any] = data.model_dump(mode="json")
    else:
        payload = dict(data)
    if partner_id is not None:
        payload["partner_id"] = partner_id
    try:
        event = PartnerInvoiceSubmitted.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = field_path(tuple(first["loc"]))
        element = _origin_of(path, origins or {})
        raise InvoiceDataError(source, path, validation_hint(first), element=element) from exc
    if not event.lines:
        raise InvoiceDataError(source, "lines", "an invoice needs at least one line; add one")
    return event


def _origin_of(path: str, origins: Mapping[str, str]) -> str | None:
    # The closest recorded ancestor: an error on seller.address.city is reported at the address element.
    candidate = path
    while candidate:
        if candidate in origins:
            return origins[candidate]
        cut = max(candidate.rfind("."), candidate.rfind("["))
        candidate = candidate[:cut] if cut > 0 else ""
    return None
