"""Reading XML invoices safely with lxml, remembering which element each submission field came from."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from factora_partner.errors import InvoiceDataError

# No entity expansion, no DTD or network fetches: invoices come from outside.
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml(path: Path) -> etree._Element:
    """The root element of an XML file; InvoiceDataError when the file is not well-formed XML."""
    try:
        return etree.parse(str(path), SAFE_PARSER).getroot()
    except OSError as exc:
        raise InvoiceDataError(path, "(file)", f"cannot read the file ({exc})") from exc
    except etree.XMLSyntaxError as exc:
        raise InvoiceDataError(
            path, "(file)", f"not well-formed XML: {exc.msg} at line {exc.lineno}; fix the XML and send it again"
        ) from exc


class XmlReader:
    """Typed access to the elements of one invoice file, with errors that name the file and the element."""

    def __init__(self, path: Path, root: etree._Element, namespaces: dict[str, str]) -> None:
        self.path = path
        self.root = root
        self.ns = namespaces
        self.prefix_of = {uri: prefix for prefix, uri in namespaces.items()}
        self.origins: dict[str, str] = {}

    # ------------------------------------------------------------------ locating

    def label(self, el: etree._Element) -> str:
        """`cac:InvoiceLine[2]/cbc:ID (line 40)`: where an element is, readable in an error message."""
        parts = []
        node: etree._Element | None = el
        while node is not None:
            qname = etree.QName(node)
            name = f"{self.prefix_of.get(qname.namespace, '')}:{qname.localname}".lstrip(":")
            parent = node.getparent()
            if parent is not None:
                same = [sibling for sibling in parent if sibling.tag == node.tag]
                if len(same) > 1:
                    name += f"[{same.index(node) + 1}]"
            parts.append(name)
            node = parent
        return "/" + "/".join(reversed(parts)) + (f" (line {el.sourceline})" if el.sourceline else "")

    def below(self, el: etree._Element, xpath: str) -> str:
        """Where a missing element should have been."""
        return f"{self.label(el).split(' (line')[0]}/{xpath}"

    def find(self, el: etree._Element, xpath: str) -> etree._Element | None:
        return el.find(xpath, self.ns)

    def findall(self, el: etree._Element, xpath: str) -> list[etree._Element]:
        return el.findall(xpath, self.ns)

    def fail(self, field: str, hint: str, *, el: etree._Element | None = None, element: str | None = None) -> None:
        raise InvoiceDataError(self.path, field, hint, element=element or (self.label(el) if el is not None else None))

    # ------------------------------------------------------------------ values

    def text(self, el: etree._Element, xpath: str, field: str, *, required: str | None = None) -> str | None:
        """Stripped text of the first match, recorded as the origin of `field`.

        `required` is the hint given when the element is missing or empty.
        """
        found = self.find(el, xpath)
        value = (found.text or "").strip() if found is not None else ""
        if not value:
            if required:
                self.fail(field, required, element=self.below(el, xpath))
            return None
        assert found is not None
        self.origins[field] = self.label(found)
        return value

    def attribute(self, el: etree._Element, xpath: str, name: str) -> str | None:
        found = self.find(el, xpath)
        value = found.get(name) if found is not None else None
        return value.strip() if value else None

    def decimal(self, el: etree._Element, xpath: str, field: str, *, required: str | None = None) -> Decimal | None:
        raw = self.text(el, xpath, field, required=required)
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            self.fail(field, f"{raw!r} is not a number; write it like 1234.50", el=self.find(el, xpath))
        return value

    def iso_date(self, el: etree._Element, xpath: str, field: str, *, required: str | None = None) -> date | None:
        """A UBL date (YYYY-MM-DD)."""
        raw = self.text(el, xpath, field, required=required)
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            self.fail(field, f"{raw!r} is not a date; write it as YYYY-MM-DD", el=self.find(el, xpath))
        raise AssertionError  # pragma: no cover - fail() raised

    def cii_date(self, el: etree._Element, xpath: str, field: str, *, required: str | None = None) -> date | None:
        """A CII date: udt:DateTimeString with format 102 (YYYYMMDD)."""
        raw = self.text(el, xpath, field, required=required)
        if raw is None:
            return None
        found = self.find(el, xpath)
        fmt = found.get("format", "102") if found is not None else "102"
        if fmt != "102":
            self.fail(field, f'date format {fmt!r} is not supported; use format="102" (YYYYMMDD)', el=found)
        try:
            return datetime.strptime(raw, "%Y%m%d").date()
        except ValueError:
            self.fail(field, f"{raw!r} is not a date in format 102; write it as YYYYMMDD", el=found)
        raise AssertionError  # pragma: no cover - fail() raised

    def indicator(self, el: etree._Element, xpath: str, field: str) -> bool:
        raw = (self.text(el, xpath, field, required="say true (charge) or false (allowance)") or "").lower()
        if raw not in ("true", "false"):
            self.fail(field, f"{raw!r} must be true (charge) or false (allowance)", el=self.find(el, xpath))
        return raw == "true"


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    """The dict without its None values, so the contract's defaults apply."""
    return {key: value for key, value in data.items() if value is not None}


def unit_price(price: Decimal, base_quantity: Decimal | None) -> Decimal:
    """Net price per unit: a price stated for a base quantity (BT-149) is divided by it."""
    if base_quantity is None or base_quantity in (0, 1):
        return price
    return price / base_quantity
