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
