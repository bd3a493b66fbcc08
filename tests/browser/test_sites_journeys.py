"""The site settings in Chromium: an administrator of a centre changes its logo and finds it
on a certificate issued after; a refused upload (a script named .png) keeps the page and what
was there; the programme's number pattern is tried as one types.

The module builds its own centre ("HEN"), its administrator and a past session with a person
present, whose certificate is issued only after the logo is set.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portal.extensions import db
from portal.models.people import Site
from portal.models.vocab import BookingStatus, StaffRole
from tests.browser.conftest import (
    NETWORK_ADMIN,
    LiveServer,
    assert_no_browser_problems,
    check_axe,
    log_in,
    submit,
)
from tests.browser.names import action
from tests.conftest import PASSWORD, Factory

pytestmark = pytest.mark.browser

#: a logo of a size no other image of a certificate has, to find it in the PDF.
LOGO_SIZE = (211, 97)


@dataclass(frozen=True)
class Centre:
    site_id: int
    admin_email: str
    person_id: int
    title: str


@pytest.fixture(scope="module")
def centre(live_server: LiveServer, password_hash: str) -> Centre:
    with live_server.app.app_context():
        factory = Factory(password_hash)
        site = factory.site(code="HEN", name="Espace numérique d'Hénin", city="Hénin-Beaumont",
                            signatory_name="Julie Morel", signatory_role="Directrice")
        admin = factory.staff(site, StaffRole.ADMIN, email="julie.morel@example.org",
                              full_name="Julie Morel")
        workshop = factory.workshop(title="Sécuriser son téléphone", grants_attestation=True,
                                    site_id=site.id)
        session = factory.session(site, workshop, starts_in=timedelta(days=-2))
        person = factory.beneficiary(site, first_name="Rachid", last_name="Haddad")
        factory.booking(session, person, status=BookingStatus.PRESENT)
        centre = Centre(site.id, admin.email, person.id, workshop.title)
        db.session.remove()
    return centre


def logo_file(tmp_path: Path) -> Path:
    path = tmp_path / "logo.png"
    image = Image.new("RGB", LOGO_SIZE, (31, 78, 158))
    image.save(path, format="PNG")
    return path


def image_sizes(pdf: bytes) -> set[tuple[int, int]]:
    reader = PdfReader(io.BytesIO(pdf))
    return {(image.image.width, image.image.height) for page in reader.pages
            for image in page.images}


def test_an_admin_changes_the_logo_and_sees_it_on_a_certificate(
        open_page: Callable[..., Page], live_server: LiveServer, centre: Centre,
        tmp_path: Path) -> None:
    page = open_page()
    log_in(page, centre.admin_email, PASSWORD)
    page.get_by_role("link", name="Lieux", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lieux")
    page.get_by_role("link", name="Espace numérique d'Hénin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Réglages : Espace numérique d'Hénin")
    logo = page.locator("section").filter(has=page.get_by_role("heading", name="Logo",
                                                                exact=True))
    expect(logo).to_contain_text("Aucune image pour le moment.")

    # a script named .png: refused, the page shows why at the field
    script = tmp_path / "logo.png.html"
    script.write_text("<script>alert(document.cookie)</script>")
    logo.get_by_label("Nouvelle image (PNG ou JPEG)").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": script.read_bytes()})
    response = submit(page, "Enregistrer le logo")
    assert response.status == 422
    expect(page.locator("#error-summary")).to_contain_text("n'est pas une image PNG ou JPEG")
    check_axe(page)

    logo = page.locator("section").filter(has=page.get_by_role("heading", name="Logo",
                                                                exact=True))
    logo.get_by_label("Nouvelle image (PNG ou JPEG)").set_input_files(logo_file(tmp_path))
    response = submit(page, "Enregistrer le logo")
    assert response.status == 200
    expect(page.locator(".flash-success")).to_contain_text("Le logo est enregistré.")
    shown = page.get_by_role("img", name="Logo actuel")
    expect(shown).to_be_visible()
    assert shown.evaluate("img => img.naturalWidth") == LOGO_SIZE[0]
    check_axe(page)

    page.goto(f"/equipe/beneficiaires/{centre.person_id}")
    with page.expect_download() as info:
        page.get_by_role("button", name=action("Attestation (PDF)", centre.title)).click()
    assert info.value.failure() is None
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert LOGO_SIZE in image_sizes(pdf)
    with live_server.app.app_context():
        assert db.session.get(Site, centre.site_id).logo is not None
    assert_no_browser_problems(page)


def test_the_number_pattern_is_tried_as_one_types(open_page: Callable[..., Page],
                                                  storage_state, live_server: LiveServer) -> None:
    page = open_page(storage_state=storage_state(NETWORK_ADMIN))
    page.goto("/equipe/cheques/nouveau")
    page.get_by_label("Modèle de numéro (expression régulière)").fill("[0-9]{10}")
    page.get_by_label("Essayer un numéro").press_sequentially("62 072 611 00", delay=20)
    result = page.locator("#try-result")
    expect(result).to_have_text(re.compile("« 6207261100 » est accepté par ce modèle."))
    page.get_by_label("Essayer un numéro").fill("ABC")
    expect(result).to_have_text(re.compile("« ABC » est refusé par ce modèle."))
    check_axe(page)
    assert_no_browser_problems(page)
