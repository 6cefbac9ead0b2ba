"""Render an InvoiceDocument as a readable A4 PDF/A-3b page set in the recipient's language."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fpdf import FPDF

from contracts.v1.invoicing import InvoiceDocument, Party
from signing.documents import labels as lx
from signing.documents.fonts import FAMILY, SharedFontOutputProducer, install_fonts, shared_fonts
from signing.documents.labels import Locale

PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT = 15.0, 195.0
BOTTOM = 277.0  # below this only the footer is drawn
LINE = 4.4  # mm per line of 9 pt text
_PT_TO_MM = 25.4 / 72
_MUTED, _RULE, _SHADE = 105, 200, 238

# (label key, width in mm, alignment) of the lines table; widths add up to RIGHT - LEFT.
COLUMNS = (
    ("description", 84.0, "L"),
    ("quantity", 14.0, "R"),
    ("unit", 14.0, "L"),
    ("unit_price", 26.0, "R"),
    ("vat_rate", 14.0, "R"),
    ("net", 28.0, "R"),
)
_LANGS = {"fr": "fr-FR", "en": "en-GB"}


class _Page:
    """A thin layer over FPDF: fast text metrics from the shared font, aligned text, wrapping."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self._fonts = {style: shared_fonts()[FAMILY + style].ttf for style in ("", "B")}
        self._style, self._size = "", 9.0

    def font(self, style: str = "", size: float = 9.0, grey: int = 0) -> None:
        self._style, self._size = style, size
        self.pdf.set_font(FAMILY, style, size)
        self.pdf.set_text_color(grey)

    def clean(self, text: str) -> str:
        # Glyphs outside the embedded subset would be dropped silently by fpdf2; show "?".
        chars = self._fonts[self._style].chars
        text = " ".join(text.split())
        if chars.issuperset(text):
            return text
        return "".join(c if c in chars else "?" for c in text)

    def width(self, text: str) -> float:
        # Sums advance widths directly: fpdf2's get_string_width costs ~12 µs per call.
        widths = self._fonts[self._style].widths
        return sum(map(widths.__getitem__, text)) * self._size * _PT_TO_MM / 1000

    def text(self, x: float, y: float, text: str, align: str = "L", w: float = 0.0) -> None:
        text = self.clean(text)
        if align == "R":
            x = x + w - self.width(text)
        elif align == "C":
            x = x + (w - self.width(text)) / 2
        self.pdf.text(x, y, text)

    def wrap(self, text: str, w: float) -> list[str]:
        lines: list[str] = []
        current = ""
        for word in self.clean(text).split(" "):
            candidate = f"{current} {word}" if current else word
            if self.width(candidate) <= w:
                current = candidate
                continue
            if current:
                lines.append(current)
            # A word wider than the column (a reference, an IBAN) is cut rather than overflow.
            while self.width(word) > w and len(word) > 1:
                cut = next(i for i in range(len(word), 0, -1) if self.width(word[:i]) <= w or i == 1)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        return [*lines, current] if current or not lines else lines

    def rule(self, y: float, x1: float = LEFT, x2: float = RIGHT, grey: int = _RULE) -> None:
        self.pdf.set_draw_color(grey)
        self.pdf.line(x1, y, x2, y)

    def shade(self, x: float, y: float, w: float, h: float) -> None:
        self.pdf.set_fill_color(_SHADE)
        self.pdf.rect(x, y, w, h, style="F")


def _party_lines(locale: Locale, party: Party) -> list[str]:
    address = party.address
    rows = [address.line1, lx.town_line(address.postcode, address.city, address.country)]
    if party.vat_id:
        rows.append(f"{lx.label(locale, 'vat_id')} {party.vat_id}")
    if party.email:
        rows.append(str(party.email))
    return rows


