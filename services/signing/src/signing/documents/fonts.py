"""Invoice fonts: parsed once per process, embedded in every PDF from bytes prepared once."""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import PDFFontDescriptor, TTFFont
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont, _cid_font_widths
from fpdf.syntax import Name, PDFArray, PDFContentStream
from fpdf.util import escape_parens

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
FAMILY = "dejavu"
# A fixed subset tag: the embedded program is the same pre-cut subset in every document.
_SUBSET_TAG = "FCTRAA"
_STYLES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


@dataclass(frozen=True)
class _FontStreams:
    """What a font contributes to every PDF, computed once: compressed streams and widths."""

    font_file: bytes
    font_file_length: int
    to_unicode: bytes
    cid_to_gid: bytes
    widths: str


class _Lookup(dict):
    """A dict answering `fallback` for unknown keys, for str.translate and map()."""

    def __init__(self, items: dict, fallback: object) -> None:
        super().__init__(items)
        self.fallback = fallback

    def __missing__(self, key: object) -> object:
        return self.fallback


class FrozenTTFFont(TTFFont):
    """A TTFFont whose glyph codes are fixed once for the process, then shared read-only.

    fpdf2 numbers glyphs in order of first use, so widths, ToUnicode and CIDToGIDMap
    differ per document and the font object is mutated while writing. Picking every
    character once, in code point order, fixes the numbering, so all of that is computed
    once, and text is encoded with one str.translate instead of a Python loop per character.
    """

    __slots__ = ("chars", "encode_table", "widths")

    def freeze(self) -> None:
        for codepoint in sorted(self.cmap):
            self.subset.pick(codepoint)
        codes = {
            glyph.unicode[0]: code
            for glyph, code in self.subset.items()
            if glyph is not None and isinstance(glyph.unicode, tuple) and glyph.unicode
        }
        encoded = {cp: escape_parens(chr(code >> 8) + chr(code & 0xFF)) for cp, code in codes.items()}
        self.encode_table = _Lookup(encoded, encoded[ord("?")])
        self.chars = frozenset(chr(cp) for cp in self.cmap)
        self.widths = _Lookup({chr(cp): self.cw[cp] for cp in self.cmap}, self.desc.missing_width)

    def encode_text(self, text: str) -> str:
        return f"({text.translate(self.encode_table)}) Tj"


@dataclass(frozen=True)
class SharedFont:
    """A frozen font and the PDF streams it contributes to every document."""

    ttf: FrozenTTFFont
    streams: _FontStreams


def _precompressed(data: bytes, **extra: object) -> PDFContentStream:
    """A content stream whose bytes are already Flate-compressed (compression is not per document)."""
    stream = PDFContentStream(b"")
    stream._contents = data
    stream.filter = Name("FlateDecode")
    stream.length = len(data)
    for key, value in extra.items():
        setattr(stream, key, value)
    return stream


def _streams(ttf: TTFFont, font_path: Path) -> _FontStreams:
    items = [(glyph, code) for glyph, code in ttf.subset.items() if glyph is not None]
    bfchar = [
        f"<{code:04X}> <{''.join(f'{u:04X}' for u in glyph.unicode)}>\n"
        for glyph, code in sorted(items, key=lambda item: item[1])
        if isinstance(glyph.unicode, tuple) and glyph.unicode
    ]
    blocks = "".join(
        f"{len(bfchar[i : i + 100])} beginbfchar\n{''.join(bfchar[i : i + 100])}endbfchar\n"
        for i in range(0, len(bfchar), 100)
    )
    to_unicode = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("latin-1")
    max_code = max(code for _, code in items)
    cid_to_gid = bytearray(2 * (max_code + 1))
    for glyph, code in items:
        cid_to_gid[2 * code : 2 * code + 2] = glyph.glyph_id.to_bytes(2, "big")
    program = font_path.read_bytes()
    return _FontStreams(
        font_file=zlib.compress(program, 9),
        font_file_length=len(program),
        to_unicode=zlib.compress(to_unicode, 9),
        cid_to_gid=zlib.compress(bytes(cid_to_gid), 9),
        widths=_cid_font_widths({code: glyph.glyph_width for glyph, code in items}),
    )


