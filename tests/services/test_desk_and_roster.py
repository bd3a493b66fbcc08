"""What the staff screens read, answered by services: cheques still owed (one place), the
marks each roster row offers, and the desk's file of a person (what may be booked or
cancelled). One rule per test, no HTTP; the clock is frozen on Thursday 26 November 2026,
14:00 in Paris.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import Cheque, ChequeProgramme, StaffSiteRole
from portal.models.vocab import BookingStatus, SessionStatus, StaffRole
from portal.services import closing, desk, roster, vouchers
from portal.services.audit import Actor
from tests.services.scene import NOW, VERIFY, programme

pytestmark = pytest.mark.usefixtures("frozen")


def pay(booking, count: int) -> None:
    """``count`` cheques taken for the booking (on no receipt yet)."""
    aptic = db.session.scalar(db.select(ChequeProgramme)) or programme()
    for n in range(count):
        db.session.add(Cheque(programme_id=aptic.id, number=f"20266{booking.id:03d}{n:02d}",
                              value_cents=1000, redeemed_at=NOW, booking_id=booking.id,
                              site_id=booking.session.site_id))
    db.session.commit()


@pytest.fixture
def today(factory, site):
    """Started ten minutes ago; costs two cheques."""
    return factory.session(site, factory.workshop(price_cheques=2),
                           starts_in=timedelta(minutes=-10), capacity=3)


# --- cheques still owed ---------------------------------------------------------------------------


def test_what_is_owed_follows_the_price_the_cheques_taken_and_the_status(factory, site, today):
    present = factory.booking(today, factory.beneficiary(site), BookingStatus.PRESENT)
    booked = factory.booking(today, factory.beneficiary(site))
    absent = factory.booking(today, factory.beneficiary(site), BookingStatus.ABSENT)
    waiting = factory.booking(today, factory.beneficiary(site), BookingStatus.WAITLISTED,
                              waitlist_position=1)
    pay(present, 1)
    owed = {b.id: p.owed for b, p in zip(
        (present, booked, absent, waiting),
        vouchers.payments([present, booked, absent, waiting]).values(), strict=True)}
    assert owed == {present.id: 1, booked.id: 2, absent.id: 0, waiting.id: 0}
    assert vouchers.payment(present).paid == 1 and vouchers.payment(present).unreceipted == 1


def test_a_free_workshop_owes_nothing(factory, site):
    session = factory.session(site, factory.workshop(price_cheques=0),
                              starts_in=timedelta(minutes=-10))
    booking = factory.booking(session, factory.beneficiary(site), BookingStatus.PRESENT)
    assert vouchers.payment(booking).owed == 0


def test_the_roster_the_panel_and_the_closing_read_the_same_amount(factory, site, staff, today):
    booking = factory.booking(today, factory.beneficiary(site), BookingStatus.PRESENT)
    pay(booking, 1)
    [row] = roster.roster(staff, today).rows
    assert row.payment == roster.row(staff, booking).payment == vouchers.payment(booking)
    assert row.payment.owed == 1


# --- what each roster row offers ------------------------------------------------------------------


def test_a_booked_row_offers_every_mark_but_undo(factory, site, staff, today):
    factory.booking(today, factory.beneficiary(site))
    [row] = roster.roster(staff, today).rows
    assert row.actions == {"present", "absent", "excused", "cheques"}


def test_a_paid_presence_cannot_be_turned_into_an_absence(factory, site, staff, actor, today):
    from portal.services import checkin

    booking = factory.booking(today, factory.beneficiary(site))
    checkin.check_in(booking, actor=actor)
    pay(booking, 2)
    [row] = roster.roster(staff, today).rows
    assert row.actions == {"undo", "receipt"}  # cheques paid: no absence, no more cheques


def test_someone_waiting_is_offered_present_only_while_a_seat_is_free(factory, site, staff):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=1)
    waiting = factory.booking(session, factory.beneficiary(site), BookingStatus.WAITLISTED,
                              waitlist_position=1)
    assert "present" in roster.row(staff, waiting).actions
    factory.booking(session, factory.beneficiary(site))
    db.session.refresh(session)
    assert "present" not in roster.row(staff, waiting).actions


def test_a_closed_session_offers_no_mark(factory, site, staff, today):
    booking = factory.booking(today, factory.beneficiary(site), BookingStatus.PRESENT)
    closing.close_session(today, actor=Actor.of(staff), verify_url=VERIFY)
    listed = roster.roster(staff, today)
    assert not listed.can_check_in
    assert roster.row(staff, booking).actions == {"cheques"}  # paying late is still possible


def test_reception_takes_attendance_and_cheques(factory, site, today):
    reception = factory.staff(site, StaffRole.RECEPTION)
    factory.booking(today, factory.beneficiary(site))
    listed = roster.roster(reception, today)
    assert listed.can_check_in and listed.rows[0].actions >= {"present", "cheques"}


# --- the desk: a person's file --------------------------------------------------------------------


def test_a_booking_of_a_session_already_started_cannot_be_cancelled(factory, site, staff, today):
    person = factory.beneficiary(site)
    started = factory.booking(today, person)
    later = factory.booking(factory.session(site, starts_in=timedelta(hours=1)), person)
    lines = {line.booking.id: line for line in desk.person_file(staff, person).upcoming}
    assert lines[started.id].can_cancel is False
    assert lines[later.id].can_cancel is True  # after the online deadline: staff may


def test_bookings_at_a_site_where_staff_may_not_book_cannot_be_cancelled_there(factory, site,
                                                                                staff):
    elsewhere = factory.site(code="AVI", name="Avion")
    person = factory.beneficiary(site)
    there = factory.booking(factory.session(elsewhere, starts_in=timedelta(days=3)), person)
    [line] = desk.person_file(staff, person).upcoming
    assert line.booking.id == there.id and line.can_cancel is False


def test_a_small_site_is_offered_its_sessions_whatever_the_network_holds(factory, site):
    small = factory.site(code="PET", name="Petit lieu")
    staff = factory.staff(small, StaffRole.ANIMATEUR)
    big_workshop = factory.workshop(title="Ailleurs")
    for hours in range(1, desk.BOOKABLE_LIMIT + 11):
        factory.session(site, big_workshop, starts_in=timedelta(hours=hours))
    ours = factory.session(small, factory.workshop(title="Chez nous"),
                           starts_in=timedelta(days=6))
    person = factory.beneficiary(small)
    offered = desk.person_file(staff, person).bookable
    assert [s.id for s in offered] == [ours.id]


def test_the_booking_form_leaves_out_sessions_the_person_is_on(factory, site, staff):
    person = factory.beneficiary(site)
    booked = factory.session(site, starts_in=timedelta(days=1))
    factory.booking(booked, person)
    cancelled_there = factory.session(site, starts_in=timedelta(days=2))
    factory.booking(cancelled_there, person, BookingStatus.CANCELLED)
    free = factory.session(site, starts_in=timedelta(days=3))
    gone = factory.session(site, starts_in=timedelta(days=4), status=SessionStatus.CANCELLED)
    offered = [s.id for s in desk.bookable_sessions(staff, person)]
    assert offered == [cancelled_there.id, free.id]
    assert gone.id not in offered


def test_the_login_card_is_printed_where_the_role_allows_it(factory, site):
    other = factory.site(code="AVI", name="Avion")
    staff = factory.staff(other, StaffRole.RECEPTION)
    staff.roles.append(StaffSiteRole(site_id=site.id, role=StaffRole.RECEPTION))
    db.session.commit()
    person = factory.beneficiary(site)
    assert desk.person_file(staff, person).can_print_card
    assert desk.card_site(staff, person).id == site.id
