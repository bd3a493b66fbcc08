"""Every document kind renders from its sample snapshot: French text, the project's fonts
only, PDF/A-3a metadata; QR codes that scan; hostile data that stays data; batches."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from portal.models.vocab import DocumentKind
from portal.pdf import render
from portal.pdf.documents import batch_pdf, document_title, html_for, pdf_for, qr_data_uri
from portal.pdf.merge import merge_pdfs
from portal.pdf.samples import KIND_NAMES, sample
from tests.pdf.helpers import (
    accessibility_problems,
    figure_alts,
    flat,
    fonts,
    notdef_characters,
    page_count,
    page_images,
    pdf_text,
    pdfa_identification,
    title,
    without_bidi_controls,
)

#: phrases each sample must show (spaces of any kind count as one space).
EXPECTED = {
    DocumentKind.CERTIFICATE: [
        "Attestation de participation", "Nous attestons que", "Martine Delannoy",
        "a participé à l’atelier", "« Créer et utiliser son adresse e-mail »",
        "Martine sait maintenant :", "Durée : 2 h", "Nathalie Caron",
        "Code : K7PM-3QX9-RT2W", "ATT-2026-MER-000042",
    ],
    DocumentKind.COURSE_CERTIFICATE: [
        "Attestation de fin de parcours", "Jean-Pierre Lefebvre", "a suivi le parcours",
        "« Premiers pas avec l’ordinateur »",
        "Du mardi 3 novembre 2026 au mardi 24 novembre 2026, 4 séances suivies sur 4",
        "Durée totale : 8 h", "PAR-2026-MER-000007", "Code : M3HT-7XKQ-9C4D",
    ],
    DocumentKind.RECEIPT: [
        "Reçu de chèques APTIC", "N° REC-2026-MER-000017", "Agrément APTIC : APTIC-62-0042",
        "Rue Henri Darras, 62680 Méricourt", "Martine Delannoy",
        "Atelier : « Créer et utiliser son adresse e-mail »",
        "Séance du mardi 1er décembre 2026, de 14:00 à 16:00",
        "6207-2611-0348", "6207-2611-0349", "10,00 €", "Total : 2 chèques", "20,00 €",
        "(vingt euros)", "Prix : 2 chèques",
        "Chèques reçus par Karim Benali (animateur), le mardi 1er décembre 2026 à 13:52.",
        "Aucune monnaie n’est rendue sur les chèques.", "Le régisseur ou son mandataire",
        "Recette encaissée par la régie de recettes de la Cyberbase", "Page 1 / 1",
    ],
    DocumentKind.LOGIN_CARD: [
        "Cartes d’accès au portail", "CAR-2026-MER-000008", "Martine Delannoy", "MAR-762",
        "Code de première connexion : CYBE-R262, valable jusqu’au",
        "1. Ouvrez portail.mericourt.fr", "2. Écrivez votre identifiant",
        "3. Écrivez le code, puis choisissez votre mot de passe", "Yannick Descamps",
        "3. Écrivez votre mot de passe",
        "Page 2 / 2",
    ],
    DocumentKind.ATTENDANCE_SHEET: [
        "Feuille d’émargement", "EMA-2026-MER-000031", "Créer et utiliser son adresse e-mail",
        "Mardi 1er décembre 2026", "14:00 – 16:00", "Salle informatique", "Karim Benali",
        "Nom et prénom", "Signature", "Présent", "Excusé", "Absent", "Œdipe L’Hôte",
        "Sans inscription", "Inscrits", "Présents", "Page 1 / 1",
    ],
    DocumentKind.DEPOSIT_SLIP: [
        "Bordereau de remise de chèques", "BOR-2026-MER-000011", "novembre 2026",
        "Pass Numérique APTIC – Département du Pas-de-Calais", "6207-2611-0341",
        "6218-4027-0120", "Numéro du chèque", "Reçu le", "03/11/2026", "K. Benali",
        "Chèques reçus du 1er au 30 novembre 2026 : 43 chèques",
        "Sous-total", "Total général", "430,00 €", "Le régisseur",
        "Nathalie Caron, régisseuse titulaire",
    ],
}

KINDS = sorted(set(KIND_NAMES.values()), key=lambda kind: kind.value)


#: the fonts the project ships (package.json), as PDF base font names after the subset tag.
PROJECT_FONTS = ("Source-Sans-3", "IBM-Plex-Sans-Arabic", "Noto-Sans-Symbols-2")


def assert_project_fonts_only(pdf: bytes) -> None:
    found = fonts(pdf)
    assert found, "no font in the document"
    for base_font, embedded in found:
        assert base_font.strip("/").partition("+")[2].startswith(PROJECT_FONTS), \
            f"font {base_font} is not the project's"
        assert embedded, f"font {base_font} is not embedded"


def test_every_kind_has_a_sample_name():
    assert set(KINDS) == set(DocumentKind)


def test_qr_svg_is_a_template_global(app):
    assert app.jinja_env.globals["qr_svg"] is qr_data_uri


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.value)
def test_sample_renders_in_french_with_project_fonts_as_pdfa(kind, sample_pdf):
    pdf = sample_pdf(kind)
    assert pdf.startswith(b"%PDF-")
    text = " ".join(flat(pdf_text(pdf, layout=False)).split())
    missing = [phrase for phrase in EXPECTED[kind] if phrase not in text]
    assert not missing, f"missing from the {kind.value} PDF: {missing}"
    assert_project_fonts_only(pdf)
    assert notdef_characters(pdf) == ""
    assert pdfa_identification(pdf) == {"part": "3", "conformance": "A"}
    assert title(pdf) == document_title(sample(kind))
    assert accessibility_problems(pdf) == []


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.value)
def test_templates_follow_french_typography(kind, app):
    """No plain or missing space before : ; ! ? » nor after «, in the template's own text
    and in the samples (U+202F everywhere, through ``&#8239;`` in templates)."""
    html = html_for(kind, sample(kind))
    body = re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S)
    body = re.sub(r"https?://[^\s<\"']+|\d{2}:\d{2}", "", body)
    text = unescape(re.sub(r"<[^>]+>", "", body))
    assert not re.search(r"[^\u202f\s][;!?»]|[ \u00a0][:;!?»]|«[^\u202f]", text), \
        re.findall(r".{20}(?:[^\u202f\s][;!?»]|[ \u00a0][:;!?»]|«[^\u202f]).{20}", text)
    assert not re.search(r"\w :|\w:\s", text.replace("\u202f:", "")), \
        re.findall(r".{20}\w ?:\s.{20}", text.replace("\u202f:", ""))


