"""Busy pages cost the same database statements at any network size; long lists come by pages.

Home, My workshops, Find (with and without filters), the staff week, the check-in page, the
roster and its unchanged poll (304) are each requested on a small network, then again after a
year of sessions, hundreds of bookings, more people and more sites were added (Core inserts:
seconds, not minutes): the number of statements per request must not change, and stays under
a small ceiling. The same grown network checks the pages' links (``portal/paging.py``): a bad
page number shows page 1, one past the end the last page, the links keep the filters and mark
the current page. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, insert

from portal import clock
from portal.extensions import db
from portal.models import Booking, WorkshopSession
from portal.models.people import Beneficiary, Site
from portal.models.vocab import BookingSource, BookingStatus, SessionStatus
from tests.conftest import login

HTMX = {"HX-Request": "true"}
POLL = {"HX-Request": "true", "X-Portal-Poll": "1"}

#: statements per request today; a change that adds one must say why (and lower it if it can).
CEILING = {"/": 4, "me": 5, "find": 5, "find-filtered": 5, "find-page": 5,
           "staff-week": 2, "checkin": 6, "roster": 5, "poll": 3}


@pytest.fixture(autouse=True)
def _frozen(frozen_now):
    """Sessions "today" and "this week" whenever the suite runs."""
    return frozen_now


def _statements(client, count_queries, url, headers=None, status=200):
    with count_queries() as counter:
        response = client.get(url, headers=headers or {})
    assert response.status_code == status, (url, response.status_code)
    return counter.count, response


def _grow(site: Site, people: list[Beneficiary], person: Beneficiary | None, *,
          workshop_id: int, sessions: int = 120) -> list[int]:
    """A year of sessions at ``site`` (past and coming), each with bookings of ``people``
    (``person`` at every past one, present): bulk inserts, as a real network's history."""
    at = clock.now().replace(microsecond=0)
    rows = []
    for n in range(sessions):
        start = at + timedelta(days=(n - sessions // 2) * 3, hours=1)
        rows.append({"workshop_id": workshop_id, "site_id": site.id, "starts_at": start,
                     "ends_at": start + timedelta(hours=2), "capacity": 12, "seats_taken": 0,
                     "status": SessionStatus.SCHEDULED, "room": "Salle 2"})
    ids = list(db.session.scalars(insert(WorkshopSession).returning(WorkshopSession.id), rows))
    code = 0
    bookings = []
    for session_id, row in zip(ids, rows, strict=True):
        past = row["starts_at"] < at
        for someone in people + ([person] if person is not None and past else []):
            code += 1
            bookings.append({"session_id": session_id, "beneficiary_id": someone.id,
                             "code": f"G{site.id}X{code:07d}",
                             "status": BookingStatus.PRESENT if past else BookingStatus.BOOKED,
                             "source": BookingSource.ONLINE})
    db.session.execute(insert(Booking), bookings)
    db.session.commit()
    return ids


def test_beneficiary_pages_cost_the_same_on_a_grown_network(
        app, client, factory, login_as, count_queries):
    site = factory.site(name="Cyberbase de Méricourt")
    person = factory.beneficiary(site)
    workshop = factory.workshop(title="Atelier courriel")
    for days in (1, 4):
        factory.booking(factory.session(site, workshop, starts_in=timedelta(days=days)), person)
    factory.booking(factory.session(site, workshop, starts_in=timedelta(days=-3)), person,
                    status=BookingStatus.PRESENT)
    login_as(person)
    find = f"/mon-espace/ateliers?q=courriel&site={site.id}&places=1"
    pages = {"/": "/", "me": "/mon-espace/", "find": "/mon-espace/ateliers",
             "find-filtered": find, "find-page": "/mon-espace/ateliers?page=2"}
    small = {name: _statements(client, count_queries, url)[0] for name, url in pages.items()}

    others = [factory.beneficiary(site) for _ in range(4)]
    _grow(site, others, person, workshop_id=workshop.id)
    for n in range(14):
        factory.site(name=f"Médiathèque {n:02d}")
    grown = {name: _statements(client, count_queries, url)[0] for name, url in pages.items()}
    assert grown == small
    assert all(grown[name] <= CEILING[name] for name in grown), grown

    # Find: 20 results a page, of at most 60; the links keep the filters.
    _count, response = _statements(client, count_queries, "/mon-espace/ateliers?q=courriel")
    page = response.get_data(as_text=True)
    assert page.count('class="card session-card"') == 20
    assert "Page 1 sur 3" in page
    assert re.search(r'<a href="/mon-espace/ateliers\?q=courriel&amp;page=1#results-title" '
                     r'aria-current="page"', page)
    assert 'href="/mon-espace/ateliers?q=courriel&amp;page=2#results-title" rel="next"' in page
    for asked, shown in (("abc", 1), ("-1", 1), ("0", 1), ("9" * 30, 1), ("99", 3), ("3", 3)):
        _count, response = _statements(client, count_queries,
                                       f"/mon-espace/ateliers?q=courriel&page={asked}")
        assert f"Page {shown} sur 3" in response.get_data(as_text=True), asked
    fragment = client.get("/mon-espace/ateliers?q=courriel&page=2", headers=HTMX)
    text = fragment.get_data(as_text=True)
    assert text.startswith('<section id="session-results"') and "Page 2 sur 3" in text
    assert 'data-hx-target="#session-results"' in text and "<html" not in text

    # My workshops: every upcoming booking, the past ones 10 a page, latest first.
    _count, response = _statements(client, count_queries, "/mon-espace/?page=2")
    page = response.get_data(as_text=True)
    past = page.split('class="plain-list past-list"')[1]
    assert past.split("</ul>")[0].count("<li>") == 10
    assert re.search(r'href="/mon-espace/\?page=2#past-title"\s+aria-current="page"', past)
    assert "Page 2 sur 7" in past  # 61 past workshops

    # Home: the sites 12 a page.
    _count, response = _statements(client, count_queries, "/?page=2")
    page = response.get_data(as_text=True)
    assert "Page 2 sur 2" in page and page.count('class="card-title"') >= 3


def test_staff_pages_cost_the_same_on_a_grown_network(
        app, client, factory, count_queries):
    site = factory.site(name="Cyberbase de Méricourt")
    staff = factory.staff(site, full_name="Claire Martin")
    colleague = factory.staff(site, full_name="Karim Benali")
    workshop = factory.workshop(title="Premiers pas", price_cheques=1)
    today = factory.session(site, workshop, starts_in=timedelta(minutes=-10), capacity=40,
                            animator_id=colleague.id)
    people = [factory.beneficiary(site) for _ in range(3)]
    for someone in people:
        factory.booking(today, someone)
    login(client, staff.email)
    roster = f"/equipe/seances/{today.id}/pointage"
    etag = client.get(roster + "/liste", headers=POLL).headers["ETag"]

    def measure() -> dict[str, int]:
        return {"staff-week": _statements(client, count_queries, "/equipe/")[0],
                "checkin": _statements(client, count_queries, roster)[0],
                "roster": _statements(client, count_queries, roster + "/liste", POLL)[0],
                "poll": _statements(client, count_queries, roster + "/liste",
                                    {**POLL, "If-None-Match": etag}, status=304)[0]}

    small = measure()
    more = [factory.beneficiary(site) for _ in range(6)]
    _grow(site, more, None, workshop_id=workshop.id)
    for n, someone in enumerate(more):  # more people today, some checked in by a colleague
        factory.booking(today, someone, status=BookingStatus.PRESENT if n % 2 else
                        BookingStatus.BOOKED, checked_in_by_id=colleague.id if n % 2 else None,
                        checked_in_at=clock.now() if n % 2 else None)
    etag = client.get(roster + "/liste", headers=POLL).headers["ETag"]
    grown = measure()
    assert grown == small
    assert all(grown[name] <= CEILING[name] for name in grown), grown
    page = client.get(roster + "/liste", headers=POLL).get_data(as_text=True)
    assert page.count('class="roster-row') == 9

    # The week counts the bookings of the week's sessions, not of every session ever held
    # (a year of a department's bookings read on every request, otherwise).
    statements: list[str] = []

    def keep(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        client.get("/equipe/")
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    week = next(s for s in statements if "FROM booking" in s)
    counted = week.split("FROM booking", 1)[1].split("GROUP BY", 1)[0]
    assert "workshop_session.starts_at >=" in counted, week
