"""The desk over HTTP: a person's page offers only what the staff member may do for them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import Booking
from portal.models.vocab import BookingStatus, StaffRole
from tests.conftest import csrf_from, login


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    return client


def cancel_buttons(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'action="/equipe/reservations/(\d+)/annuler"', page)}


def test_a_booking_of_a_session_already_started_offers_no_cancel_button(app, factory, site,
                                                                          frozen_now):
    staff = factory.staff(site)
    person = factory.beneficiary(site)
    started = factory.booking(factory.session(site, starts_in=timedelta(minutes=-10)), person)
    later = factory.booking(factory.session(site, starts_in=timedelta(hours=1)), person)
    client = signed_in(app, staff)
    page = client.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    assert cancel_buttons(page) == {later.id}
    # The route refuses it too, and changes nothing.
    response = client.post(f"/equipe/reservations/{started.id}/annuler",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Booking, started.id).status is BookingStatus.BOOKED


def test_a_small_site_is_offered_its_own_sessions(app, factory, site, frozen_now):
    small = factory.site(code="PET", name="Petit lieu")
    staff = factory.staff(small, StaffRole.RECEPTION)
    for hours in range(1, 95):
        factory.session(site, starts_in=timedelta(hours=hours))
    ours = factory.session(small, factory.workshop(title="Atelier du petit lieu"),
                           starts_in=timedelta(days=6))
    person = factory.beneficiary(small)
    page = signed_in(app, staff).get(f"/equipe/beneficiaires/{person.id}").get_data(
        as_text=True)
    assert re.findall(r'<option value="(\d+)">', page.split('id="session_id"')[1]
                      .split("</select>")[0]) == [str(ours.id)]
