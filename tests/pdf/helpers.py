"""Reading rendered PDFs back: text (poppler's pdftotext), fonts and metadata (pypdf)."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject, NameObject

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


# --- tagged PDF: structure, artifacts, title, language -----------------------------------------

_SHOWS_TEXT = {b"Tj", b"TJ", b"'", b'"'}


def _to_unicode(font: DictionaryObject) -> dict[int, str]:
    if "/ToUnicode" not in font:
        return {}
    table: dict[int, str] = {}
    data = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    for first, last, target in _cmap_pairs(data, "bf"):
        for code in range(first, last + 1):
            table[code] = _utf16(target, code - first)
    return table


def _decode(operands: list[Any], table: dict[int, str]) -> str:
    text = []
    for operand in operands:
        items = operand if isinstance(operand, list) else [operand]
        for item in items:
            if isinstance(item, bytes | str) and not isinstance(item, NameObject):
                raw = item.get_original_bytes() if hasattr(item, "get_original_bytes") \
                    else bytes(item) if isinstance(item, bytes) else item.encode("latin-1")
                text.extend(table.get(int.from_bytes(raw[i:i + 2], "big"), "")
                            for i in range(0, len(raw) - 1, 2))
    return "".join(text)


@dataclass
class MarkedText:
    """Text shown on a page, and what marks it: an MCID (tagged) or an artifact."""

    page: int
    text: str
    mcid: int | None = None
    artifact: dict[str, str] | None = None


def marked_texts(pdf: bytes) -> list[MarkedText]:
    """Every run of text of every page with the marked-content sequence it is in; ``mcid``
    and ``artifact`` are both None for text outside any (untagged text)."""
    found: list[MarkedText] = []
    reader = PdfReader(io.BytesIO(pdf))
    for number, page in enumerate(reader.pages):
        resources = page["/Resources"].get_object()
        fonts_of_page = {name: _to_unicode(font.get_object())
                         for name, font in (resources.get("/Font") or {}).items()}
        table: dict[int, str] = {}
        stack: list[tuple[int | None, dict[str, str] | None]] = []
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator in (b"BDC", b"BMC"):
                tag = str(operands[0])
                properties = operands[1] if operator == b"BDC" else {}
                if isinstance(properties, NameObject):  # in the page's /Properties
                    properties = resources["/Properties"][properties].get_object()
                mcid = properties.get("/MCID") if tag != "/Artifact" else None
                artifact = ({str(k): str(v) for k, v in properties.items()}
                            if tag == "/Artifact" else None)
                parent_mcid, parent_artifact = stack[-1] if stack else (None, None)
                stack.append((int(mcid) if mcid is not None else parent_mcid,
                              artifact if artifact is not None else parent_artifact))
            elif operator == b"EMC":
                stack.pop()
            elif operator == b"Tf":
                table = fonts_of_page.get(operands[0], {})
            elif operator in _SHOWS_TEXT:
                mcid, artifact = stack[-1] if stack else (None, None)
                found.append(MarkedText(number, _decode(operands, table), mcid, artifact))
    return found


def _kids(node: DictionaryObject) -> list[Any]:
    kids = node.get("/K")
    if kids is None:
        return []
    kids = kids.get_object() if hasattr(kids, "get_object") else kids
    return list(kids) if isinstance(kids, list) else [kids]


def structure_elements(pdf: bytes) -> list[DictionaryObject]:
    """Every structure element reachable from the StructTreeRoot, depth first."""
    reader = PdfReader(io.BytesIO(pdf))
    found: list[DictionaryObject] = []

    def walk(node: Any) -> None:
        node = node.get_object()
        if isinstance(node, DictionaryObject) and "/S" in node:
            found.append(node)
            for kid in _kids(node):
                walk(kid)

    for kid in _kids(reader.trailer["/Root"]["/StructTreeRoot"].get_object()):
        walk(kid)
    return found


def element_text(pdf: bytes, element: DictionaryObject) -> str:
    """The text of the marked content a structure element (and its descendants) holds."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages)}
    runs = marked_texts(pdf)
    parts: list[str] = []

    def walk(node: Any, page: int | None) -> None:
        if isinstance(node, int):
            parts.extend(run.text for run in runs if run.page == page and run.mcid == node)
            return
        node = node.get_object()
        if isinstance(node, int):
            walk(int(node), page)
            return
        if not isinstance(node, DictionaryObject):
            return
        if "/Pg" in node:
            page = pages.get(node.get("/Pg").idnum, page)
        if node.get("/Type") == "/MCR":
            walk(int(node["/MCID"]), page)
        for kid in _kids(node):
            walk(kid, page)

    walk(element, None)
    return "".join(parts)


