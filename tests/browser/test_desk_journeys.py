"""The desk in Chromium: a receptionist's day. A new person is registered (only the first
name is needed), their login card printed at once and a seat booked for them; a stranger at
the door of today's session is registered from the check-in screen and checked in, in the
same flow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portal import clock
from portal.extensions import db
from portal.models import Beneficiary, Booking, StaffMember
from portal.models.vocab import BookingStatus
from tests.browser.conftest import STAFF, LiveServer, assert_no_browser_problems, check_axe, submit
from tests.conftest import Factory

pytestmark = pytest.mark.browser

ANSWER_MS = 10_000


@pytest.fixture(scope="module")
def door_session(live_server: LiveServer, password_hash: str) -> int:
    """A session of today, at the seeded staff member's site, with seats left."""
    app = live_server.app
    with app.app_context():
        staff = db.session.scalar(db.select(StaffMember).filter_by(
            email="camille.martin@example.org"))
        site_id = staff.roles[0].site_id
        factory = Factory(password_hash)
        today = clock.today_local()
        midnight = clock.paris_to_utc(datetime.combine(today, time(0, 0)))
        starts = max(clock.now().replace(microsecond=0) - timedelta(minutes=10),
                     midnight + timedelta(seconds=1)).astimezone(UTC)
        site = staff.roles[0].site
        session = factory.session(site, factory.workshop(title="Atelier de la porte"),
                                  starts_at=starts, ends_at=starts + timedelta(hours=2),
                                  capacity=6)
        assert session.site_id == site_id
        session_id = session.id
        db.session.remove()
    return session_id


def test_register_a_person_print_their_card_and_book_them(
        open_page: Callable[..., Page], storage_state, live_server: LiveServer) -> None:
    page = open_page(storage_state=storage_state(STAFF))
    page.goto("/equipe/beneficiaires")
    page.get_by_role("link", name="Nouvelle personne").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle personne")
    page.get_by_label("Prénom (obligatoire)").fill("Rosalie")
    page.get_by_label("Nom", exact=True).fill("Vandamme")
    page.get_by_label("Téléphone", exact=True).fill("06 11 22 33 44")
    page.get_by_label("Année de naissance").fill("1948")
    check_axe(page)
    response = submit(page, "Enregistrer la personne")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Rosalie Vandamme")
    expect(page.locator(".flash-success")).to_contain_text("Rosalie Vandamme est enregistré")
    check_axe(page)

    # The card first, printed at once: a PDF with the person's identifier.
    with live_server.app.app_context():
        person = db.session.scalar(db.select(Beneficiary).filter_by(last_name="Vandamme"))
        person_id, card_id = person.id, person.login_id_display
        db.session.remove()
    with page.expect_download() as info:
        page.get_by_role("button", name="Imprimer sa carte d'accès maintenant").click()
    assert info.value.failure() is None
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    assert card_id in text or card_id.replace("-", "") in text.replace(" ", ""), text

    # Then a seat for them.
    page.goto(f"/equipe/beneficiaires/{person_id}")
    page.get_by_label("Séance", exact=True).select_option(index=0)
    chosen = page.get_by_label("Séance", exact=True).locator("option:checked").inner_text()
    title = chosen.split(" – ")[1]
    submit(page, "Inscrire")
    expect(page.locator(".flash-success")).to_contain_text("Inscription faite pour Rosalie")
    upcoming = page.get_by_role("region", name="Ateliers à venir")
    expect(upcoming).to_contain_text(title)
    assert_no_browser_problems(page)


def test_register_a_stranger_at_the_door_and_check_them_in(
        open_page: Callable[..., Page], storage_state, live_server: LiveServer,
        door_session: int) -> None:
    page = open_page(storage_state=storage_state(STAFF))
    page.goto(f"/equipe/seances/{door_session}/pointage")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pointage : Atelier de la porte")
    field = page.locator("#scan-code")
    field.press_sequentially("Marius Quennehen", delay=20)
    with page.expect_response(lambda r: r.url.endswith("/pointage/scan"), timeout=ANSWER_MS):
        field.press("Enter")
    panel = page.locator("section.new-person")
    expect(panel.get_by_role("heading", name="Nouvelle personne")).to_be_visible()
    expect(panel.get_by_label("Prénom (obligatoire)")).to_have_value("Marius")
    expect(panel.get_by_label("Nom", exact=True)).to_have_value("Quennehen")
    panel.get_by_label("La personne n'a pas de téléphone").check()
    check_axe(page)
    with page.expect_response(lambda r: r.url.endswith("/pointage/nouvelle-personne"),
                              timeout=ANSWER_MS):
        panel.get_by_role("button", name="Enregistrer et noter la présence").click()
    answer = page.locator("#scan-result > .result")
    expect(answer).to_have_attribute("data-result-code", "walk_in_added")
    expect(answer).to_contain_text("présence notée : Marius Quennehen")
    expect(page.locator("#roster")).to_contain_text("Marius Quennehen")
    with live_server.app.app_context():
        person = db.session.scalar(db.select(Beneficiary).filter_by(last_name="Quennehen"))
        booking = db.session.scalar(db.select(Booking).filter_by(beneficiary_id=person.id))
        assert (booking.session_id, booking.status) == (door_session, BookingStatus.PRESENT)
        assert person.has_no_phone
        db.session.remove()
    assert_no_browser_problems(page)