# --- QR codes ---------------------------------------------------------------------------------


def decoded_qr_codes(pdf: bytes, folder: Path) -> list[str]:
    [image] = page_images(pdf, folder, dpi=200)
    with Image.open(image) as picture:
        return [result.text for result in zxingcpp.read_barcodes(picture)
                if result.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("kind", [DocumentKind.CERTIFICATE, DocumentKind.COURSE_CERTIFICATE],
                         ids=lambda kind: kind.value)
def test_certificate_qr_code_scans_to_its_verify_url(kind, sample_pdf, tmp_path):
    assert decoded_qr_codes(sample_pdf(kind), tmp_path) == [sample(kind)["verify_url"]]


@pytest.mark.parametrize("kind", [DocumentKind.CERTIFICATE, DocumentKind.COURSE_CERTIFICATE],
                         ids=lambda kind: kind.value)
def test_certificate_qr_code_says_where_it_leads(kind, sample_pdf):
    assert figure_alts(sample_pdf(kind)) == [
        f"QR code de vérification\u202f: lien vers {sample(kind)['verify_url']}"]


def test_login_card_qr_codes_say_what_they_hold(sample_pdf):
    alts = figure_alts(sample_pdf(DocumentKind.LOGIN_CARD))
    assert alts == [f"QR code de l’identifiant {card['identifier']} "
                    f"(contient «\u202f{card['qr_text']}\u202f»)"
                    for card in sample(DocumentKind.LOGIN_CARD)["cards"]]


def test_login_card_qr_codes_scan_to_the_identifiers(sample_pdf, tmp_path):
    first_sheet = [card["qr_text"] for card in sample(DocumentKind.LOGIN_CARD)["cards"][:10]]
    assert sorted(decoded_qr_codes(sample_pdf(DocumentKind.LOGIN_CARD), tmp_path)) == \
        sorted(first_sheet)


# --- layouts ----------------------------------------------------------------------------------


def test_login_cards_one_page_per_ten_cards(sample_pdf):
    cards = sample(DocumentKind.LOGIN_CARD)
    one = {**cards, "cards": cards["cards"][:1]}
    pdf = pdf_for(DocumentKind.LOGIN_CARD, one)
    assert page_count(pdf) == 1
    assert "Martine Delannoy" in pdf_text(pdf)
    assert len(cards["cards"]) == 12
    assert page_count(sample_pdf(DocumentKind.LOGIN_CARD)) == 2


def test_attendance_sheet_before_the_session_and_on_many_pages(app):
    before = sample(DocumentKind.ATTENDANCE_SHEET)
    for row in before["rows"]:
        row.update(status="", status_key="")
    before["rows"] *= 4
    before["totals"] = {"booked": str(len(before["rows"]))}
    pdf = pdf_for(DocumentKind.ATTENDANCE_SHEET, before)
    pages = pdf_text(pdf).split("\f")[:-1]
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        page = flat(page)
        assert "Nom et prénom" in page and "Signature" in page  # the header on every page
        assert f"Page {number} / {len(pages)}" in page
        assert "EMA-2026-MER-000031" in page
        assert "Présent" not in page.replace("Présents", "")


def test_deposit_slip_lists_every_cheque_once(sample_pdf):
    text = flat(pdf_text(sample_pdf(DocumentKind.DEPOSIT_SLIP)))
    deposit = sample(DocumentKind.DEPOSIT_SLIP)
    numbers = [cheque["number"] for programme in deposit["programmes"]
               for cheque in programme["cheques"]]
    assert len(numbers) == int(deposit["total_count_number"])
    for number in numbers:
        assert text.count(number) == 1, number
    assert text.count("Sous-total") == len(deposit["programmes"])  # not repeated per page


# --- hostile data -----------------------------------------------------------------------------

HOSTILE_NAMES = {
    "script": "<script>alert(1)</script>",
    "long": "Wolfeschlegelsteinhausenbergerdorff" * 8 + "Abcdefghijklmnopqrst",
    "rtl": "مرحبا بالعالم",
    "emoji": "Zoé 😀🎉",
    "french": "Œdipe « Zoé » l’Hôte",
}
assert len(HOSTILE_NAMES["long"]) == 300


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_certificate_with_hostile_name_stays_one_page_of_data(name, app):
    snapshot = {**sample(DocumentKind.CERTIFICATE), "person_name": name,
                "person_first_name": name}
    html = html_for(DocumentKind.CERTIFICATE, snapshot)
    assert "<script>" not in html
    pdf = pdf_for(DocumentKind.CERTIFICATE, snapshot)
    assert page_count(pdf) == 1
    assert_project_fonts_only(pdf)
    text = pdf_text(pdf, layout=False)
    if name == HOSTILE_NAMES["script"]:
        assert "<script>alert(1)</script>" in text  # printed literally
    if name == HOSTILE_NAMES["long"]:
        assert name in re.sub(r"\s+", "", text)
    if name == HOSTILE_NAMES["french"]:
        assert "Œdipe « Zoé » l’Hôte" in flat(text)
    assert "Attestation de participation" in text and "K7PM-3QX9-RT2W" in text


def test_cards_and_sheets_with_hostile_names_keep_their_layout(app):
    names = list(HOSTILE_NAMES.values())
    cards = sample(DocumentKind.LOGIN_CARD)
    cards = {**cards, "cards": [{**cards["cards"][0], "name": name} for name in names]}
    pdf = pdf_for(DocumentKind.LOGIN_CARD, cards)
    assert page_count(pdf) == 1
    assert_project_fonts_only(pdf)
    assert "<script>alert(1)</script>" in pdf_text(pdf, layout=False)
    sheet = {**sample(DocumentKind.ATTENDANCE_SHEET),
             "rows": [{"name": name, "status": "", "note": name} for name in names]}
    pdf = pdf_for(DocumentKind.ATTENDANCE_SHEET, sheet)
    assert page_count(pdf) == 1
    assert_project_fonts_only(pdf)
    assert "<script>alert(1)</script>" in pdf_text(pdf, layout=False)


# --- scripts and symbols ----------------------------------------------------------------------

ARABIC_NAME = "فاطمة الزهراء بن علي"
SYMBOLS = "✓ ✔ → € « » … ⚠ ✉ ☎"


def test_arabic_names_and_symbols_print_with_the_project_s_fonts(app):
    """Allophone people are among those the cheques target: an Arabic name prints in an
    Arabic font (not as empty boxes) and reads back; so do the common symbols."""
    snapshot = {**sample(DocumentKind.CERTIFICATE), "person_name": ARABIC_NAME,
                "person_first_name": "فاطمة", "objectives": [f"Symboles : {SYMBOLS}"]}
    pdf = pdf_for(DocumentKind.CERTIFICATE, snapshot)
    assert notdef_characters(pdf) == ""
    assert any("IBM-Plex-Sans-Arabic" in name for name, _embedded in fonts(pdf))
    assert_project_fonts_only(pdf)
    text = without_bidi_controls(pdf_text(pdf, layout=False))
    assert ARABIC_NAME in text
    assert "sait maintenant" in text
    assert SYMBOLS in flat(text)


def test_arabic_names_on_cards_and_sheets(app):
    cards = sample(DocumentKind.LOGIN_CARD)
    cards["cards"] = [{**cards["cards"][0], "name": ARABIC_NAME}]
    sheet = sample(DocumentKind.ATTENDANCE_SHEET)
    sheet["rows"][0]["name"] = ARABIC_NAME
    for kind, snapshot in ((DocumentKind.LOGIN_CARD, cards),
                           (DocumentKind.ATTENDANCE_SHEET, sheet)):
        pdf = pdf_for(kind, snapshot)
        assert notdef_characters(pdf) == "", kind
        assert ARABIC_NAME in without_bidi_controls(pdf_text(pdf, layout=False)), kind


# --- batches ----------------------------------------------------------------------------------


def test_batch_of_certificates_is_laid_out_once_and_split(app):
    people = ["Martine Delannoy", "Gérard Dubois", "Aïcha Haddou"]
    snapshots = [{**sample(DocumentKind.CERTIFICATE), "person_name": name,
                  "person_first_name": name.split()[0],
                  "number": f"ATT-2026-MER-{n:06d}"} for n, name in enumerate(people, 50)]
    parts = batch_pdf(DocumentKind.CERTIFICATE, snapshots)
    assert len(parts) == 3
    merged = merge_pdfs(parts, title="Attestations")
    assert page_count(merged) == 3
    merged_pages = pdf_text(merged).split("\f")
    for n, (name, part) in enumerate(zip(people, parts, strict=True)):
        assert page_count(part) == 1
        text = pdf_text(part)
        assert name in text and f"ATT-2026-MER-{n + 50:06d}" in text
        assert all(other not in text for other in people if other != name)
        assert name in merged_pages[n]
        assert pdfa_identification(part) == {"part": "3", "conformance": "A"}
        assert_project_fonts_only(part)


def test_a_render_process_that_made_other_documents_gives_the_same_bytes_as_a_fresh_one(app):
    """The render process keeps its fonts and the parsed stylesheet between documents: that
    must change nothing in what it prints."""
    kind = DocumentKind.CERTIFICATE
    render._discard_executor()
    fresh = pdf_for(kind, sample(kind))
    for other in (DocumentKind.RECEIPT, DocumentKind.LOGIN_CARD):  # other layouts
        pdf_for(other, sample(other))
    assert pdf_for(kind, sample(kind)) == fresh
    assert batch_pdf(kind, [sample(kind)]) == [fresh]