def _number_tree(node: Any) -> dict[int, Any]:
    entries: dict[int, Any] = {}
    node = node.get_object()
    nums = node.get("/Nums") or []
    for index in range(0, len(nums) - 1, 2):
        entries[int(nums[index])] = nums[index + 1]
    for kid in node.get("/Kids") or []:
        entries.update(_number_tree(kid))
    return entries


def accessibility_problems(pdf: bytes, *, lang: str = "fr") -> list[str]:
    """What keeps a PDF from being a tagged, titled document in ``lang`` (empty when none):

    - the catalogue: a StructTreeRoot, MarkInfo Marked, the language, DisplayDocTitle, a title
      (the same in the XMP metadata, when there is one);
    - every piece of text is marked content: tagged (an MCID the ParentTree maps to an element
      reachable from the StructTreeRoot, which holds that MCID) or an artifact; running
      headers and footers are /Pagination artifacts;
    - every annotation's /StructParent leads to an element of the tree;
    - every table header cell (TH) has a /Scope.
    """
    problems: list[str] = []
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    if "/StructTreeRoot" not in root:
        return ["no StructTreeRoot"]
    if not (root.get("/MarkInfo") or {}).get("/Marked"):
        problems.append("MarkInfo /Marked is not true")
    if root.get("/Lang") != lang:
        problems.append(f"/Lang is {root.get('/Lang')!r}, not {lang!r}")
    if not (root.get("/ViewerPreferences") or {}).get("/DisplayDocTitle"):
        problems.append("DisplayDocTitle is not true")
    document_title = (reader.metadata or {}).get("/Title")
    if not document_title or not str(document_title).strip():
        problems.append("no title")
    if "/Metadata" in root:
        xmp = root["/Metadata"].get_object().get_data().decode()
        titles = re.findall(r"<dc:title>\s*<rdf:Alt>\s*<rdf:li[^>]*>(.*?)</rdf:li>", xmp, re.S)
        if titles and unescape(titles[0]) != document_title:
            problems.append(f"XMP title {titles[0]!r} is not {document_title!r}")

    elements = structure_elements(pdf)
    reachable = {id(element): element for element in elements}
    by_ref = {}
    for element in elements:
        if element.indirect_reference is not None:
            by_ref[element.indirect_reference.idnum] = element
    parent_tree = _number_tree(root["/StructTreeRoot"].get_object()["/ParentTree"])

    def holds(element: DictionaryObject, mcid: int) -> bool:
        for kid in _kids(element):
            kid_object = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid_object, int) and int(kid_object) == mcid:
                return True
            if isinstance(kid_object, DictionaryObject) and kid_object.get("/Type") == "/MCR" \
                    and int(kid_object["/MCID"]) == mcid:
                return True
        return False

    runs = marked_texts(pdf)
    for number, page in enumerate(reader.pages):
        mcids = {run.mcid for run in runs if run.page == number and run.mcid is not None}
        key = page.get("/StructParents")
        if mcids and key is None:
            problems.append(f"page {number + 1}: marked content but no /StructParents")
            continue
        entry = parent_tree.get(int(key)) if key is not None else None
        entry = entry.get_object() if entry is not None else None
        for mcid in sorted(mcids):
            target = entry[mcid] if isinstance(entry, list) and mcid < len(entry) else None
            element = by_ref.get(target.idnum) if hasattr(target, "idnum") else None
            if element is None or id(element) not in reachable or not holds(element, mcid):
                problems.append(f"page {number + 1}: MCID {mcid} leads to no element of "
                                "the structure tree")
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            key = annotation.get("/StructParent")
            target = parent_tree.get(int(key)) if key is not None else None
            if not hasattr(target, "idnum") or target.idnum not in by_ref:
                problems.append(f"page {number + 1}: an annotation outside the structure tree")
    for run in runs:
        if run.text.strip() and run.mcid is None and run.artifact is None:
            problems.append(f"page {run.page + 1}: untagged text {run.text!r}")
    for element in elements:
        if element.get("/S") == "/TH":
            attributes = element.get("/A")
            attributes = attributes.get_object() if attributes is not None else {}
            items = attributes if isinstance(attributes, list) else [attributes]
            if not any(item.get_object().get("/Scope") in ("/Column", "/Row", "/Both")
                       for item in items):
                problems.append("a TH without /Scope")
    return problems


def pagination_text(pdf: bytes) -> str:
    """The text of the running headers and footers (/Pagination artifacts), page by page."""
    return "\n".join(run.text for run in marked_texts(pdf)
                     if run.artifact and run.artifact.get("/Type") == "/Pagination")


def tagged_text(pdf: bytes) -> str:
    """The text a screen reader reads: everything the structure tree holds."""
    return "".join(element_text(pdf, element) for element in structure_elements(pdf)
                   if element.get("/S") == "/Document")
