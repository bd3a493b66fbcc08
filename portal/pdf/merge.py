"""Stored PDFs put end to end for printing, keeping what makes them accessible.

A plain page copy (``PdfWriter.append``) drops the structure tree, the title and the
language: a screen reader then finds an untagged document. Here the pages are copied
unchanged (what is printed is what is stored and verified) and each part's ``Document``
structure element is copied under a new ``StructTreeRoot``, with its ParentTree entries
renumbered (the pages' ``/StructParents``, the annotations' ``/StructParent``) and its element
IDs prefixed so that two parts never share one. The catalogue gets the language, a title shown
by viewers, ``MarkInfo``, the first part's output intent and its XMP metadata (PDF/A
identification) with the new title.
"""

from __future__ import annotations

import re
from io import BytesIO
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

_N = NameObject


def merge_pdfs(parts: list[bytes], *, title: str, lang: str = "fr") -> bytes:
    """One tagged PDF of ``parts`` (tagged PDFs), page after page."""
    writer = PdfWriter()
    writer.pdf_header = b"%PDF-1.7"
    root = DictionaryObject({_N("/Type"): _N("/StructTreeRoot")})
    root_ref = writer._add_object(root)
    documents = ArrayObject()
    nums = ArrayObject()
    role_map = DictionaryObject()
    first: PdfReader | None = None
    for index, part in enumerate(parts):
        reader = PdfReader(BytesIO(part))
        first = first or reader
        _Part(writer, reader, f"p{index + 1}-", root_ref, documents, nums).copy()
        tree = reader.trailer["/Root"].get("/StructTreeRoot")
        roles = tree.get_object().get("/RoleMap") if tree is not None else None
        if roles is not None:
            for key, value in roles.get_object().items():
                role_map[_N(key)] = _N(value)
    root[_N("/K")] = documents
    root[_N("/ParentTree")] = writer._add_object(DictionaryObject({_N("/Nums"): nums}))
    root[_N("/ParentTreeNextKey")] = NumberObject(len(nums) // 2)
    if role_map:
        root[_N("/RoleMap")] = role_map
    catalog = writer._root_object
    catalog[_N("/StructTreeRoot")] = root_ref
    catalog[_N("/MarkInfo")] = DictionaryObject({_N("/Marked"): BooleanObject(True)})
    catalog[_N("/Lang")] = TextStringObject(lang)
    catalog[_N("/ViewerPreferences")] = DictionaryObject(
        {_N("/DisplayDocTitle"): BooleanObject(True)})
    producer = ""
    if first is not None:
        source = first.trailer["/Root"]
        if "/OutputIntents" in source:
            catalog[_N("/OutputIntents")] = source["/OutputIntents"].clone(writer)
        if "/Metadata" in source:
            xmp = _retitled(source["/Metadata"].get_object().get_data().decode(), title)
            stream = DecodedStreamObject()
            stream.set_data(xmp.encode())
            stream[_N("/Type")] = _N("/Metadata")
            stream[_N("/Subtype")] = _N("/XML")
            catalog[_N("/Metadata")] = writer._add_object(stream)
        producer = str((first.metadata or {}).get("/Producer", ""))
    writer.add_metadata({"/Title": title, **({"/Producer": producer} if producer else {})})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _retitled(xmp: str, title: str) -> str:
    """The XMP packet with ``dc:title`` (and ``dc:description``) set to ``title``."""
    for tag in ("dc:title", "dc:description"):
        xmp = re.sub(rf"(<{tag}>\s*<rdf:Alt>\s*<rdf:li[^>]*>).*?(</rdf:li>)",
                     lambda match: match.group(1) + escape(title) + match.group(2), xmp,
                     flags=re.S)
    return xmp


class _Part:
    """Copies one part's pages and structure tree into the writer."""

    def __init__(self, writer: PdfWriter, reader: PdfReader, prefix: str,
                 root_ref: IndirectObject, documents: ArrayObject, nums: ArrayObject) -> None:
        self.writer, self.reader, self.prefix = writer, reader, prefix
        self.root_ref, self.documents, self.nums = root_ref, documents, nums
        #: object number in the part -> reference in the writer (pages, annotations,
        #: structure elements already copied).
        self.copied: dict[int, IndirectObject] = {}

    def copy(self) -> None:
        old_tree = self.reader.trailer["/Root"].get("/StructTreeRoot")
        parent_tree = _number_tree(old_tree.get_object().get("/ParentTree")) \
            if old_tree is not None else {}
        new_pages = []
        for page in self.reader.pages:
            new_page = self.writer.add_page(page)
            self.copied[page.indirect_reference.idnum] = new_page.indirect_reference
            for old, new in zip(_annotations(page), _annotations(new_page), strict=True):
                if isinstance(old, IndirectObject) and isinstance(new, IndirectObject):
                    self.copied[old.idnum] = new
            new_pages.append((page, new_page))
        if old_tree is None:
            return
        kids = old_tree.get_object().get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            self.documents.append(self._element(kid, self.root_ref))
        for page, new_page in new_pages:
            key = page.get("/StructParents")
            if key is not None and int(key) in parent_tree:
                new_page[_N("/StructParents")] = self._entry(parent_tree[int(key)])
            for old, new in zip(_annotations(page), _annotations(new_page), strict=True):
                key = old.get_object().get("/StructParent")
                if key is not None and int(key) in parent_tree:
                    new.get_object()[_N("/StructParent")] = self._entry(parent_tree[int(key)])

    def _entry(self, value: PdfObject) -> NumberObject:
        """Add a ParentTree entry (an element, or an array of them by MCID); its new key."""
        key = len(self.nums) // 2
        value = value.get_object() if isinstance(value, IndirectObject) and \
            isinstance(value.get_object(), ArrayObject) else value
        if isinstance(value, ArrayObject):
            mapped: PdfObject = ArrayObject(self._ref(item) for item in value)
        else:
            mapped = self._ref(value)
        self.nums.extend([NumberObject(key), mapped])
        return NumberObject(key)

    def _ref(self, item: PdfObject) -> PdfObject:
        if isinstance(item, IndirectObject) and item.idnum in self.copied:
            return self.copied[item.idnum]
        return NullObject()

    def _element(self, node: PdfObject, parent: IndirectObject) -> PdfObject:
        """A copy of a structure element (or marked-content / object reference)."""
        if isinstance(node, NumberObject | int):
            return NumberObject(int(node))
        source = node.get_object()
        if not isinstance(source, DictionaryObject):
            return NumberObject(0) if source is None else source.clone(self.writer)
        if source.get("/Type") in ("/MCR", "/OBJR"):
            copy = DictionaryObject({_N(k): self._value(k, v) for k, v in source.items()})
            return self.writer._add_object(copy) if isinstance(node, IndirectObject) else copy
        element = DictionaryObject()
        ref = self.writer._add_object(element)
        if isinstance(node, IndirectObject):
            self.copied[node.idnum] = ref
        for key, value in source.items():
            if key == "/P":
                element[_N("/P")] = parent
            elif key == "/K":
                kids = value.get_object()
                element[_N("/K")] = ArrayObject(self._element(kid, ref) for kid in kids) \
                    if isinstance(kids, ArrayObject) else self._element(value, ref)
            else:
                element[_N(key)] = self._value(key, value)
        return ref

    def _value(self, key: str, value: PdfObject) -> PdfObject:
        if key in ("/Pg", "/Obj") and isinstance(value, IndirectObject):
            return self._ref(value)
        if key == "/ID":
            return TextStringObject(self.prefix + str(value))
        if key == "/A":
            return self._attributes(value.get_object())
        return value.get_object().clone(self.writer) if isinstance(value, IndirectObject) \
            else value.clone(self.writer)

    def _attributes(self, value: PdfObject) -> PdfObject:
        if isinstance(value, ArrayObject):
            return ArrayObject(self._attributes(item.get_object()) for item in value)
        if not isinstance(value, DictionaryObject):
            return value.clone(self.writer)
        copy = DictionaryObject()
        for key, item in value.items():
            if key == "/Headers":
                copy[_N(key)] = ArrayObject(TextStringObject(self.prefix + str(header))
                                            for header in item.get_object())
            else:
                copy[_N(key)] = item.clone(self.writer)
        return copy


def _annotations(page: DictionaryObject) -> list[PdfObject]:
    annotations = page.get("/Annots")
    return list(annotations.get_object()) if annotations is not None else []


def _number_tree(node: PdfObject | None) -> dict[int, PdfObject]:
    """The entries of a number tree (``/Nums`` pairs, through ``/Kids``)."""
    entries: dict[int, PdfObject] = {}
    if node is None:
        return entries
    node = node.get_object()
    nums = node.get("/Nums") or []
    for index in range(0, len(nums) - 1, 2):
        entries[int(nums[index])] = nums[index + 1]
    for kid in node.get("/Kids") or []:
        entries.update(_number_tree(kid))
    return entries