_fonts: dict[str, SharedFont] | None = None
_fonts_lock = threading.Lock()


def shared_fonts() -> dict[str, SharedFont]:
    """The invoice fonts by fpdf2 font key ("dejavu", "dejavuB"), loaded on first use."""
    global _fonts
    if _fonts is None:
        # Locked: documents rendered in threads must all share the same font objects,
        # which the output producer recognises by identity.
        with _fonts_lock:
            if _fonts is None:
                _fonts = _load_fonts()
    return _fonts


def _load_fonts() -> dict[str, SharedFont]:
    # Parsing a TTF with fontTools is what makes fpdf2's add_font slow (~7 ms for these
    # subsets, ~28 ms for a full DejaVu); it is done once, on a scratch document.
    scratch = FPDF()
    fonts: dict[str, SharedFont] = {}
    for style, filename in _STYLES.items():
        path, key = FONT_DIR / filename, FAMILY + style
        ttf = FrozenTTFFont(scratch, path, key, style)
        scratch.fonts[key] = ttf
        ttf.freeze()
        fonts[key] = SharedFont(ttf, _streams(ttf, path))
    return fonts


def install_fonts(pdf: FPDF) -> None:
    """Make the shared invoice fonts available to a new document without parsing them again."""
    for key, font in shared_fonts().items():
        pdf.fonts[key] = font.ttf


class SharedFontOutputProducer(OutputProducer):
    """fpdf2's output producer, embedding the shared fonts from prepared bytes.

    fpdf2 subsets and re-serialises every TrueType font with fontTools on each output
    (~15 ms per font) and mutates the parsed font while doing so, which would also break
    sharing it; the fonts here are pre-cut small subsets, embedded whole instead.
    """

    def _add_fonts(self, image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name):
        shared = {id(f.ttf): f for f in shared_fonts().values()}
        objs: dict[int, PDFFont] = {}
        for ttf in sorted(self.fpdf.fonts.values(), key=lambda f: f.i):
            font = shared.get(id(ttf))
            if font is None:
                raise ValueError(f"font {ttf.fontkey!r} is not one of the shared invoice fonts")
            objs[ttf.i] = self._add_shared_font(font)
        return objs

    def _add_shared_font(self, font: SharedFont) -> PDFFont:
        ttf, streams = font.ttf, font.streams
        fontname = f"{_SUBSET_TAG}+{ttf.name}"
        composite = PDFFont(subtype="Type0", base_font=fontname, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(subtype="CIDFontType2", base_font=fontname, d_w=ttf.desc.missing_width, w=streams.widths)
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])
        to_unicode = _precompressed(streams.to_unicode)
        self._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode
        system_info = CIDSystemInfo()
        self._add_pdf_obj(system_info, "fonts")
        cid_font.c_i_d_system_info = system_info
        # A fresh descriptor per document: fpdf2 stores the object id on it when written.
        d = ttf.desc
        descriptor = PDFFontDescriptor(
            ascent=d.ascent,
            descent=d.descent,
            cap_height=d.cap_height,
            flags=d.flags,
            font_b_box=d.font_b_box,
            italic_angle=d.italic_angle,
            stem_v=d.stem_v,
            missing_width=d.missing_width,
        )
        descriptor.font_name = Name(fontname)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor
        cid_to_gid = _precompressed(streams.cid_to_gid)
        self._add_pdf_obj(cid_to_gid, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_to_gid
        font_file = _precompressed(streams.font_file, length1=streams.font_file_length)
        self._add_pdf_obj(font_file, "fonts")
        descriptor.font_file2 = font_file
        return composite
