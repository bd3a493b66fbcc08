"""From a document's data snapshot to its HTML, then to PDF.

A snapshot is plain JSON data (stored with the document): rendering never reads the
database, so a stored document can be explained, and samples need no database at all.
"""

from __future__ import annotations

import base64
import re
from itertools import groupby
from typing import Any

import segno
from flask import render_template

from portal.models.vocab import DocumentKind
from portal.pdf.render import render_pdf, render_pdf_pages

TEMPLATES = {
    DocumentKind.CERTIFICATE: "pdf/certificate.html",
    DocumentKind.COURSE_CERTIFICATE: "pdf/certificate.html",
    DocumentKind.RECEIPT: "pdf/receipt.html",
    DocumentKind.LOGIN_CARD: "pdf/card.html",
    DocumentKind.ATTENDANCE_SHEET: "pdf/attendance.html",
    DocumentKind.DEPOSIT_SLIP: "pdf/deposit.html",
}


def qr_data_uri(text: str) -> str:
    """A QR code (never a Micro QR) as an SVG data URI for the PDF."""
    return segno.make_qr(text, error="m").svg_data_uri(scale=4, border=2, dark="#000")


#: the mask of certificates' QR codes. Any of the eight is a valid code (ISO/IEC 18004); the
#: automatic choice scores all eight, which took most of a code's time. Pattern 3 is the one
#: that choice takes most often for verification links, and a real decoder reads it back
#: (``tests/pdf/test_documents.py``).
CERTIFICATE_QR_MASK = 3


def certificate_qr_data_uri(text: str) -> str:
    """The verification QR code of a certificate: a PNG of one pixel per module, that
    ``print.css`` scales up without smoothing (``image-rendering: pixelated``), so each
    module stays a sharp square at any resolution. WeasyPrint draws an SVG code by parsing
    its path in Python, a small image at once."""
    return segno.make_qr(text, error="m", mask=CERTIFICATE_QR_MASK).png_data_uri(
        scale=1, border=2)


def image_data_uri(data: bytes | None, mime: str = "image/png") -> str | None:
    if not data:
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def site_images(logo: bytes | None, signature: bytes | None) -> dict[str, str | None]:
    """What a document prints of its site's images (``logo_data_uri`` in the header,
    ``signature_data_uri`` above the signatory): PNGs re-encoded at upload
    (``services/uploads.py``), given to the templates as data URIs."""
    return {"logo_data_uri": image_data_uri(logo), "signature_data_uri": image_data_uri(signature)}


def document_title(snapshot: dict[str, Any]) -> str:
    """The title a PDF viewer shows: ``Reçu de chèques APTIC n° REC-2026-MER-000017``."""
    number = snapshot.get("number")
    return f"{snapshot['doc_title']} n°\u00a0{number}" if number else snapshot["doc_title"]


def html_for(kind: DocumentKind, snapshot: dict[str, Any], **extra: Any) -> str:
    """The document's HTML (autoescaped Jinja), with its QR codes computed from the data."""
    context = {**snapshot, "pdf_title": document_title(snapshot)}
    if snapshot.get("verify_url"):
        context["qr_data_uri"] = certificate_qr_data_uri(snapshot["verify_url"])
    context.update(extra)
    return render_template(TEMPLATES[kind], kind=kind.value, **context)


def pdf_for(kind: DocumentKind, snapshot: dict[str, Any], **extra: Any) -> bytes:
    return render_pdf(html_for(kind, snapshot, **extra))


def batch_pdf(kind: DocumentKind, snapshots: list[dict[str, Any]],
              **extra: Any) -> list[bytes]:
    """Several documents of one kind laid out in one pass, split into one PDF each.

    Each document must fill exactly one page (certificates do, and print no page number):
    a document that overflows fails the batch rather than carry another's page numbers.
    The documents laid out together share their ``<head>`` (language, author, description:
    the PDF's metadata) but for the title, which each part gets on its own: a run of
    documents whose heads differ is laid out apart, so that each part is, byte for byte,
    the document rendered alone (``pdf_for``).
    """
    pages = [html_for(kind, snapshot, **extra) for snapshot in snapshots]
    titles = [document_title(snapshot) for snapshot in snapshots]
    parts: list[bytes] = []
    start = 0
    for _head, run in groupby(pages, key=_head_but_title):
        size = len(list(run))
        chunk = pages[start:start + size]
        head = chunk[0].partition("<body>")[0]
        bodies = [page.partition("<body>")[2].rpartition("</body>")[0] for page in chunk]
        html = head + "<body>" + "".join(bodies) + "</body></html>"
        parts += render_pdf_pages(html, [1] * size, titles[start:start + size])
        start += size
    return parts


def _head_but_title(page: str) -> str:
    """What documents laid out together must share (the title is escaped text)."""
    return _TITLE.sub("", page.partition("<body>")[0])


_TITLE = re.compile(r"<title>.*?</title>", re.S)


# --- sheets laid out on demand, never stored (no number, no snapshot) -----------------------

#: the printed programme of a month and the day's convocations: their data is plain French
#: text built by their services (``services/programme.py``, ``services/convocations.py``).
SHEETS = {
    "programme": "pdf/programme.html",
    "convocations": "pdf/convocations.html",
    "report": "pdf/report.html",
    "personal_data": "pdf/personal_data.html",
}


def sheet_pdf(name: str, data: dict[str, Any]) -> bytes:
    """A sheet's tagged PDF (title and language from ``data``, QR codes from ``qr_svg``)."""
    return render_pdf(render_template(SHEETS[name], kind=name, **data))


def programme_pdf(data: dict[str, Any]) -> bytes:
    return sheet_pdf("programme", data)


def convocations_pdf(data: dict[str, Any]) -> bytes:
    return sheet_pdf("convocations", data)


def report_pdf(data: dict[str, Any]) -> bytes:
    """The activity report for a funder (``services/report_layout.py``)."""
    return sheet_pdf("report", data)
