"""The network view screen: network administrators see every site's figures in real tables;
a site administrator, an animateur and reception are refused with a 403, as for creating a
site."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.models.vocab import BookingStatus, StaffRole
from tests.conftest import login

URL = "/equipe/reseau"
#: Thursday 26 November 2026, 14:00 in Paris.
NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    from portal import clock
    clock.freeze(NOW)
    yield
    clock.unfreeze()


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


@pytest.fixture
def other(factory):
    return factory.site(code="LEN", name="Cyberbase de Lens")


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    return client


def test_a_network_administrator_sees_every_site(app, factory, site, other):
    workshop = factory.workshop(title="Premiers pas sur tablette")
    session = factory.session(site, workshop, starts_at=NOW - timedelta(hours=4),
                              ends_at=NOW - timedelta(hours=2), capacity=4)
    for status in (BookingStatus.PRESENT, BookingStatus.PRESENT, BookingStatus.BOOKED):
        factory.booking(session, factory.beneficiary(site), status=status)
    client = signed_in(app, factory.staff(is_network_admin=True))
    page = client.get(URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Vue du réseau" in html
    assert html.count("<table") == 4  # today, the week, silent sites, cheques
    assert '<th scope="col">' in html and "<caption" in html
    assert "Premiers pas sur tablette" in html
    assert "75\u00a0%" in html or "75 %" in html  # three seats taken of four
    assert f"/equipe/seances/{session.id}/pointage" in html
    assert f"/equipe/programme?site={site.id}" in html
    assert f"/equipe/programme?site={other.id}" in html
    assert "jamais" in html  # Lens has never recorded activity
    assert "hx-" not in html.replace("data-hx-", "")


@pytest.mark.parametrize("role", [StaffRole.ADMIN, StaffRole.ANIMATEUR, StaffRole.RECEPTION])
def test_anyone_else_is_refused(app, factory, site, role):
    client = signed_in(app, factory.staff(site, role))
    response = client.get(URL)
    assert response.status_code == 403
    assert "administration du réseau" in response.get_data(as_text=True)


def test_a_beneficiary_or_nobody_does_not_reach_it(app, factory, site, client):
    assert client.get(URL).status_code in (302, 303)
    person = factory.beneficiary(site)
    assert login(client, person.login_id).status_code == 303
    assert client.get(URL).status_code in (302, 303, 403, 404)
