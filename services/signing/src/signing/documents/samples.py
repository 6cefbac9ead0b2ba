"""Sample invoices with consistent totals, for tests, benchmarks and local demos."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from contracts.v1.invoicing import (
    InvoiceDocument,
    InvoiceLine,
    InvoiceTotals,
    Party,
    PostalAddress,
    VatBreakdown,
)

CENT = Decimal("0.01")

SELLER = Party(
    company_id="11111111-1111-4111-8111-111111111111",
    name="Atelier Lumière SARL",
    vat_id="FR40303265045",
    address=PostalAddress(line1="12 rue des Écoles", city="Paris", postcode="75005", country="FR"),
    email="factures@atelier-lumiere.example",
    locale="fr",
)
BUYER = Party(
    company_id="22222222-2222-4222-8222-222222222222",
    name="Brasserie Dupont & Fils SA",
    vat_id="BE0123456749",
    address=PostalAddress(line1="Rue de la Loi 200", city="Bruxelles", postcode="1040", country="BE"),
    email="comptabilite@dupont.example",
    locale="fr",
)

IRISH_BUYER = Party(
    company_id="44444444-4444-4444-8444-444444444444",
    name="Harbour Lights Hospitality Ltd",
    vat_id="IE6388047V",
    address=PostalAddress(line1="14 Sir John Rogerson's Quay", city="Dublin", postcode="D02 X576", country="IE"),
    email="accounts@harbourlights.example",
    locale="en",
)

# (description, quantity, unit code, unit price, VAT category, VAT rate)
LineSpec = tuple[str, str, str, str, str, str]
STANDARD_LINES: list[LineSpec] = [
    ("Lampe de bureau « Éclipse », laiton brossé, finition mate", "4", "C62", "189.00", "S", "20"),
    ("Installation et réglage sur site (forfait horaire)", "2.5", "HUR", "85.00", "S", "20"),
    ("Livre « L'art de la lumière », édition reliée", "3", "C62", "32.00", "S", "5.5"),
]
REVERSE_CHARGE_LINES: list[LineSpec] = [
    ("Étude d'éclairage d'un restaurant (prestation de services)", "1", "C62", "1800.00", "AE", "0"),
    ("Suivi de chantier à distance", "6", "HUR", "95.00", "AE", "0"),
]


def build_invoice(
    lines: list[LineSpec],
    *,
    number: str = "F2025-000123",
    type_code: str = "380",
    seller: Party = SELLER,
    buyer: Party = BUYER,
    note: str | None = "Merci pour votre confiance.",
    purchase_order: str | None = "PO-7781",
) -> InvoiceDocument:
    """An InvoiceDocument whose line nets, VAT breakdown and totals add up (EN 16931 rules)."""
    items = []
    groups: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for i, (text, qty, unit, price, category, rate) in enumerate(lines, start=1):
        net = (Decimal(qty) * Decimal(price)).quantize(CENT, ROUND_HALF_UP)
        items.append(
            InvoiceLine(
                line_id=str(i),
                description=text,
                quantity=Decimal(qty),
                unit_code=unit,
                unit_price=Decimal(price),
                net_amount=net,
                vat_category=category,
                vat_rate=Decimal(rate),
            )
        )
        groups[(category, Decimal(rate))] += net
    breakdown = [
        VatBreakdown(
            category=category,
            rate=rate,
            taxable_amount=base,
            tax_amount=(base * rate / 100).quantize(CENT, ROUND_HALF_UP),
        )
        for (category, rate), base in groups.items()
    ]
    line_total = sum((item.net_amount for item in items), Decimal(0))
    tax_total = sum((row.tax_amount for row in breakdown), Decimal(0))
    return InvoiceDocument(
        invoice_id="0b7c1c52-3f0e-4a57-9d51-3b1f3c0de001",
        number=number,
        type_code=type_code,
        issue_date=date(2025, 1, 15),
        due_date=date(2025, 2, 14),
        currency="EUR",
        seller=seller,
        buyer=buyer,
        lines=items,
        vat_breakdown=breakdown,
        totals=InvoiceTotals(
            line_total=line_total,
            tax_exclusive=line_total,
            tax_total=tax_total,
            tax_inclusive=line_total + tax_total,
            payable=line_total + tax_total,
        ),
        purchase_order=purchase_order,
        note=note,
    )


def standard_invoice() -> InvoiceDocument:
    """A French seller invoicing a Belgian buyer: two lines at 20 %, one at 5.5 %."""
    return build_invoice(STANDARD_LINES)


def reverse_charge_invoice() -> InvoiceDocument:
    """Services to a Belgian business under reverse charge (category AE, 0 %)."""
    return build_invoice(REVERSE_CHARGE_LINES, number="F2025-000124", note=None)


ENGLISH_LINES: list[LineSpec] = [
    ("Lighting design study for the Quay Street restaurant (services)", "1", "C62", "1800.00", "AE", "0"),
    ("Remote supervision of the installation works", "6", "HUR", "95.00", "AE", "0"),
    ("Design review workshop with the architects, half day", "1", "C62", "420.00", "AE", "0"),
]


def english_invoice() -> InvoiceDocument:
    """Services to an Irish business that reads English, under reverse charge."""
    return build_invoice(
        ENGLISH_LINES,
        number="F2025-000126",
        buyer=IRISH_BUYER,
        note="Thank you for your business.",
        purchase_order="HL-PO-2291",
    )


def long_invoice(count: int = 60) -> InvoiceDocument:
    """Many lines, to exercise page breaks."""
    lines = [
        (f"Article de catalogue n° {i:03d}, conditionnement standard", "2", "C62", "12.50", "S", "20")
        for i in range(1, count + 1)
    ]
    return build_invoice(lines, number="F2025-000125")
