"""The programme, end to end in Chromium: a closure day, a weekly series previewed (the closed
day skipped with its label) then created, a beneficiary who finds and books one of its
sessions, a new time she sees on "Mes ateliers", and the session cancelled with its reason.

Every new screen the journey passes through goes through axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal import clock
from portal.extensions import db
from portal.models import OutboxMessage, WorkshopSession
from portal.models.people import Site
from portal.models.vocab import SessionStatus
from tests.browser.conftest import STAFF, LiveServer, check_axe, log_in, submit
from tests.conftest import Factory

pytestmark = pytest.mark.browser

TITLE = "Écrire à sa mairie par courriel"


def _scene(live_server: LiveServer, password_hash: str) -> tuple[int, str]:
    """A workshop of the network and a person of the seeded site, of this module only."""
    with live_server.app.app_context():
        factory = Factory(password_hash)
        site = db.session.scalar(db.select(Site).filter_by(name=live_server.accounts.site_name))
        workshop = factory.workshop(title=TITLE, duration_minutes=120)
        person = factory.beneficiary(site, first_name="Josiane", email="josiane@example.org")
        ids = workshop.id, person.login_id
        db.session.remove()
        return ids


def test_a_weekly_series_with_a_closure_day_is_booked_moved_and_cancelled(
        open_page: Callable[..., Page], storage_state: Callable[[str], Any],
        live_server: LiveServer, password_hash: str) -> None:
    seeded = live_server.accounts
    workshop_id, login_id = _scene(live_server, password_hash)
    today = clock.today_local()
    first = today + timedelta(days=7 + (1 - today.weekday()) % 7)  # a Tuesday, next week on
    closed = first + timedelta(weeks=1)

    staff = open_page(storage_state=storage_state(STAFF))
    staff.goto("/equipe/")
    staff.get_by_role("link", name="Programmer une séance").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Programmer une séance")
    check_axe(staff)

    # --- a closure day on the second Tuesday
    staff.get_by_role("link", name=re.compile("^Jours de fermeture")).click()
    staff.get_by_label("Nom").fill("Journée du personnel")
    staff.get_by_label("Premier jour").fill(closed.isoformat())
    submit(staff, "Ajouter la fermeture")
    expect(staff.locator(".closure-list")).to_contain_text("Journée du personnel")
    check_axe(staff)

    # --- the series: previewed, the closed day skipped, then created
    staff.goto("/equipe/seances/nouvelle")
    staff.get_by_label("Atelier").select_option(str(workshop_id))
    staff.get_by_label("Date").fill(first.isoformat())
    staff.get_by_label("Début").fill("14:00")
    staff.get_by_label("Salle").fill("Salle du parcours courriel")
    staff.get_by_label("Nombre de places").fill("6")
    staff.get_by_label("Chaque semaine (une série)").check()
    staff.get_by_label("mardi").check()
    staff.get_by_label("Nombre de séances").fill("3")
    assert submit(staff, "Programmer").status == 200
    expect(staff.get_by_role("heading", level=1)).to_contain_text("Vérifier la série")
    expect(staff.locator(".series-preview li")).to_have_count(3)
    expect(staff.locator(".series-skipped")).to_contain_text("Journée du personnel")
    check_axe(staff)
    submit(staff, "Créer les 3 séances")
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Séance : {TITLE}")
    expect(staff.locator(".facts-list")).to_contain_text("3 séances chaque semaine")
    session_url = staff.url
    check_axe(staff)

    # --- the beneficiary finds it and books it
    person = open_page()
    log_in(person, login_id, seeded.password)
    person.goto("/mon-espace/ateliers?q=mairie")
    person.locator("#session-results").get_by_role("link", name=TITLE).first.click()
    person.get_by_role("button", name="Je m'inscris").click()
    expect(person.locator("#booking-panel")).to_contain_text("Votre place est réservée")

    # --- a new time: she is told, and sees it on "Mes ateliers"
    staff.goto(session_url)
    staff.get_by_role("link", name="Modifier").click()
    check_axe(staff)
    staff.get_by_label("Début").fill("15:00")
    staff.get_by_label("Fin").fill("17:00")
    submit(staff, "Enregistrer")
    expect(staff.get_by_role("alert").or_(staff.get_by_role("status"))).to_contain_text(
        "1 personne est prévenue du changement")
    person.goto("/mon-espace/")
    expect(person.locator(".session-change")).to_contain_text("Nouvel horaire")
    expect(person.locator(".session-change")).to_contain_text("de 15:00 à 17:00")

    # --- the session is cancelled: the reason reaches her
    staff.goto(session_url)
    staff.get_by_role("link", name="Annuler la séance").click()
    check_axe(staff)
    staff.get_by_label("Raison de l'annulation").fill("L'animatrice est malade.")
    submit(staff, "Annuler la séance")
    expect(staff.locator(".facts-list")).to_contain_text("L'animatrice est malade.")
    expect(staff.get_by_role("link", name="Annuler la séance")).to_have_count(0)
    person.goto("/mon-espace/")
    expect(person.locator("#my-bookings .alert-error")).to_contain_text(
        "L'animatrice est malade.")

    with live_server.app.app_context():
        session_id = int(session_url.rsplit("/", 1)[1])
        assert db.session.get(WorkshopSession, session_id).status is SessionStatus.CANCELLED
        topics = db.session.scalars(db.select(OutboxMessage.topic).filter_by(
            recipient="josiane@example.org")).all()
        assert {"booking_confirmed", "session_changed", "session_cancelled"} <= set(topics)
        db.session.remove()
