"""Two repairs to the tagged PDF of WeasyPrint 70.0 (pinned), installed in the render worker.

1. Running headers and footers (``@page`` margin boxes: issuer, number, "Page 1 / 2") must be
   *artifacts*, which screen readers skip: the same words are in the document's own text.
   WeasyPrint 70.0 marks their text with MCIDs (``pdf/stream.py``, ``Stream.marked``) and
   builds structure elements for them that it leaves out of the tree (``pdf/tags.py``,
   ``_build_box_tree``, the ``MarginBox`` branch): the ParentTree points at orphans and some
   readers announce the text, twice. Here their content is written as
   ``/Artifact <</Type /Pagination /Subtype /Header>> BDC … EMC`` (``/Footer`` at the bottom)
   and no structure element is made for it.
2. Table headers: every ``TH`` structure element gets ``/Scope /Column`` or ``/Scope /Row``
   (from the HTML ``scope``), which WeasyPrint 70.0 does not write.

Both replace a WeasyPrint function by a wrapper around it, checked against the code it was
written for (``ADAPTED``): a WeasyPrint upgrade fails the render and
``tests/pdf/test_structure.py`` until this module is looked at again (WeasyPrint may by then
do it itself).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: sha256 of the source of the WeasyPrint functions wrapped here, as in WeasyPrint 70.0.
ADAPTED = {
    "weasyprint.pdf.stream.Stream.marked":
        "3fa3acacbbf66422e7b0de4346b6eaf638657280a0f62c73172e3c445b888692",
    "weasyprint.pdf.tags._build_box_tree":
        "f716251a83e7096e9cae972b63e633aab21c664d200582166dd0d5096780f9c4",
}
#: the attribute set on the boxes of margin boxes: the artifact's subtype ("" for none).
_ARTIFACT = "_portal_pagination_artifact"
_SUBTYPES = {"top": "Header", "bottom": "Footer"}
_SCOPES = {"row": "/Row", "rowgroup": "/Row", "col": "/Column", "colgroup": "/Column"}
_installed = False


def source_digest(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def adapted_functions() -> dict[str, Any]:
    from weasyprint.pdf import stream, tags

    return {"weasyprint.pdf.stream.Stream.marked": stream.Stream.marked,
            "weasyprint.pdf.tags._build_box_tree": tags._build_box_tree}


def install() -> None:
    """Wrap WeasyPrint's functions (once per process), after checking they are the ones
    this module was written for."""
    global _installed
    if _installed:
        return
    import pydyf
    from weasyprint.formatting_structure import boxes
    from weasyprint.pdf import stream, tags

    changed = [name for name, function in adapted_functions().items()
               if source_digest(function) != ADAPTED[name]]
    if changed:
        raise RuntimeError(f"WeasyPrint changed {', '.join(changed)}: check portal/pdf/"
                           "tagging.py against the new version before updating ADAPTED")

    marked = stream.Stream.marked
    build_box_tree = tags._build_box_tree

    @contextmanager
    def marked_or_artifact(self: Any, box: Any, tag: str) -> Iterator[None]:
        subtype = getattr(box, _ARTIFACT, None)
        if subtype is None or self._tags is None:
            with marked(self, box, tag):
                yield
            return
        properties = {"Type": "/Pagination", **({"Subtype": f"/{subtype}"} if subtype else {})}
        self.begin_marked_content("Artifact", pydyf.Dictionary(properties))
        try:
            yield
        finally:
            self.end_marked_content()

    def build_without_artifacts(box: Any, parent: Any, *args: Any) -> Iterator[Any]:
        if isinstance(box, boxes.MarginBox):
            return  # its content is artifacts: no structure element, no MCID
        for element in build_box_tree(box, parent, *args):
            real = getattr(box, "_box", box)
            if element.get("S") == "/TH" and getattr(real, "element_tag", None) == "th":
                scope = (real.element.attrib.get("scope") or "col").lower()
                element["A"]["Scope"] = _SCOPES.get(scope, "/Column")
            yield element

    stream.Stream.marked = marked_or_artifact
    tags._build_box_tree = build_without_artifacts
    _installed = True


def mark_margin_boxes(document: Any) -> None:
    """Flag every box drawn in the page margins of a laid-out document as an artifact."""
    from weasyprint.formatting_structure import boxes

    for page in document.pages:
        for margin in page._page_box.children:
            if not isinstance(margin, boxes.MarginBox):
                continue
            subtype = _SUBTYPES.get(margin.at_keyword.split("-")[0].lstrip("@"), "")
            for box in margin.descendants(placeholders=True):
                setattr(box, _ARTIFACT, subtype)
