"""The page of one session: its facts and counts, and only the actions the staff member may take."""

from __future__ import annotations

import html
from datetime import timedelta

from portal.models.vocab import BookingStatus, StaffRole
from portal.services import bookings
from portal.services.audit import Actor
from tests.conftest import login


def page_of(app, factory, site, role: StaffRole, session) -> str:
    client = app.test_client()
    staff = factory.staff(site, role)
    assert login(client, staff.email).status_code == 303
    response = client.get(f"/equipe/seances/{session.id}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_the_page_counts_people_by_state_and_offers_check_in(app, factory, frozen_now):
    site = factory.site(code="MER", name="Cyberbase de Méricourt")
    session = factory.session(site, factory.workshop(title="Classer ses fichiers"),
                              starts_in=timedelta(days=1), capacity=2, room="Salle 2")
    for _ in range(2):
        factory.booking(session, factory.beneficiary(site))
    factory.booking(session, factory.beneficiary(site), status=BookingStatus.WAITLISTED,
                    waitlist_position=1)
    body = page_of(app, factory, site, StaffRole.RECEPTION, session)
    assert "Séance : Classer ses fichiers" in body
    assert "Cyberbase de Méricourt, Salle 2" in body
    assert "2 places prises sur 2" in body
    assert "2 personnes inscrites" in body
    assert "1 personne</dd>" in body
    assert f'href="/equipe/seances/{session.id}/pointage"' in body


def test_a_cancelled_session_says_why_and_offers_no_check_in(app, factory, frozen_now):
    site = factory.site(code="MER", name="Cyberbase de Méricourt")
    session = factory.session(site, starts_in=timedelta(days=1))
    admin = factory.staff(site, StaffRole.ADMIN)
    bookings.cancel_session(session, "Animatrice malade", actor=Actor.of(admin))
    body = page_of(app, factory, site, StaffRole.ADMIN, session)
    assert "Animatrice malade" in body
    assert "/pointage" not in body


def test_a_started_session_is_no_longer_offered_for_edit_or_cancel(app, factory, frozen_now):
    site = factory.site(code="MER", name="Cyberbase de Méricourt")
    session = factory.session(site, starts_in=timedelta(minutes=-10))
    body = page_of(app, factory, site, StaffRole.ADMIN, session)
    assert f"/equipe/seances/{session.id}/dupliquer" in body
    assert "/modifier" not in body and "/annuler" not in body