def _header(page: _Page, doc: InvoiceDocument, locale: Locale) -> float:
    page.font("B", 12)
    y = 17.0
    for row in page.wrap(doc.seller.name, 95):
        y += 5
        page.text(LEFT, y, row)
    page.font("", 9)
    for row in _party_lines(locale, doc.seller):
        y += LINE
        page.text(LEFT, y, row)

    page.font("B", 20)
    page.text(120, 23, lx.label(locale, doc.type_code).upper(), "R", RIGHT - 120)
    meta = [("number", doc.number), ("issue_date", lx.format_date(locale, doc.issue_date))]
    if doc.due_date:
        meta.append(("due_date", lx.format_date(locale, doc.due_date)))
    if doc.purchase_order:
        meta.append(("purchase_order", doc.purchase_order))
    my = 30.0
    for key, value in meta:
        page.font("", 9, _MUTED)
        page.text(120, my, lx.label(locale, key))
        page.font("B" if key == "number" else "", 9)
        page.text(150, my, value, "R", RIGHT - 150)
        my += LINE

    by = max(y, my) + 8
    box_top = by - 4.5
    page.font("", 8, _MUTED)
    page.text(115, by, lx.label(locale, "buyer"))
    page.font("B", 11)
    by += 1
    for row in page.wrap(doc.buyer.name, RIGHT - 118):
        by += 5
        page.text(115, by, row)
    page.font("", 9)
    for row in _party_lines(locale, doc.buyer):
        by += LINE
        page.text(115, by, row)
    page.pdf.set_draw_color(_RULE)
    page.pdf.rect(112, box_top, RIGHT - 112, by + 3 - box_top)
    return by + 12


def _table_header(page: _Page, locale: Locale, y: float) -> float:
    page.shade(LEFT, y, RIGHT - LEFT, 6.5)
    page.font("B", 8)
    x = LEFT
    for key, w, align in COLUMNS:
        page.text(x + 1.2, y + 4.4, lx.label(locale, key), align, w - 2.4)
        x += w
    return y + 6.5


def _lines(page: _Page, doc: InvoiceDocument, locale: Locale, y: float) -> float:
    y = _table_header(page, locale, y)
    desc_w = COLUMNS[0][1] - 2.4
    for line in doc.lines:
        page.font("", 9)
        desc = page.wrap(line.description, desc_w)
        height = LINE * len(desc) + 2.2
        if y + height > BOTTOM:
            page.pdf.add_page()
            y = _table_header(page, locale, 20.0)
            page.font("", 9)
        cells = (
            lx.format_number(locale, line.quantity),
            lx.unit_name(locale, line.unit_code),
            lx.format_amount(locale, line.unit_price, doc.currency),
            lx.format_rate(locale, line.vat_rate),
            lx.format_amount(locale, line.net_amount, doc.currency),
        )
        base = y + 4.6
        for i, row in enumerate(desc):
            page.text(LEFT + 1.2, base + i * LINE, row)
        x = LEFT + COLUMNS[0][1]
        for (_, w, align), value in zip(COLUMNS[1:], cells, strict=True):
            page.text(x + 1.2, base, value, align, w - 2.4)
            x += w
        y += height
        page.rule(y)
    return y


def _vat_and_totals(page: _Page, doc: InvoiceDocument, locale: Locale, y: float) -> float:
    cur = doc.currency
    page.font("", 9)
    vat_rows = []
    for row in doc.vat_breakdown:
        text = lx.format_rate(locale, row.rate)
        if row.category in lx.EXEMPT_CATEGORIES or row.category == "Z":
            text = f"{text} · {lx.VAT_CATEGORY_TEXT[locale][row.category]}"
        vat_rows.append((page.wrap(text, 58), row.taxable_amount, row.tax_amount))
    needed = 8 + sum(LINE * len(r[0]) + 1.5 for r in vat_rows)
    if y + 6 + max(needed, 32) > BOTTOM:
        page.pdf.add_page()
        y = 20.0
    y += 6
    top = y
    page.font("B", 8)
    page.shade(LEFT, y, 100, 6.5)
    page.text(LEFT + 1.2, y + 4.4, lx.label(locale, "vat_breakdown"))
    page.text(LEFT + 60, y + 4.4, lx.label(locale, "taxable"), "R", 20)
    page.text(LEFT + 80, y + 4.4, lx.label(locale, "tax"), "R", 18.8)
    y += 6.5
    page.font("", 9)
    for wrapped, taxable, tax in vat_rows:
        for i, row in enumerate(wrapped):
            page.text(LEFT + 1.2, y + 4.4 + i * LINE, row)
        page.text(LEFT + 60, y + 4.4, lx.format_amount(locale, taxable, cur), "R", 20)
        page.text(LEFT + 80, y + 4.4, lx.format_amount(locale, tax, cur), "R", 18.8)
        y += LINE * len(wrapped) + 1.5
        page.rule(y, LEFT, LEFT + 100)

    totals = doc.totals
    rows: list[tuple[str, Decimal]] = []
    if totals.line_total != totals.tax_exclusive:
        rows.append(("line_total", totals.line_total))
    rows += [
        ("tax_exclusive", totals.tax_exclusive),
        ("tax_total", totals.tax_total),
        ("tax_inclusive", totals.tax_inclusive),
    ]
    ty = top
    for key, amount in rows:
        page.font("", 9)
        page.text(125, ty + 4.4, lx.label(locale, key))
        page.text(160, ty + 4.4, lx.format_amount(locale, amount, cur), "R", RIGHT - 161.2)
        ty += 6
    page.shade(123, ty, RIGHT - 123, 8)
    page.font("B", 10.5)
    page.text(125, ty + 5.5, lx.label(locale, "payable"))
    page.text(160, ty + 5.5, lx.format_amount(locale, totals.payable, cur), "R", RIGHT - 161.2)
    return max(y, ty + 8)


