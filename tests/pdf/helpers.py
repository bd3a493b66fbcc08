"""Reading rendered PDFs back: text (poppler's pdftotext), fonts and metadata (pypdf)."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject

PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"


def pdf_text(pdf: bytes, *, layout: bool = True) -> str:
    """The text poppler extracts, pages separated by form feeds."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        command = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def flat(text: str) -> str:
    """Spaces of every kind (U+202F, U+00A0, layout runs) as one space, for phrase tests;
    none before a comma (pdftotext adds one after a change of font)."""
    return re.sub(r"[ \t\u00a0\u202f]+", " ", text).replace(" ,", ",")


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _fonts_of(resources: Any, found: list[tuple[str, bool]], seen: set[int]) -> None:
    if not isinstance(resources, DictionaryObject):
        return
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        descendants = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
        for described in descendants:
            descriptor = (described.get("/FontDescriptor") or DictionaryObject()).get_object()
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2",
                                                         "/FontFile3"))
            found.append((str(described.get("/BaseFont") or font.get("/BaseFont")), embedded))
    for xobject in (resources.get("/XObject") or {}).values():
        if id(xobject.get_object()) in seen:
            continue
        seen.add(id(xobject.get_object()))
        inner = xobject.get_object().get("/Resources")
        if inner is not None:
            _fonts_of(inner.get_object(), found, seen)


def fonts(pdf: bytes) -> list[tuple[str, bool]]:
    """(BaseFont, embedded) of every font of every page, forms (XObjects) included."""
    found: list[tuple[str, bool]] = []
    seen: set[int] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page.get("/Resources")
        if resources is not None:
            _fonts_of(resources.get_object(), found, seen)
    return found


def pdfa_identification(pdf: bytes) -> dict[str, str]:
    """``pdfaid:part`` and ``pdfaid:conformance`` from the XMP metadata."""
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    result: dict[str, str] = {}
    for element in ET.fromstring(xmp).iter():  # noqa: S314 (our own PDF, not untrusted)
        for key in ("part", "conformance"):
            if PDFAID + key in element.attrib:
                result[key] = element.attrib[PDFAID + key]
            if element.tag == PDFAID + key and element.text:
                result[key] = element.text.strip()
    return result


def catalog(pdf: bytes) -> DictionaryObject:
    return PdfReader(io.BytesIO(pdf)).trailer["/Root"]


def title(pdf: bytes) -> str | None:
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    return metadata.title if metadata else None


def page_images(pdf: bytes, folder: Path, *, dpi: int = 200, first: int = 1,
                last: int = 1) -> list[Path]:
    """Pages rendered to PNG by poppler (``pdftoppm``)."""
    source = folder / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(first), "-l", str(last),
                    str(source), str(folder / "page")], check=True, capture_output=True)
    return sorted(folder.glob("page-*.png"))


def figure_alts(pdf: bytes) -> list[str]:
    """The alternative text of every figure of the tagged PDF's structure tree."""
    alts: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if not isinstance(node, DictionaryObject):
            return
        if node.get("/S") == "/Figure" and node.get("/Alt"):
            alts.append(str(node["/Alt"]))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            walk(kid)

    walk(PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/StructTreeRoot"])
    return alts


# --- glyphs: which characters print as an empty box -------------------------------------------

_HEX = r"<([0-9a-fA-F]+)>"


def _cmap_pairs(data: str, kind: str) -> list[tuple[int, int, str]]:
    """(first code, last code, target) of every ``begin<kind>char`` / ``begin<kind>range``
    entry of a CMap; the target is a decimal CID (``cid``) or hex UTF-16 (``bf``)."""
    found = []
    for block in re.findall(rf"begin{kind}char(.*?)end{kind}char", data, re.S):
        for code, target in re.findall(rf"{_HEX}\s*(<[0-9a-fA-F]+>|\d+)", block):
            found.append((int(code, 16), int(code, 16), target))
    for block in re.findall(rf"begin{kind}range(.*?)end{kind}range", data, re.S):
        for first, last, target in re.findall(rf"{_HEX}\s*{_HEX}\s*(<[0-9a-fA-F]+>|\d+)", block):
            found.append((int(first, 16), int(last, 16), target))
    return found


def _utf16(hex_text: str, offset: int = 0) -> str:
    raw = bytearray(bytes.fromhex(hex_text.strip("<>")))
    raw[-1] += offset  # a bfrange counts up from its first target
    return raw.decode("utf-16-be")


def _glyph_zero_characters(font: DictionaryObject) -> str:
    """The characters a Type 0 font draws with glyph 0 (.notdef, an empty box)."""
    if font.get("/Subtype") != "/Type0" or "/ToUnicode" not in font:
        return ""
    to_unicode: dict[int, str] = {}
    for first, last, target in _cmap_pairs(font["/ToUnicode"].get_object().get_data()
                                           .decode("latin-1"), "bf"):
        for code in range(first, last + 1):
            to_unicode[code] = _utf16(target, code - first)
    encoding = font["/Encoding"].get_object()
    if isinstance(encoding, DictionaryObject):  # an embedded CMap: code -> CID
        cids = {}
        for first, last, target in _cmap_pairs(encoding.get_data().decode("latin-1"), "cid"):
            for code in range(first, last + 1):
                cids[code] = int(target) + code - first
    else:  # /Identity-H: the code is the CID
        cids = {code: code for code in to_unicode}
    descendant = font["/DescendantFonts"][0].get_object()
    cid_to_gid = descendant.get("/CIDToGIDMap", "/Identity")
    gids = None if not hasattr(cid_to_gid, "get_object") or \
        not isinstance(cid_to_gid.get_object(), DictionaryObject) \
        else cid_to_gid.get_object().get_data()

    def gid(cid: int) -> int:
        if gids is None:
            return cid
        return int.from_bytes(gids[2 * cid:2 * cid + 2], "big") if 2 * cid + 2 <= len(gids) \
            else 0

    return "".join(text for code, text in sorted(to_unicode.items())
                   if gid(cids.get(code, code)) == 0)


def notdef_characters(pdf: bytes) -> str:
    """Every character of the document drawn with no glyph (.notdef), e.g. Arabic letters
    when no font of the document covers Arabic. Empty when every character has a glyph."""
    found: list[str] = []
    seen: set[int] = set()

    def visit(resources: Any) -> None:
        if not isinstance(resources, DictionaryObject):
            return
        for font in (resources.get("/Font") or {}).values():
            if id(font.get_object()) not in seen:
                seen.add(id(font.get_object()))
                found.append(_glyph_zero_characters(font.get_object()))
        for xobject in (resources.get("/XObject") or {}).values():
            inner = xobject.get_object().get("/Resources")
            if inner is not None and id(xobject.get_object()) not in seen:
                seen.add(id(xobject.get_object()))
                visit(inner.get_object())

    for page in PdfReader(io.BytesIO(pdf)).pages:
        if page.get("/Resources") is not None:
            visit(page["/Resources"].get_object())
    return "".join(found)


def without_bidi_controls(text: str) -> str:
    """pdftotext wraps right-to-left runs in embedding marks (U+202A–U+202E)."""
    return re.sub("[\u202a-\u202e\u200e\u200f]", "", text)
