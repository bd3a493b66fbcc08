"""Check-in at the door, one rule per test: scans, walk-ins, marks, undo (no HTTP).

The clock is frozen on Thursday 26 November 2026 at 14:00 in Paris (13:00 UTC), so "today"
never depends on when the suite runs. After every change the seats must add up:
``seats_taken`` equals the number of bookings that hold a seat (booked or present).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal import clock
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Booking,
    Cheque,
    ChequeProgramme,
)
from portal.models.vocab import (
    ActorKind,
    BookingSource,
    BookingStatus,
    SessionStatus,
    StaffRole,
)
from portal.services import bookings, checkin, closing, roster
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from tests.services.scene import NOW, VERIFY, code_of, fresh, seats_add_up

pytestmark = pytest.mark.usefixtures("frozen")

@pytest.fixture
def session(factory, site):
    """Started ten minutes ago, today."""
    return factory.session(site, factory.workshop(title="Premiers pas sur la tablette"),
                           starts_in=timedelta(minutes=-10), capacity=4)


def audit_rows(action: str | None = None) -> list[AuditEvent]:
    query = db.select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.filter_by(action=action)
    return list(db.session.scalars(query))


def checkin_audit() -> list[AuditEvent]:
    return [e for e in audit_rows() if e.action.startswith("checkin.")]


def assert_one_audit(action: str, booking: Booking, staff, at: datetime = NOW) -> AuditEvent:
    rows = checkin_audit()
    assert [e.action for e in rows] == [action]
    event = rows[0]
    assert event.actor_kind is ActorKind.STAFF and event.actor_id == staff.id
    assert event.at == at
    assert event.object_type == "booking" and event.object_id == str(booking.id)
    return event


# --- scanning: who is at the door --------------------------------------------------------------


def test_scanning_a_login_card_checks_the_person_in(factory, site, session, staff, actor):
    person = factory.beneficiary(site)
    booking = factory.booking(session, person)
    outcome = checkin.scan(session, person.login_id, actor=actor)
    assert outcome.code == "checked_in"
    assert outcome.booking.id == booking.id and outcome.person.id == person.id
    booking = fresh(booking)
    assert booking.status is BookingStatus.PRESENT
    assert booking.checked_in_at == NOW and booking.checked_in_by_id == staff.id
    assert seats_add_up(session) == 1
    event = assert_one_audit("checkin.present", booking, staff)
    assert event.details["previous"] == "booked"


def test_scanning_the_booking_code_checks_the_person_in(factory, site, session, staff, actor):
    booking = factory.booking(session, factory.beneficiary(site))
    assert checkin.scan(session, booking.code, actor=actor).code == "checked_in"
    assert fresh(booking).status is BookingStatus.PRESENT
    assert seats_add_up(session) == 1
    assert_one_audit("checkin.present", booking, staff)


@pytest.mark.parametrize("typed", ["hx7k-p4rm", "  HX7K-P4RM  ", "hx7k p4rm", "Hx7kP4rm"])
def test_the_printed_code_is_read_with_dashes_spaces_and_lower_case(factory, site, session,
                                                                     actor, typed):
    booking = factory.booking(session, factory.beneficiary(site), code="HX7KP4RM")
    assert checkin.scan(session, typed, actor=actor).code == "checked_in"
    assert fresh(booking).status is BookingStatus.PRESENT
    seats_add_up(session)


def test_a_second_scan_says_already_checked_in_and_keeps_the_first(factory, site, session,
                                                                    staff, actor):
    person = factory.beneficiary(site)
    booking = factory.booking(session, person)
    checkin.scan(session, person.login_id, actor=actor)
    colleague = factory.staff(site, StaffRole.RECEPTION)
    clock.freeze(NOW + timedelta(minutes=5))
    outcome = checkin.scan(session, booking.code, actor=Actor.of(colleague))
    assert outcome.code == "already_checked_in"
    booking = fresh(booking)
    assert booking.checked_in_at == NOW and booking.checked_in_by_id == staff.id
    assert seats_add_up(session) == 1
    assert_one_audit("checkin.present", booking, staff)  # the second scan wrote nothing


def test_a_known_person_without_a_booking_may_be_added(factory, site, session, actor):
    person = factory.beneficiary(site)
    outcome = checkin.scan(session, person.login_id, actor=actor)
    assert outcome.code == "walk_in_possible"
    assert outcome.person.id == person.id and outcome.booking is None
    assert db.session.scalar(db.select(db.func.count()).select_from(Booking)) == 0
    assert seats_add_up(session) == 0
    assert checkin_audit() == []


def test_adding_a_walk_in_takes_a_seat_and_checks_in(factory, site, session, staff, actor):
    person = factory.beneficiary(site)
    marked = checkin.add_walk_in(session, person, actor=actor)
    assert marked.code == "walk_in_added"
    booking = fresh(marked.booking)
    assert booking.status is BookingStatus.PRESENT and booking.source is BookingSource.WALK_IN
    assert booking.checked_in_at == NOW and booking.checked_in_by_id == staff.id
    assert booking.created_by_id == staff.id
    assert seats_add_up(session) == 1
    assert_one_audit("checkin.walk_in", booking, staff)


def test_adding_someone_already_booked_checks_them_in(factory, site, session, staff, actor):
    person = factory.beneficiary(site)
    booking = factory.booking(session, person)
    marked = checkin.add_walk_in(session, person, actor=actor)
    assert marked.code == "checked_in" and marked.booking.id == booking.id
    assert fresh(booking).source is BookingSource.ONLINE
    assert seats_add_up(session) == 1
    assert_one_audit("checkin.present", booking, staff)


def test_scanning_someone_not_booked_into_a_full_session(factory, site, actor):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=1)
    factory.booking(session, factory.beneficiary(site))
    person = factory.beneficiary(site)
    outcome = checkin.scan(session, person.login_id, actor=actor)
    assert outcome.code == "session_full" and outcome.person.id == person.id
    assert seats_add_up(session) == 1
    assert checkin_audit() == []


def test_no_walk_in_into_a_full_session(factory, site, actor):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=1)
    factory.booking(session, factory.beneficiary(site))
    person = factory.beneficiary(site)
    assert code_of(lambda: checkin.add_walk_in(session, person, actor=actor)) == "session_full"
    assert bookings.booking_for(session, person) is None
    assert seats_add_up(session) == 1
    assert checkin_audit() == []


# --- one more seat in a full session: nobody is sent home ------------------------------------


@pytest.fixture
def full(factory, site):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=2)
    for _ in range(2):
        factory.booking(session, factory.beneficiary(site))
    return session


def test_adding_a_seat_needs_a_confirmation_and_changes_nothing_before(factory, site, full,
                                                                      actor):
    person = factory.beneficiary(site, first_name="Kévin", last_name="Duhamel")
    with pytest.raises(checkin.SeatToConfirm) as question:
        checkin.add_walk_in(session=full, person=person, actor=actor, extra_seat=True)
    assert question.value.code == "extra_seat_to_confirm"
    assert "Kévin Duhamel" in question.value.message and "de 2 à 3 places" in \
        question.value.message
    assert fresh(full).capacity == 2 and seats_add_up(full) == 2
    assert bookings.booking_for(full, person) is None and audit_rows() == []


def test_a_confirmed_extra_seat_raises_the_capacity_by_one_and_is_audited(factory, site, full,
                                                                         staff, actor):
    person = factory.beneficiary(site)
    marked = checkin.add_walk_in(full, person, actor=actor, extra_seat=True, confirmed=True)
    assert marked.code == "walk_in_added" and marked.seat_added
    assert fresh(full).capacity == 3 and seats_add_up(full) == 3
    assert fresh(marked.booking).status is BookingStatus.PRESENT
    added = audit_rows("session.seat_added")
    assert [(e.object_id, e.actor_id, e.details["capacity"], e.details["beneficiary_id"])
            for e in added] == [(str(full.id), staff.id, 3, person.id)]
    assert audit_rows("checkin.walk_in")[0].details["seat_added"] is True


def test_someone_waiting_gets_the_extra_seat_too(factory, site, full, actor):
    person = factory.beneficiary(site)
    waiting = factory.booking(full, person, status=BookingStatus.WAITLISTED,
                              waitlist_position=1)
    assert checkin.scan(full, person.login_id, actor=actor).code == "session_full"
    marked = checkin.add_walk_in(full, person, actor=actor, extra_seat=True, confirmed=True)
    assert marked.code == "checked_in" and marked.booking.id == waiting.id
    assert marked.seat_added and fresh(full).capacity == 3 and seats_add_up(full) == 3


def test_a_seat_freed_meanwhile_is_taken_without_adding_one(factory, site, full, actor):
    a_booking = db.session.scalars(db.select(Booking).filter_by(session_id=full.id)).first()
    checkin.mark_excused(a_booking, actor=actor)
    marked = checkin.add_walk_in(full, factory.beneficiary(site), actor=actor, extra_seat=True,
                                 confirmed=True)
    assert marked.code == "walk_in_added" and not marked.seat_added
    assert fresh(full).capacity == 2 and seats_add_up(full) == 2
    assert audit_rows("session.seat_added") == []


def test_reception_cannot_add_a_seat(factory, site, full):
    reception = Actor.of(factory.staff(site, StaffRole.RECEPTION))
    person = factory.beneficiary(site)
    assert code_of(lambda: checkin.add_walk_in(full, person, actor=reception, extra_seat=True,
                                               confirmed=True)) == "role_required"
    assert fresh(full).capacity == 2 and seats_add_up(full) == 2
    assert audit_rows() == []


def test_no_seat_is_added_beyond_the_largest_capacity(factory, site, actor):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=500)
    session.seats_taken = 500  # a stand-in for 500 people booked
    db.session.commit()
    person = factory.beneficiary(site)
    assert code_of(lambda: checkin.add_walk_in(session, person, actor=actor, extra_seat=True,
                                               confirmed=True)) == "session_full"
    assert fresh(session).capacity == 500


# --- someone without a seat here: blue when one is free -------------------------------------


@pytest.mark.parametrize("scanned", ["card", "booking code"])
def test_a_cancelled_booking_here_offers_a_walk_in(factory, site, session, actor, scanned):
    person = factory.beneficiary(site)
    booking = factory.booking(session, person, status=BookingStatus.CANCELLED,
                              cancelled_at=NOW - timedelta(days=2))
    raw = person.login_id if scanned == "card" else booking.code
    outcome = checkin.scan(session, raw, actor=actor)
    assert outcome.code == "walk_in_possible"  # seats are left: staff may add them
    assert outcome.person.id == person.id and outcome.booking.id == booking.id
    assert fresh(booking).status is BookingStatus.CANCELLED
    assert seats_add_up(session) == 0


def test_checking_in_a_cancelled_booking_is_refused(factory, site, session, actor):
    booking = factory.booking(session, factory.beneficiary(site),
                              status=BookingStatus.CANCELLED, cancelled_at=NOW)
    assert code_of(lambda: checkin.check_in(booking, actor=actor)) == "booking_cancelled"
    assert seats_add_up(session) == 0


def test_an_unknown_code_is_reported(factory, site, session, actor):
    factory.booking(session, factory.beneficiary(site))
    with pytest.raises(ServiceError) as error:
        checkin.scan(session, "ZZZZ-9999", actor=actor)
    assert error.value.code == "unknown_code"
    assert "ZZZZ-9999" in error.value.message
    assert checkin_audit() == []


def test_booked_in_another_session_the_same_day(factory, site, session, actor):
    person = factory.beneficiary(site)
    later = factory.session(site, factory.workshop(title="Le courriel"),
                            starts_in=timedelta(hours=3))
    elsewhere = factory.booking(later, person)
    for raw in (person.login_id, elsewhere.code):
        outcome = checkin.scan(session, raw, actor=actor)
        assert outcome.code == "walk_in_possible" and outcome.person.id == person.id
        assert [b.id for b in outcome.others] == [elsewhere.id]
    assert fresh(elsewhere).status is BookingStatus.BOOKED
    assert seats_add_up(session) == 0 and seats_add_up(later) == 1


def test_booked_on_other_days_says_which_nearest_first(factory, site, session, actor):
    person = factory.beneficiary(site)
    in_two_weeks = factory.booking(factory.session(site, starts_in=timedelta(days=14)), person)
    next_week = factory.booking(factory.session(site, starts_in=timedelta(days=7)), person)
    waiting = factory.booking(factory.session(site, starts_in=timedelta(days=2)), person,
                              status=BookingStatus.WAITLISTED, waitlist_position=1)
    factory.booking(factory.session(site, starts_in=timedelta(days=3)), person,
                    status=BookingStatus.CANCELLED)
    outcome = checkin.scan(session, person.login_id, actor=actor)
    assert outcome.code == "walk_in_possible"
    assert [b.id for b in outcome.others] == [waiting.id, next_week.id, in_two_weeks.id]
    assert fresh(next_week).status is BookingStatus.BOOKED
    assert seats_add_up(session) == 0


def test_the_booking_code_of_another_day_is_named_first(factory, site, session, actor):
    person = factory.beneficiary(site)
    factory.booking(factory.session(site, starts_in=timedelta(days=2)), person)
    shown = factory.booking(factory.session(site, starts_in=timedelta(days=9)), person)
    outcome = checkin.scan(session, shown.code, actor=actor)
    assert outcome.code == "walk_in_possible" and outcome.others[0].id == shown.id


def test_booked_on_another_day_and_the_session_is_full(factory, site, full, actor):
    person = factory.beneficiary(site)
    elsewhere = factory.booking(factory.session(site, starts_in=timedelta(days=7)), person)
    outcome = checkin.scan(full, person.login_id, actor=actor)
    assert outcome.code == "session_full" and [b.id for b in outcome.others] == [elsewhere.id]


def test_a_cancelled_booking_of_another_session_is_not_called_a_booking(factory, site,
                                                                          session, actor):
    """The person cancelled their place at tonight's session and came to this one instead:
    their old booking code must answer as their card does (nobody expects them elsewhere)."""
    person = factory.beneficiary(site)
    later = factory.session(site, starts_in=timedelta(hours=3))
    cancelled = factory.booking(later, person, status=BookingStatus.CANCELLED,
                                cancelled_at=NOW - timedelta(days=1))
    by_card = checkin.scan(session, person.login_id, actor=actor)
    by_code = checkin.scan(session, cancelled.code, actor=actor)
    assert by_card.code == by_code.code == "walk_in_possible"
    assert by_card.others == by_code.others == []
    seats_add_up(session)


def test_today_is_the_day_in_paris_not_in_utc(factory, site, actor):
    # 00:30 on Friday 27 November in Paris is still Thursday 26 in UTC.
    after_midnight = factory.session(site, starts_in=timedelta(hours=10, minutes=30))
    assert after_midnight.starts_at.date() == NOW.date()
    booking = factory.booking(after_midnight, factory.beneficiary(site))
    assert code_of(lambda: checkin.check_in(booking, actor=actor)) == "session_not_today"
    clock.freeze(NOW + timedelta(hours=10))  # 00:00 in Paris: the session's day
    assert checkin.check_in(booking, actor=actor).code == "checked_in"
    seats_add_up(after_midnight)


def test_someone_waiting_who_comes_takes_a_free_seat(factory, site, session, actor):
    person = factory.beneficiary(site)
    booking = factory.booking(session, person, status=BookingStatus.WAITLISTED,
                              waitlist_position=1)
    assert checkin.scan(session, person.login_id, actor=actor).code == "checked_in"
    booking = fresh(booking)
    assert booking.status is BookingStatus.PRESENT and booking.waitlist_position is None
    assert seats_add_up(session) == 1


def test_someone_waiting_cannot_come_in_when_the_session_is_full(factory, site, actor):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=1)
    factory.booking(session, factory.beneficiary(site))
    person = factory.beneficiary(site)
    booking = factory.booking(session, person, status=BookingStatus.WAITLISTED,
                              waitlist_position=1)
    outcome = checkin.scan(session, person.login_id, actor=actor)
    assert outcome.code == "session_full" and outcome.booking.id == booking.id
    assert fresh(booking).status is BookingStatus.WAITLISTED
    assert seats_add_up(session) == 1


def test_an_anonymised_person_cannot_be_added(factory, site, session, actor):
    person = factory.beneficiary(site, anonymised_at=NOW - timedelta(days=30))
    assert code_of(lambda: checkin.add_walk_in(session, person, actor=actor)) == (
        "unknown_person")
    assert code_of(lambda: checkin.scan(session, person.login_id, actor=actor)) == (
        "unknown_code")
    seats_add_up(session)


def test_a_session_of_another_day_is_not_open_for_check_in(factory, site, actor):
    tomorrow = factory.session(site, starts_in=timedelta(days=1))
    person = factory.beneficiary(site)
    booking = factory.booking(tomorrow, person)
    assert code_of(lambda: checkin.scan(tomorrow, person.login_id, actor=actor)) == (
        "session_not_today")
    assert code_of(lambda: checkin.check_in(booking, actor=actor)) == "session_not_today"
    assert code_of(lambda: checkin.mark_absent(booking, actor=actor)) == "session_not_today"
    assert fresh(booking).status is BookingStatus.BOOKED
    seats_add_up(tomorrow)


@pytest.mark.parametrize(("status", "code"), [
    (SessionStatus.CLOSED, "session_closed"),
    (SessionStatus.CANCELLED, "session_cancelled"),
])
def test_closed_or_cancelled_sessions_take_no_check_in(factory, site, actor, status, code):
    session = factory.session(site, starts_in=timedelta(minutes=-10), status=status)
    person = factory.beneficiary(site)
    booking = factory.booking(session, person)
    assert code_of(lambda: checkin.scan(session, person.login_id, actor=actor)) == code
    assert code_of(lambda: checkin.check_in(booking, actor=actor)) == code
    assert code_of(lambda: checkin.add_walk_in(session, factory.beneficiary(site),
                                               actor=actor)) == code
    assert fresh(booking).status is BookingStatus.BOOKED
    assert checkin_audit() == []


@pytest.mark.parametrize("raw", ["", "   ", "\n\t"])
def test_an_empty_scan_is_refused(session, actor, raw):
    assert code_of(lambda: checkin.scan(session, raw, actor=actor)) == "scan_empty"


def test_typing_a_name_offers_the_people_to_choose_from(factory, site, session, actor):
    booked = factory.beneficiary(site, first_name="Hélène", last_name="Dupont")
    factory.booking(session, booked)
    not_booked = factory.beneficiary(site, first_name="Marc", last_name="Dupont")
    factory.beneficiary(site, first_name="Hélène", last_name="Leroy")
    factory.beneficiary(factory.site(), first_name="Paul", last_name="Dupont")  # another site
    outcome = checkin.scan(session, "dupont", actor=actor)
    assert outcome.code == "choose_person"
    assert [p.id for p in outcome.matches] == [booked.id, not_booked.id]  # the session's first
    outcome = checkin.scan(session, "helene dup", actor=actor)  # accents folded
    assert outcome.code == "choose_person" and [p.id for p in outcome.matches] == [booked.id]
    assert checkin_audit() == []
    seats_add_up(session)


@pytest.mark.parametrize(("stored", "typed"), [
    ("login", "é\"'(-è_ç"),              # 23456789 typed by a QWERTY scanner on AZERTY
    ("booking", "K&é\"'(-è_çà"),         # K1234567890: every digit
])
def test_a_scanner_in_the_wrong_keyboard_layout_is_understood(factory, site, session, actor,
                                                              stored, typed):
    if stored == "login":
        person = factory.beneficiary(site, login_id="23456789")
        booking = factory.booking(session, person)
    else:
        booking = factory.booking(session, factory.beneficiary(site), code="K1234567890")
    assert checkin.scan(session, typed, actor=actor).code == "checked_in"
    assert fresh(booking).status is BookingStatus.PRESENT
    seats_add_up(session)


# --- absent, excused ---------------------------------------------------------------------------


@pytest.mark.parametrize("before", [BookingStatus.BOOKED, BookingStatus.PRESENT])
def test_marking_absent_gives_the_seat_back(factory, site, session, staff, actor, before):
    booking = factory.booking(session, factory.beneficiary(site), status=before)
    marked = checkin.mark_absent(booking, actor=actor)
    assert marked.code == "marked_absent"
    booking = fresh(booking)
    assert booking.status is BookingStatus.ABSENT and booking.checked_in_at is None
    assert booking.status_changed_at == NOW and booking.status_changed_by_id == staff.id
    assert seats_add_up(session) == 0
    event = assert_one_audit("checkin.absent", booking, staff)
    assert event.details["previous"] == before.value


def test_marking_excused_gives_the_seat_back(factory, site, session, staff, actor):
    booking = factory.booking(session, factory.beneficiary(site))
    assert checkin.mark_excused(booking, actor=actor).code == "marked_excused"
    assert fresh(booking).status is BookingStatus.EXCUSED
    assert seats_add_up(session) == 0
    assert_one_audit("checkin.excused", booking, staff)


def test_excused_before_the_start_the_seat_goes_to_the_first_waiting(factory, site, staff,
                                                                       actor):
    session = factory.session(site, starts_in=timedelta(hours=2), capacity=1)  # 16:00 today
    holder = factory.booking(session, factory.beneficiary(site))
    first = factory.booking(session, factory.beneficiary(site), status=BookingStatus.WAITLISTED,
                            waitlist_position=1)
    second = factory.booking(session, factory.beneficiary(site),
                             status=BookingStatus.WAITLISTED, waitlist_position=2)
    checkin.mark_excused(holder, actor=actor)
    assert fresh(holder).status is BookingStatus.EXCUSED
    assert fresh(first).status is BookingStatus.BOOKED
    assert fresh(first).waitlist_position is None
    assert fresh(second).status is BookingStatus.WAITLISTED
    assert seats_add_up(session) == 1
    event = assert_one_audit("checkin.excused", holder, staff)
    assert event.details["promoted"] == [first.id]
    assert [e.object_id for e in audit_rows("booking.promoted")] == [str(first.id)]


def test_absent_after_the_start_promotes_nobody(factory, site, actor):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=1)
    holder = factory.booking(session, factory.beneficiary(site))
    waiting = factory.booking(session, factory.beneficiary(site),
                              status=BookingStatus.WAITLISTED, waitlist_position=1)
    checkin.mark_absent(holder, actor=actor)
    assert fresh(waiting).status is BookingStatus.WAITLISTED
    assert seats_add_up(session) == 0


def _cheque_taken_for(booking: Booking, staff) -> Cheque:
    programme = ChequeProgramme(name="APTIC Pas-de-Calais", issuer="Département",
                                operator="APTIC", number_pattern=r"[0-9]{10}",
                                validity_end=datetime(2026, 12, 31, tzinfo=UTC).date())
    db.session.add(programme)
    db.session.flush()
    cheque = Cheque(programme_id=programme.id, number="2026620101", value_cents=1000,
                    registered_at=NOW, redeemed_at=NOW, redeemed_by_id=staff.id,
                    site_id=booking.session.site_id, booking_id=booking.id)
    db.session.add(cheque)
    db.session.commit()
    return cheque


@pytest.mark.parametrize("mark", [checkin.mark_absent, checkin.mark_excused])
def test_no_absence_once_cheques_were_taken(factory, site, session, staff, actor, mark):
    booking = factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    _cheque_taken_for(booking, staff)
    assert code_of(lambda: mark(booking, actor=actor)) == "cheques_taken"
    assert fresh(booking).status is BookingStatus.PRESENT
    assert seats_add_up(session) == 1
    assert checkin_audit() == []


# --- undo --------------------------------------------------------------------------------------


def test_undoing_a_check_in_keeps_the_seat(factory, site, session, staff, actor):
    booking = factory.booking(session, factory.beneficiary(site))
    checkin.check_in(booking, actor=actor)
    marked = checkin.undo(booking, actor=actor)
    assert marked.code == "undone"
    booking = fresh(booking)
    assert booking.status is BookingStatus.BOOKED and booking.checked_in_at is None
    assert seats_add_up(session) == 1
    undone = audit_rows("checkin.undone")
    assert len(undone) == 1 and undone[0].actor_id == staff.id and undone[0].at == NOW
    assert undone[0].details == {**undone[0].details, "previous": "present", "now": "booked"}


def test_undoing_an_absence_takes_the_seat_again(factory, site, session, actor):
    booking = factory.booking(session, factory.beneficiary(site))
    checkin.mark_absent(booking, actor=actor)
    assert seats_add_up(session) == 0
    checkin.undo(booking, actor=actor)
    assert fresh(booking).status is BookingStatus.BOOKED
    assert seats_add_up(session) == 1
    assert [e.action for e in checkin_audit()] == ["checkin.absent", "checkin.undone"]


def test_undoing_an_absence_fails_when_the_seat_was_given(factory, site, actor):
    session = factory.session(site, starts_in=timedelta(minutes=-10), capacity=1)
    booking = factory.booking(session, factory.beneficiary(site))
    checkin.mark_absent(booking, actor=actor)
    checkin.add_walk_in(session, factory.beneficiary(site), actor=actor)
    assert code_of(lambda: checkin.undo(booking, actor=actor)) == "seat_given"
    assert fresh(booking).status is BookingStatus.ABSENT
    assert seats_add_up(session) == 1
    assert [e.action for e in checkin_audit()] == ["checkin.absent", "checkin.walk_in"]


def test_undoing_a_walk_in_takes_them_off_the_roster(factory, site, session, staff, actor):
    person = factory.beneficiary(site)
    booking = checkin.add_walk_in(session, person, actor=actor).booking
    assert seats_add_up(session) == 1
    checkin.undo(booking, actor=actor)
    assert fresh(booking).status is BookingStatus.CANCELLED
    assert seats_add_up(session) == 0
    assert person.id not in [row.person.id for row in roster.roster(staff, session).rows]
    undone = audit_rows("checkin.undone")
    assert len(undone) == 1 and undone[0].details["now"] == "cancelled"
    # ... and they can still be added again
    assert checkin.add_walk_in(session, person, actor=actor).code == "walk_in_added"
    assert seats_add_up(session) == 1


def test_a_mark_of_another_day_cannot_be_undone(factory, site, session, actor):
    booking = factory.booking(session, factory.beneficiary(site))
    checkin.mark_absent(booking, actor=actor)
    clock.freeze(NOW + timedelta(hours=3))
    closing.close_session(session, actor=actor, verify_url=VERIFY)
    clock.freeze(NOW + timedelta(days=1))  # the next day an administrator reopens it
    admin = factory.staff(site, StaffRole.ADMIN)
    closing.reopen_session(fresh(session), "Oubli de pointage", actor=Actor.of(admin))
    booking = fresh(booking)
    assert code_of(lambda: checkin.undo(booking, actor=actor)) == "undo_too_late"
    assert fresh(booking).status is BookingStatus.ABSENT
    assert seats_add_up(session) == 0


def test_a_walk_in_paid_with_cheques_cannot_be_undone(factory, site, session, staff, actor):
    booking = checkin.add_walk_in(session, factory.beneficiary(site), actor=actor).booking
    _cheque_taken_for(booking, staff)
    assert code_of(lambda: checkin.undo(booking, actor=actor)) == "cheques_taken"
    assert fresh(booking).status is BookingStatus.PRESENT
    assert seats_add_up(session) == 1


@pytest.mark.parametrize("status", [BookingStatus.BOOKED, BookingStatus.WAITLISTED,
                                    BookingStatus.CANCELLED])
def test_nothing_to_undo(factory, site, session, actor, status):
    fields = {"waitlist_position": 1} if status is BookingStatus.WAITLISTED else {}
    booking = factory.booking(session, factory.beneficiary(site), status=status, **fields)
    assert code_of(lambda: checkin.undo(booking, actor=actor)) == "nothing_to_undo"
    assert fresh(booking).status is status
    seats_add_up(session)


# --- who may do it -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["scan", "check_in", "add_walk_in", "mark_absent",
                                    "mark_excused", "undo"])
def test_staff_of_another_site_do_not_see_the_session(factory, site, session, action):
    person = factory.beneficiary(site)
    booking = factory.booking(session, person, status=(
        BookingStatus.PRESENT if action == "undo" else BookingStatus.BOOKED))
    stranger = Actor.of(factory.staff(factory.site(), StaffRole.ADMIN))
    calls = {
        "scan": lambda: checkin.scan(session, person.login_id, actor=stranger),
        "check_in": lambda: checkin.check_in(booking, actor=stranger),
        "add_walk_in": lambda: checkin.add_walk_in(session, factory.beneficiary(site),
                                                   actor=stranger),
        "mark_absent": lambda: checkin.mark_absent(booking, actor=stranger),
        "mark_excused": lambda: checkin.mark_excused(booking, actor=stranger),
        "undo": lambda: checkin.undo(booking, actor=stranger),
    }
    assert code_of(calls[action]) == "not_found"
    assert checkin_audit() == []
    seats_add_up(session)


def test_a_beneficiary_cannot_check_anyone_in(factory, site, session):
    person = factory.beneficiary(site)
    booking = factory.booking(session, person)
    assert code_of(lambda: checkin.check_in(booking, actor=Actor.of(person))) == "staff_only"
    assert fresh(booking).status is BookingStatus.BOOKED
    assert checkin_audit() == []
    seats_add_up(session)


def test_reception_staff_may_check_in(factory, site, session):
    booking = factory.booking(session, factory.beneficiary(site))
    reception = factory.staff(site, StaffRole.RECEPTION)
    assert checkin.check_in(booking, actor=Actor.of(reception)).code == "checked_in"
    assert_one_audit("checkin.present", booking, reception)
    assert seats_add_up(session) == 1
