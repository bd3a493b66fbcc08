"""Check-in and cheques under contention: real threads, one database (docs/security.md#race-tests).

Each thread has its own application context, hence its own database connection; all start
together behind a barrier. The database is the per-test SQLite file (WAL, busy timeout) or
PostgreSQL when ``PORTAL_TEST_DATABASE_URL`` is set. Exact counts are asserted afterwards,
and that ``seats_taken`` equals the number of bookings holding a seat. Thirty threads where
only database rows are written; five where every overlapping call renders PDFs (in the
renderer's worker processes), to keep the file well under a minute.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Beneficiary,
    Booking,
    Cheque,
    Document,
    WorkshopSession,
)
from portal.models.vocab import BookingStatus, DocumentKind
from portal.services import checkin, closing, documents, vouchers
from portal.services.errors import ServiceError
from tests.services.scene import NOW, seats_add_up

pytestmark = pytest.mark.usefixtures("frozen")

THREADS = 30


def race(app: Flask, arguments: list[int], attempt: Callable[[int], str]) -> Counter[str]:
    """Run ``attempt(argument)`` in one thread per argument, all at once; count the answers.

    ``attempt`` runs inside its own application context and returns a result code; a
    ``ServiceError`` counts as its code, anything else as ``crash:<type>``.
    """
    results: list[str] = []
    barrier = threading.Barrier(len(arguments), timeout=30)

    def run(argument: int) -> None:
        barrier.wait()
        with app.app_context():
            try:
                results.append(attempt(argument))
            except ServiceError as error:
                results.append(error.code)
            except Exception as error:  # reported in the counts, not lost in a thread
                results.append(f"crash:{type(error).__name__}:{error}"[:200])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    assert len(results) == len(arguments)
    return Counter(results)


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where)) or 0


def test_thirty_scans_of_one_booking_check_in_once(app, factory, site, actor):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=5)
    booking_id = factory.booking(session, factory.beneficiary(site)).id

    def scan_once(_n: int) -> str:
        booking = db.session.get(Booking, booking_id)
        return checkin.check_in(booking, actor=actor).code

    results = race(app, list(range(THREADS)), scan_once)
    assert results == Counter({"checked_in": 1, "already_checked_in": THREADS - 1})
    assert count(AuditEvent, AuditEvent.action == "checkin.present") == 1
    assert db.session.get(Booking, booking_id).status is BookingStatus.PRESENT
    assert seats_add_up(session.id) == 1


def test_thirty_walk_ins_for_five_seats(app, factory, site, actor):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=5)
    session_id = session.id
    people = [factory.beneficiary(site).id for _ in range(THREADS)]

    def walk_in(person_id: int) -> str:
        session = db.session.get(WorkshopSession, session_id)
        person = db.session.get(Beneficiary, person_id)
        return checkin.add_walk_in(session, person, actor=actor).code

    results = race(app, people, walk_in)
    assert results == Counter({"walk_in_added": 5, "session_full": THREADS - 5})
    present = count(Booking, Booking.session_id == session_id,
                    Booking.status == BookingStatus.PRESENT)
    assert seats_add_up(session_id) == 5 == present
    assert count(Booking, Booking.session_id == session_id) == 5
    assert count(AuditEvent, AuditEvent.action == "checkin.walk_in") == 5


def test_one_cheque_offered_for_thirty_bookings_is_taken_once(app, factory, site, actor,
                                                              aptic):
    workshop = factory.workshop(price_cheques=1)
    session = factory.session(site, workshop, starts_in=timedelta(minutes=-10),
                              capacity=THREADS)
    bookings = [factory.booking(session, factory.beneficiary(site),
                                status=BookingStatus.PRESENT).id for _ in range(THREADS)]

    def redeem(booking_id: int) -> str:
        booking = db.session.get(Booking, booking_id)
        vouchers.redeem_cheques(booking, "2026-6201-01", actor=actor)
        return "redeemed"

    results = race(app, bookings, redeem)
    assert results == Counter({"redeemed": 1, "cheque_already_redeemed": THREADS - 1})
    [cheque] = db.session.scalars(db.select(Cheque)).all()
    assert cheque.number == "2026620101" and cheque.redeemed_at == NOW
    assert cheque.booking_id in bookings and cheque.receipt_id is not None
    assert count(Document, Document.kind == DocumentKind.RECEIPT) == 1
    assert count(AuditEvent, AuditEvent.action == "cheques.redeemed") == 1


def test_thirty_cheques_for_a_workshop_that_costs_two(app, factory, site, actor, aptic):
    workshop = factory.workshop(price_cheques=2)
    session = factory.session(site, workshop, starts_in=timedelta(minutes=-10))
    booking_id = factory.booking(session, factory.beneficiary(site),
                                 status=BookingStatus.PRESENT).id

    def redeem(n: int) -> str:
        booking = db.session.get(Booking, booking_id)
        vouchers.redeem_cheques(booking, str(2026620100 + n), actor=actor)
        return "redeemed"

    results = race(app, list(range(THREADS)), redeem)
    assert results == Counter({"redeemed": 2, "cheques_too_many": THREADS - 2})
    taken = db.session.scalars(db.select(Cheque).where(Cheque.booking_id == booking_id)).all()
    assert len(taken) == 2 and all(c.redeemed_at is not None for c in taken)
    assert count(Cheque) == 2
    assert vouchers.payment(db.session.get(Booking, booking_id)).owed == 0
    assert count(Document, Document.kind == DocumentKind.RECEIPT) == 2
    assert all(c.receipt_id is not None for c in taken)


def test_one_person_added_from_thirty_devices_for_the_last_seat(app, factory, site, actor):
    """A double tap on "Ajouter" for the last free seat: the person is added once, and the
    other devices learn that they are already checked in, not that the session is full."""
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=3)
    for _ in range(2):
        factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    session_id = session.id
    person_id = factory.beneficiary(site).id

    def walk_in(_n: int) -> str:
        session = db.session.get(WorkshopSession, session_id)
        person = db.session.get(Beneficiary, person_id)
        return checkin.add_walk_in(session, person, actor=actor).code

    results = race(app, list(range(THREADS)), walk_in)
    assert results == Counter({"walk_in_added": 1, "already_checked_in": THREADS - 1})
    assert count(Booking, Booking.beneficiary_id == person_id) == 1
    assert seats_add_up(session_id) == 3


def test_thirty_extra_seats_for_thirty_people_at_a_full_session(app, factory, site, actor):
    """Each confirmed extra seat adds exactly one: the capacity follows the people added."""
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=2)
    for _ in range(2):
        factory.booking(session, factory.beneficiary(site))
    session_id = session.id
    people = [factory.beneficiary(site).id for _ in range(THREADS)]

    def walk_in(person_id: int) -> str:
        session = db.session.get(WorkshopSession, session_id)
        person = db.session.get(Beneficiary, person_id)
        return checkin.add_walk_in(session, person, actor=actor, extra_seat=True,
                                   confirmed=True).code

    results = race(app, people, walk_in)
    assert results == Counter({"walk_in_added": THREADS})
    assert db.session.get(WorkshopSession, session_id).capacity == 2 + THREADS
    assert seats_add_up(session_id) == 2 + THREADS
    assert count(AuditEvent, AuditEvent.action == "session.seat_added") == THREADS


def test_one_extra_seat_confirmed_on_thirty_devices_adds_one(app, factory, site, actor):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=2)
    for _ in range(2):
        factory.booking(session, factory.beneficiary(site))
    session_id = session.id
    person_id = factory.beneficiary(site).id

    def walk_in(_n: int) -> str:
        session = db.session.get(WorkshopSession, session_id)
        person = db.session.get(Beneficiary, person_id)
        return checkin.add_walk_in(session, person, actor=actor, extra_seat=True,
                                   confirmed=True).code

    results = race(app, list(range(THREADS)), walk_in)
    assert results == Counter({"walk_in_added": 1, "already_checked_in": THREADS - 1})
    assert db.session.get(WorkshopSession, session_id).capacity == 3
    assert seats_add_up(session_id) == 3
    assert count(AuditEvent, AuditEvent.action == "session.seat_added") == 1


def test_a_session_closed_from_several_devices_at_once_issues_each_document_once(
        app, factory, site, actor):
    """Closing is "safe to call again": also when the calls overlap (a double click, two
    tablets). Fewer threads here: every overlapping call may render PDFs."""
    workshop = factory.workshop(grants_attestation=True)
    session = factory.session(site, workshop, starts_in=timedelta(hours=-2, minutes=-10))
    present = [factory.booking(session, factory.beneficiary(site),
                               status=BookingStatus.PRESENT).beneficiary_id for _ in range(2)]
    factory.booking(session, factory.beneficiary(site))
    session_id = session.id

    def close(_n: int) -> str:
        session = db.session.get(WorkshopSession, session_id)
        result = closing.close_session(session, actor=actor,
                                       verify_url="https://portail.example.fr/v/{code}")
        assert not result.documents_failed
        return "closed" if result.newly_closed else "already_closed"

    results = race(app, list(range(5)), close)
    assert results == Counter({"closed": 1, "already_closed": 4})
    certificates = db.session.scalars(db.select(Document.beneficiary_id).where(
        Document.kind == DocumentKind.CERTIFICATE, Document.session_id == session_id,
        Document.revoked_at.is_(None))).all()
    assert sorted(certificates) == sorted(present)
    assert count(Document, Document.kind == DocumentKind.ATTENDANCE_SHEET) == 1
    assert count(AuditEvent, AuditEvent.action == "session.closed") == 1
    assert seats_add_up(session_id) == 2


def test_a_missing_receipt_reissued_from_several_devices_at_once_is_issued_once(
        app, factory, site, actor, aptic, monkeypatch):
    workshop = factory.workshop(price_cheques=2)
    session = factory.session(site, workshop, starts_in=timedelta(minutes=-10))
    booking_id = factory.booking(session, factory.beneficiary(site),
                                 status=BookingStatus.PRESENT).id

    def printer_down(cheques, *, actor):
        raise TimeoutError("the renderer took too long")

    with monkeypatch.context() as patch:  # the receipt failed to print at the time
        patch.setattr(documents, "issue_receipt", printer_down)
        vouchers.redeem_cheques(db.session.get(Booking, booking_id), "2026620101;2026620102",
                                actor=actor)

    def reissue(_n: int) -> str:
        booking = db.session.get(Booking, booking_id)
        vouchers.issue_missing_receipt(booking, actor=actor)
        return "issued"

    results = race(app, list(range(5)), reissue)
    assert results == Counter({"issued": 1, "receipt_exists": 4})
    assert count(Document, Document.kind == DocumentKind.RECEIPT) == 1
    receipt_ids = db.session.scalars(db.select(Cheque.receipt_id)).all()
    assert len(set(receipt_ids)) == 1 and None not in receipt_ids
