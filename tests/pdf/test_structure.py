"""Every PDF the portal hands out is a tagged, titled document in French: running headers and
footers are artifacts, table headers have a scope, a document cut from a batch carries its own
title and no other's page numbers, and merged files keep the structure of their parts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.models.vocab import DocumentKind
from portal.pdf import tagging
from portal.pdf.documents import batch_pdf, document_title
from portal.pdf.merge import merge_pdfs
from portal.pdf.render import PdfRenderError, render_pdf_pages
from portal.pdf.samples import KIND_NAMES, sample
from tests.pdf.helpers import (
    accessibility_problems,
    element_text,
    flat,
    page_count,
    pagination_text,
    pdf_text,
    structure_elements,
    tagged_text,
    title,
)

KINDS = sorted(set(KIND_NAMES.values()), key=lambda kind: kind.value)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pdf"


def test_the_weasyprint_adaptation_matches_the_weasyprint_installed():
    """portal/pdf/tagging.py wraps two WeasyPrint 70.0 functions: a WeasyPrint that changes
    them must be looked at again (it may now do the right thing itself)."""
    current = {name: tagging.source_digest(function)
               for name, function in tagging.adapted_functions().items()}
    assert current == tagging.ADAPTED


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.value)
def test_every_kind_is_tagged_titled_and_french(kind, sample_pdf):
    pdf = sample_pdf(kind)
    assert accessibility_problems(pdf) == []
    assert title(pdf) == document_title(sample(kind))
    assert sample(kind)["number"] in title(pdf)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.value)
def test_running_headers_and_footers_are_pagination_artifacts(kind, sample_pdf):
    """A screen reader skips them: the issuer and the number are read once, in the text."""
    pdf = sample_pdf(kind)
    snapshot = sample(kind)
    running = flat(pagination_text(pdf))
    read = flat(tagged_text(pdf))
    assert snapshot["site"]["name"] in running and snapshot["number"] in running
    if kind is not DocumentKind.LOGIN_CARD:  # the cards' number is in the header and title
        assert snapshot["number"] in read
    assert not re.search(r"Page \d+ / \d+", read)
    if kind not in (DocumentKind.CERTIFICATE, DocumentKind.COURSE_CERTIFICATE):
        assert re.search(r"Page 1 / \d+", running)


def test_every_table_header_of_the_templates_has_a_scope():
    for template in TEMPLATES.glob("*.html"):
        for th in re.findall(r"<th\b[^>]*>", template.read_text()):
            assert re.search(r'\bscope="(col|row|colgroup|rowgroup)"', th), (template.name, th)


@pytest.mark.parametrize("kind", [DocumentKind.RECEIPT, DocumentKind.ATTENDANCE_SHEET,
                                  DocumentKind.DEPOSIT_SLIP], ids=lambda kind: kind.value)
def test_table_headers_carry_their_scope_in_the_pdf(kind, sample_pdf):
    scopes = {str(element.get_object()["/A"].get_object().get("/Scope"))
              for element in structure_elements(sample_pdf(kind))
              if element.get("/S") == "/TH"}
    assert "/Column" in scopes
    if kind is not DocumentKind.ATTENDANCE_SHEET:
        assert "/Row" in scopes  # the totals of the foot


# --- batches and merged files -----------------------------------------------------------------

PEOPLE = ["Martine Delannoy", "Gérard Dubois", "Aïcha Haddou", "Noël Carpentier",
          "Bernard Lecocq", "Zoé Martin"]


@pytest.fixture(scope="module")
def batch(pdf_cache) -> tuple[list[dict], list[bytes]]:
    if "batch" not in pdf_cache:
        from portal import create_app

        app = create_app({"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        snapshots = [{**sample(DocumentKind.CERTIFICATE), "person_name": name,
                      "person_first_name": name.split()[0],
                      "number": f"ATT-2026-MER-{n:06d}"} for n, name in enumerate(PEOPLE, 1)]
        with app.test_request_context():
            pdf_cache["batch"] = (snapshots, batch_pdf(DocumentKind.CERTIFICATE, snapshots))
    return pdf_cache["batch"]


def test_a_certificate_cut_from_a_batch_is_a_document_of_its_own(batch):
    snapshots, parts = batch
    assert len(parts) == len(PEOPLE)
    for snapshot, part in zip(snapshots, parts, strict=True):
        assert page_count(part) == 1
        assert accessibility_problems(part) == []
        assert title(part) == document_title(snapshot)
        text = flat(pdf_text(part))
        assert snapshot["person_name"] in text
        assert not re.search(r"Page \d", text), "a batch's page numbers on one person's page"


def test_a_batch_accepts_one_page_per_document():
    """A document that overflows would carry the batch's page numbers: refused."""
    two_pages = ('<html lang="fr"><title>x</title><p>un</p>'
                 '<p style="break-before: page">deux</p></html>')
    with pytest.raises(PdfRenderError, match="expected 1 pages, laid out 2"):
        render_pdf_pages(two_pages, [1], ["x"])
    assert len(render_pdf_pages(two_pages, [2], ["x"])) == 1


def test_merged_certificates_keep_each_person_s_structure(batch):
    snapshots, parts = batch
    merged = merge_pdfs(parts, title="Attestations de l’atelier du 1er décembre")
    assert page_count(merged) == len(PEOPLE)
    assert accessibility_problems(merged) == []
    assert title(merged) == "Attestations de l’atelier du 1er décembre"
    documents = [element for element in structure_elements(merged)
                 if element.get("/S") == "/Document"]
    assert len(documents) == len(PEOPLE)
    for document, snapshot in zip(documents, snapshots, strict=True):
        text = flat(element_text(merged, document))
        assert snapshot["person_name"] in text and snapshot["number"] in text
        others = [name for name in PEOPLE if name != snapshot["person_name"]]
        assert not any(name in text for name in others)


def test_merged_documents_with_tables_keep_their_header_cells(sample_pdf):
    """Two parts with tables: their TH IDs stay apart, the TD /Headers follow them."""
    receipt, sheet = sample_pdf(DocumentKind.RECEIPT), sample_pdf(DocumentKind.ATTENDANCE_SHEET)
    merged = merge_pdfs([receipt, sheet, receipt], title="Documents")
    assert accessibility_problems(merged) == []
    ids = [str(element["/ID"]) for element in structure_elements(merged) if "/ID" in element]
    assert ids and len(ids) == len(set(ids))
    headers = {str(header) for element in structure_elements(merged)
               if element.get("/S") == "/TD"
               for header in element["/A"].get_object().get("/Headers", [])}
    assert headers and headers <= set(ids)
