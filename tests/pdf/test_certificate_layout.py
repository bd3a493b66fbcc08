"""A certificate with very long values (name, workshop, centre, public address) keeps every word
inside its frame, clear of the other words and of the QR code, which still scans; a certificate
cut from a batch is, byte for byte, the one rendered alone."""

from __future__ import annotations

import io
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from portal.models.vocab import DocumentKind
from portal.pdf.documents import batch_pdf, pdf_for
from portal.pdf.samples import sample
from tests.pdf.helpers import flat, page_count, page_images, pdf_text

MM = 72 / 25.4
#: the frame of an attestation (``print.css``): A4 landscape less the page margins.
FRAME = (18 * MM, 16 * MM, (297 - 18) * MM, (210 - 16) * MM)
Box = tuple[float, float, float, float]  # left, top, right, bottom, in points from the top left

LONG_URL = ("https://portail-inclusion-numerique.departement-du-pas-de-calais.example.fr"
            "/reseau/v/K7PM3QX9RT2W")


def long_certificate() -> dict[str, Any]:
    certificate = sample(DocumentKind.CERTIFICATE)
    return {**certificate,
            "person_name": "Marie-Christine Anne-Sophie de la Tour-Dupont-Vandenberghe",
            "title": "Faire ses démarches en ligne : impôts, CAF, Ameli, France Travail et ANTS, "
                     "pas à pas, avec son propre téléphone et sans stress",
            "verify_url": LONG_URL,
            "site": {**certificate["site"],
                     "name": "Espace public numérique intercommunal de la Communauté "
                             "d’agglomération de Lens-Liévin",
                     "address": "Centre social et culturel Jean Jaurès, 12 rue des Écoles"}}


def words(pdf: bytes, folder: Path) -> list[tuple[str, Box]]:
    """Every word of the first page and its box (``pdftotext -bbox``)."""
    (folder / "page.pdf").write_bytes(pdf)
    subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(folder / "page.pdf"),
                    str(folder / "words.html")], check=True)
    tree = ET.parse(folder / "words.html")  # noqa: S314 (poppler's output for our own PDF)
    return [(word.text or "", (float(word.get("xMin", 0)), float(word.get("yMin", 0)),
                               float(word.get("xMax", 0)), float(word.get("yMax", 0))))
            for word in tree.iter() if word.tag.endswith("word")]


def image_boxes(pdf: bytes) -> list[Box]:
    """Where the page draws its images: the unit square through the matrix at each ``Do``."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    height = float(page.mediabox.height)
    found: list[Box] = []

    def before(operator: bytes, operands: list, matrix: list, _text_matrix: list) -> None:
        if operator == b"Do":
            a, b, c, d, e, f = (float(value) for value in matrix)
            xs = [e, e + a, e + c, e + a + c]
            ys = [f, f + b, f + d, f + b + d]
            found.append((min(xs), height - max(ys), max(xs), height - min(ys)))

    page.extract_text(visitor_operand_before=before)
    return found


def overlap(one: Box, other: Box, margin: float = 0.5) -> bool:
    return (one[0] + margin < other[2] and other[0] + margin < one[2]
            and one[1] + margin < other[3] and other[1] + margin < one[3])


def inside(box: Box, area: Box) -> bool:
    return area[0] <= box[0] and box[2] <= area[2] and area[1] <= box[1] and box[3] <= area[3]


@pytest.fixture(scope="module")
def rendered(pdf_cache: dict) -> tuple[list[dict[str, Any]], list[bytes], list[bytes]]:
    """Two certificates, one with long values, rendered in a batch and each on its own."""
    if "long-batch" not in pdf_cache:
        from portal import create_app

        app = create_app({"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        snapshots = [long_certificate(), {**sample(DocumentKind.CERTIFICATE),
                                          "number": "ATT-2026-MER-000043"}]
        with app.test_request_context():
            pdf_cache["long-batch"] = (
                snapshots, batch_pdf(DocumentKind.CERTIFICATE, snapshots),
                [pdf_for(DocumentKind.CERTIFICATE, snapshot) for snapshot in snapshots])
    return pdf_cache["long-batch"]


def test_long_values_stay_in_the_frame_clear_of_each_other_and_of_the_qr_code(rendered,
                                                                               tmp_path):
    snapshots, _parts, alone = rendered
    pdf = alone[0]
    assert page_count(pdf) == 1
    text = flat(pdf_text(pdf, layout=False))
    joined = "".join(text.split()).replace("-", "")  # a line may end on a hyphen
    for value in (snapshots[0]["person_name"], snapshots[0]["title"], LONG_URL,
                  snapshots[0]["site"]["name"]):
        assert "".join(value.split()).replace("-", "") in joined, value  # printed whole
    found = words(pdf, tmp_path)
    [qr] = image_boxes(pdf)
    assert inside(qr, FRAME)
    in_frame = [(word, box) for word, box in found if FRAME[1] <= box[1] < FRAME[3]]
    assert len(in_frame) > 100
    for index, (word, box) in enumerate(in_frame):
        assert inside(box, FRAME), f"{word!r} leaves the frame: {box}"
        assert not overlap(box, qr), f"{word!r} under the QR code"
        for other, other_box in in_frame[index + 1:]:
            assert not overlap(box, other_box), f"{word!r} over {other!r}"
    # the margin holds the running header only, above the frame
    assert all(box[3] <= FRAME[1] for _word, box in found if box[1] < FRAME[1])


def test_the_qr_code_of_a_long_address_scans(rendered, tmp_path):
    _snapshots, _parts, alone = rendered
    [image] = page_images(alone[0], tmp_path, dpi=200)
    with Image.open(image) as picture:
        assert [result.text for result in zxingcpp.read_barcodes(picture)] == [LONG_URL]


def test_a_certificate_cut_from_a_batch_is_the_one_rendered_alone(rendered):
    _snapshots, parts, alone = rendered
    assert parts == alone
