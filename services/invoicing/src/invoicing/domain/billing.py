"""Credit packs and the VAT on their receipts (Factora sells from France)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from invoicing.domain.countries import pack_for
from invoicing.domain.model import money


@dataclass(frozen=True)
class CreditPack:
    """A pack of transaction credits as the Billing page offers it (prices without VAT)."""

    id: str
    credits: int
    price: Decimal
    currency: str = "EUR"

    @property
    def unit_price(self) -> Decimal:
        return (self.price / self.credits).quantize(Decimal("0.0001"))


PACKS: tuple[CreditPack, ...] = (
    CreditPack("pack-10", 10, Decimal("9.00")),
    CreditPack("pack-50", 50, Decimal("40.00")),
    CreditPack("pack-200", 200, Decimal("140.00")),
    CreditPack("pack-1000", 1000, Decimal("600.00")),
)
PACKS_BY_ID = {pack.id: pack for pack in PACKS}

FACTORA_COUNTRY = "FR"
FACTORA_NAME = "Factora SAS"
FACTORA_VAT_ID = "FR00000000000"


@dataclass(frozen=True)
class ReceiptTax:
    """VAT on a purchase: French VAT at home, reverse charge for EU businesses, none outside the EU."""

    rate: Decimal
    note: str | None


def receipt_tax(buyer_country: str | None, buyer_vat_id: str | None) -> ReceiptTax:
    home = pack_for(FACTORA_COUNTRY)
    assert home is not None
    buyer = pack_for(buyer_country) if buyer_country else None
    if buyer is None or buyer.code == FACTORA_COUNTRY:
        return ReceiptTax(Decimal("20"), None)
    if buyer.in_eu and buyer_vat_id:
        return ReceiptTax(Decimal("0"), "Reverse charge: VAT due by the customer (Article 196, Directive 2006/112/EC)")
    if buyer.in_eu:
        return ReceiptTax(Decimal("20"), None)
    return ReceiptTax(Decimal("0"), "Service supplied outside the EU: French VAT not applicable")


def price_with_tax(pack: CreditPack, tax: ReceiptTax) -> tuple[Decimal, Decimal, Decimal]:
    """(net, VAT, total) of a pack."""
    vat = money(pack.price * tax.rate / 100)
    return pack.price, vat, pack.price + vat