def _closing(page: _Page, doc: InvoiceDocument, locale: Locale, y: float) -> None:
    paragraphs: list[tuple[str, str]] = []
    mentions = {
        lx.vat_mention(locale, row.category, row.exemption_reason): None
        for row in doc.vat_breakdown
        if row.category in lx.EXEMPT_CATEGORIES
    }
    paragraphs += [("B", mention) for mention in mentions]
    if doc.due_date:
        due = lx.format_date(locale, doc.due_date)
        paragraphs.append(("B", lx.label(locale, "pay_by").format(date=due)))
    if doc.note:
        paragraphs.append(("", lx.label(locale, "note").format(note=doc.note)))
    y += 8
    for style, text in paragraphs:
        page.font(style, 9)
        for row in page.wrap(text, RIGHT - LEFT):
            if y > BOTTOM:
                page.pdf.add_page()
                page.font(style, 9)
                y = 20.0
            page.text(LEFT, y, row)
            y += LINE
        y += 2


def _footers(page: _Page, doc: InvoiceDocument, locale: Locale) -> None:
    pdf = page.pdf
    pages = pdf.pages_count
    reference = f"{lx.label(locale, doc.type_code)} {doc.number} · {doc.seller.name}"
    for number in range(1, pages + 1):
        # Written after the body so "n/N" is known; the page's text state must be reset.
        pdf.page = number
        pdf.current_font_is_set_on_page = False
        page.font("", 7.5, _MUTED)
        page.rule(PAGE_H - 16, grey=_RULE)
        page.text(LEFT, PAGE_H - 12, reference)
        page_label = lx.label(locale, "page").format(page=number, pages=pages)
        page.text(150, PAGE_H - 12, page_label, "R", RIGHT - 150)


def render_invoice(
    doc: InvoiceDocument,
    locale: Locale,
    *,
    before_output: Callable[[FPDF], None] | None = None,
) -> bytes:
    """Render `doc` for a reader of `locale` as PDF/A-3b bytes.

    `before_output` may add attachments and metadata (the Factur-X step does) before the
    file is written, so the document is produced in one pass.
    """
    pdf = FPDF(unit="mm", format="A4", enforce_compliance="PDF/A-3B")
    install_fonts(pdf)
    pdf.set_auto_page_break(False)
    pdf.set_margins(LEFT, 15, PAGE_W - RIGHT)
    title = f"{lx.label(locale, doc.type_code)} {doc.number}"
    pdf.set_title(title)
    pdf.set_author(doc.seller.name)
    pdf.set_subject(f"{title}, {doc.seller.name} → {doc.buyer.name}")
    pdf.set_creator("Factora")
    pdf.set_lang(_LANGS[locale])
    pdf.set_line_width(0.2)
    pdf.add_page()
    page = _Page(pdf)
    y = _header(page, doc, locale)
    y = _lines(page, doc, locale, y)
    y = _vat_and_totals(page, doc, locale, y)
    _closing(page, doc, locale, y)
    _footers(page, doc, locale)
    if before_output is not None:
        before_output(pdf)
    return bytes(pdf.output(output_producer_class=SharedFontOutputProducer))
