"""Writing costs a fixed number of SQL statements: a check-in scan, a booking, closing a
session and the retention purge's selection do not run more statements when more people are
involved, and a document's PDF bytes (kept in a table of their own) are never read by the
lists and exports, yet always stored with their fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from portal import clock
from portal.extensions import db
from portal.models import Accompaniment, Beneficiary, Document
from portal.models.documents import DocumentFile
from portal.models.vocab import BookingStatus, DocumentKind
from portal.services import bookings, checkin, closing, personal_data
from portal.services.audit import Actor
from tests.conftest import login
from tests.services.scene import NOW, VERIFY

pytestmark = pytest.mark.usefixtures("frozen")

#: statements of one scan that checks a booked person in (19 before issue 14; this scene;
#: 15 before a session's workshop stopped loading its themes with it).
SCAN = 9
#: statements of one booking by the person (10 before issue 14).
BOOKING = 8
#: statements of closing a session, its attestations and its sheet issued (60 for 2 people,
#: 100 for 6 and 340 for 30 before issue 14; 54 with the workshop's themes loaded).
CLOSING = 40


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run meanwhile, in order (one per batched ``executemany``)."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


def _session_with(factory, site, people: int, *, starts_in: timedelta, status=None):
    workshop = factory.workshop(title="Premiers pas", grants_attestation=True)
    session = factory.session(site, workshop, starts_in=starts_in, capacity=40)
    persons = [factory.beneficiary(site) for _ in range(people)]
    for person in persons:
        factory.booking(session, person, **({"status": status} if status else {}))
    return session, persons


def test_a_scan_and_a_booking_cost_a_fixed_number_of_statements(factory, site, actor):
    counts = []
    for people in (2, 12):
        session, persons = _session_with(factory, site, people,
                                         starts_in=timedelta(minutes=-10))
        card = persons[-1].login_id
        with statements() as scan:
            assert checkin.scan(session, card, actor=actor).code == "checked_in"
        counts.append(len(scan))
    assert counts[0] == counts[1] <= SCAN, scan
    later = factory.session(site, starts_in=timedelta(days=3), capacity=40)
    person = persons[0]
    db.session.refresh(person)
    with statements() as booking:
        outcome = bookings.book(later, person, actor=Actor.of(person))
    assert outcome.booking.status is BookingStatus.BOOKED
    assert len(booking) <= BOOKING, booking


def _bytes_kept_with_their_hash() -> None:
    """Every complete document has its bytes and their hash; a pending one has neither."""
    rows = db.session.execute(
        select(Document.id, Document.sha256, DocumentFile.pdf)
        .outerjoin(DocumentFile, DocumentFile.document_id == Document.id)).all()
    assert rows
    for document_id, sha256, pdf in rows:
        assert (sha256 is None) == (pdf is None), document_id
        assert pdf is None or hashlib.sha256(pdf).hexdigest() == sha256, document_id


def test_closing_costs_the_same_statements_for_2_or_6_people(factory, site, actor):
    counts = []
    for people in (1, 2, 6):  # the first also starts the year's number series

        session, _persons = _session_with(factory, site, people,
                                          starts_in=timedelta(hours=-3),
                                          status=BookingStatus.PRESENT)
        with statements() as close:
            result = closing.close_session(session, actor=actor, verify_url=VERIFY)
        assert not result.documents_failed and len(result.certificates) == people
        counts.append(len(close))
    assert counts[1] == counts[2] <= CLOSING, counts
    assert all(d.sequence == i for i, d in enumerate(db.session.scalars(
        select(Document).filter_by(kind=DocumentKind.CERTIFICATE).order_by(Document.id)), 1))
    _bytes_kept_with_their_hash()
    # The documents list, a person's export and "My documents" never read the bytes.
    admin = factory.staff(site, full_name="Nathalie Caron")
    person = db.session.get(Beneficiary, result.certificates[0].beneficiary_id)
    with statements() as export:
        data = personal_data.gather(person)
    assert data["documents"] and not [s for s in export if "document_file" in s]
    _staff_list_reads_no_bytes(admin)


def _staff_list_reads_no_bytes(admin) -> None:
    from flask import current_app

    client = current_app.test_client()
    assert login(client, admin.email).status_code == 303
    with statements() as page:
        response = client.get("/equipe/documents")
    assert response.status_code == 200 and "ATT-" in response.get_data(as_text=True)
    assert not [s for s in page if "document_file" in s], page


def _inactive_people(factory, site, count: int) -> list[Beneficiary]:
    clock.freeze(NOW - timedelta(days=500))
    people = [factory.beneficiary(site) for _ in range(count)]
    clock.freeze(NOW)
    return people


def test_the_purge_selects_everyone_due_in_a_fixed_number_of_statements(factory, site, actor):
    long_site = factory.site(retention_months=24)
    _inactive_people(factory, site, 1)
    with statements() as one:
        assert len(personal_data.due_for_purge()) == 1
    # More people, of every kind the rule tells apart: the same statements.
    kept = _inactive_people(factory, long_site, 2)
    came_back = _inactive_people(factory, site, 3)
    factory.booking(factory.session(site, starts_in=timedelta(days=-30)), came_back[0],
                    BookingStatus.PRESENT)
    factory.booking(factory.session(long_site, starts_in=timedelta(days=-500)), came_back[1],
                    BookingStatus.PRESENT)  # known at a site that keeps 24 months
    db.session.add(Accompaniment(beneficiary_id=came_back[2].id, site_id=site.id,
                                 started_at=NOW - timedelta(days=20), duration_minutes=30))
    db.session.commit()
    with statements() as many:
        due = personal_data.due_for_purge()
    assert len(many) == len(one) <= 3, many
    assert set(due).isdisjoint({p.id for p in kept + came_back}) and len(due) == 1
    # The grouped answer is the person-by-person one (last_activity, known_sites).
    retention = personal_data._retentions()
    everyone = db.session.scalars(select(Beneficiary).order_by(Beneficiary.id)).all()
    assert len(everyone) == 6
    assert due == [p.id for p in everyone if personal_data.last_activity(p) < (
        personal_data._months_ago(NOW, personal_data._retention_of(p, retention)))]
    # Then one transaction per person (locked, checked again, anonymised): each person
    # costs the same statements, on top of a fixed few.
    assert personal_data.purge().anonymised == due
    purged = []
    for count in (1, 2, 3):
        _inactive_people(factory, site, count)
        with statements() as purge:
            assert len(personal_data.purge().anonymised) == count
        purged.append(len(purge))
    assert purged[2] - purged[1] == purged[1] - purged[0], purged
