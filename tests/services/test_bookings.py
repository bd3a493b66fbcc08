"""Booking rules, one rule per test, asserting error codes (no HTTP)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, Booking, Course, WorkshopSession
from portal.models.vocab import BookingSource, BookingStatus, SessionStatus
from portal.services import bookings
from portal.services.audit import Actor
from portal.services.errors import ServiceError


def actor_for(person) -> Actor:
    return Actor.of(person, "127.0.0.1")


def book(session, person, **kwargs):
    return bookings.book(session, person, actor=actor_for(person), **kwargs)


def code_of(call) -> str:
    with pytest.raises(ServiceError) as error:
        call()
    return error.value.code


@pytest.fixture
def site(factory):
    return factory.site(phone="03 21 69 00 00", cancellation_deadline_minutes=120,
                        max_upcoming_bookings=5)


def seats(session: WorkshopSession) -> int:
    db.session.expire_all()
    return db.session.get(WorkshopSession, session.id).seats_taken


def test_booking_takes_a_seat(factory, site):
    session = factory.session(site, capacity=3)
    person = factory.beneficiary(site)
    outcome = book(session, person)
    assert outcome.booking.status is BookingStatus.BOOKED and not outcome.waitlisted
    assert seats(session) == 1
    assert outcome.booking.source is BookingSource.ONLINE


@pytest.mark.parametrize(("change", "code"), [
    ({"status": SessionStatus.CANCELLED}, "session_cancelled"),
    ({"status": SessionStatus.CLOSED}, "session_closed"),
])
def test_booking_refused_for_cancelled_or_closed_sessions(factory, site, change, code):
    session = factory.session(site, **change)
    assert code_of(lambda: book(session, factory.beneficiary(site))) == code


def test_booking_refused_once_the_session_has_started(factory, site):
    session = factory.session(site, starts_in=timedelta(minutes=-5))
    assert code_of(lambda: book(session, factory.beneficiary(site))) == "session_past"


def test_booking_twice_is_refused_and_changes_nothing(factory, site):
    session = factory.session(site)
    person = factory.beneficiary(site)
    book(session, person)
    assert code_of(lambda: book(session, person)) == "already_booked"
    assert seats(session) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Booking)) == 1


def test_full_session_offers_the_waiting_list(factory, site):
    session = factory.session(site, capacity=1)
    book(session, factory.beneficiary(site))
    late = factory.beneficiary(site)
    assert code_of(lambda: book(session, late)) == "session_full"
    outcome = book(session, late, waitlist=True)
    assert outcome.waitlisted and outcome.booking.waitlist_position == 1
    assert bookings.waitlist_ranks([outcome.booking]) == {outcome.booking.id: 1}
    assert seats(session) == 1


def test_joining_the_waiting_list_twice_is_refused(factory, site):
    session = factory.session(site, capacity=1)
    book(session, factory.beneficiary(site))
    person = factory.beneficiary(site)
    book(session, person, waitlist=True)
    assert code_of(lambda: book(session, person, waitlist=True)) == "already_waitlisted"


def test_upcoming_bookings_are_limited_by_the_site_setting(factory):
    site = factory.site(max_upcoming_bookings=2)
    person = factory.beneficiary(site)
    for _ in range(2):
        book(factory.session(site), person)
    assert code_of(lambda: book(factory.session(site), person)) == "too_many_bookings"


def test_a_course_counts_once_towards_the_limit(factory):
    site = factory.site(max_upcoming_bookings=2)
    course = Course(site_id=site.id, title="Parcours")
    db.session.add(course)
    db.session.commit()
    for days in (2, 9, 16):
        factory.session(site, starts_in=timedelta(days=days), course_id=course.id)
    person = factory.beneficiary(site)
    bookings.book_course(course, person, actor=actor_for(person))
    book(factory.session(site), person)  # the course (3 sessions) + 1 = 2


def test_booking_again_after_cancelling_reuses_the_row(factory, site):
    session = factory.session(site)
    person = factory.beneficiary(site)
    first = book(session, person).booking
    bookings.cancel(first, actor=actor_for(person))
    again = book(session, person).booking
    assert again.id == first.id and again.status is BookingStatus.BOOKED
    assert seats(session) == 1


def test_cancelling_frees_the_seat(factory, site):
    session = factory.session(site)
    person = factory.beneficiary(site)
    booking = book(session, person).booking
    assert bookings.cancel(booking, actor=actor_for(person)) == []
    assert booking.status is BookingStatus.CANCELLED
    assert seats(session) == 0


def test_cancelling_twice_is_harmless(factory, site):
    session = factory.session(site)
    person = factory.beneficiary(site)
    booking = book(session, person).booking
    bookings.cancel(booking, actor=actor_for(person))
    assert bookings.cancel(booking, actor=actor_for(person)) == []
    assert seats(session) == 0


def test_cancelling_promotes_the_first_person_waiting(factory, site):
    session = factory.session(site, capacity=1)
    holder = factory.beneficiary(site)
    held = book(session, holder).booking
    first, second = factory.beneficiary(site), factory.beneficiary(site)
    first_wait = book(session, first, waitlist=True).booking
    second_wait = book(session, second, waitlist=True).booking
    promoted = bookings.cancel(held, actor=actor_for(holder))
    assert [b.id for b in promoted] == [first_wait.id]
    db.session.expire_all()
    assert db.session.get(Booking, first_wait.id).status is BookingStatus.BOOKED
    assert db.session.get(Booking, second_wait.id).status is BookingStatus.WAITLISTED
    assert bookings.waitlist_ranks([db.session.get(Booking, second_wait.id)]) == {
        second_wait.id: 1}
    assert seats(session) == 1
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent))]
    assert "booking.promoted" in actions


def test_leaving_the_waiting_list_does_not_touch_seats(factory, site):
    session = factory.session(site, capacity=1)
    book(session, factory.beneficiary(site))
    waiting = factory.beneficiary(site)
    booking = book(session, waiting, waitlist=True).booking
    bookings.cancel(booking, actor=actor_for(waiting))
    assert seats(session) == 1


def test_late_cancellation_is_refused_with_the_centre_phone(factory, site):
    session = factory.session(site, starts_in=timedelta(minutes=90))
    person = factory.beneficiary(site)
    booking = book(session, person).booking
    with pytest.raises(ServiceError) as error:
        bookings.cancel(booking, actor=actor_for(person))
    assert error.value.code == "cancellation_too_late"
    assert "03 21 69 00 00" in error.value.message
    assert seats(session) == 1


def test_staff_may_cancel_late_on_a_persons_behalf_and_the_audit_says_so(factory, site):
    session = factory.session(site, starts_in=timedelta(minutes=90))
    person = factory.beneficiary(site)
    staff = factory.staff(site)
    booking = book(session, person).booking
    bookings.cancel(booking, actor=Actor.of(staff, "10.0.0.1"))
    event = db.session.scalars(db.select(AuditEvent).filter_by(action="booking.cancelled")).one()
    assert event.actor_kind.value == "staff" and event.actor_id == staff.id
    assert event.details["late"] is True
    assert booking.status_changed_by_id == staff.id


def test_staff_booking_at_the_desk_is_recorded(factory, site):
    staff = factory.staff(site)
    person = factory.beneficiary(site)
    outcome = bookings.book(factory.session(site), person, actor=Actor.of(staff),
                            source=BookingSource.DESK)
    assert outcome.booking.created_by_id == staff.id
    assert outcome.booking.source is BookingSource.DESK


def test_course_booking_books_every_upcoming_session(factory, site):
    course = Course(site_id=site.id, title="Débuter")
    db.session.add(course)
    db.session.commit()
    sessions = [factory.session(site, starts_in=timedelta(days=d), course_id=course.id)
                for d in (2, 9, 16)]
    person = factory.beneficiary(site)
    placed = bookings.book_course(course, person, actor=actor_for(person))
    assert {b.session_id for b in placed} == {s.id for s in sessions}
    assert all(seats(s) == 1 for s in sessions)


def test_course_booking_is_all_or_nothing(factory, site):
    course = Course(site_id=site.id, title="Débuter")
    db.session.add(course)
    db.session.commit()
    open_one = factory.session(site, starts_in=timedelta(days=2), course_id=course.id)
    full_one = factory.session(site, starts_in=timedelta(days=9), course_id=course.id,
                               capacity=1)
    book(full_one, factory.beneficiary(site))
    person = factory.beneficiary(site)
    assert code_of(lambda: bookings.book_course(course, person,
                                                actor=actor_for(person))) == "course_full"
    assert seats(open_one) == 0
    assert bookings.booking_for(open_one, person) is None


def test_centre_cancelling_a_session_tells_everyone(factory, site):
    session = factory.session(site, capacity=1)
    staff = factory.staff(site)
    booked = book(session, factory.beneficiary(site)).booking
    waiting = book(session, factory.beneficiary(site), waitlist=True).booking
    told = bookings.cancel_session(session, "Panne de réseau", actor=Actor.of(staff))
    assert told == 2
    db.session.expire_all()
    assert db.session.get(Booking, booked.id).status is BookingStatus.CANCELLED
    assert db.session.get(Booking, waiting.id).status is BookingStatus.CANCELLED
    assert seats(session) == 0
    assert code_of(lambda: bookings.cancel_session(session, "", actor=Actor.of(staff))) in (
        "reason_required",)


def test_my_workshops_lists_upcoming_and_past(factory, site, frozen_now):
    person = factory.beneficiary(site)
    future = factory.session(site, starts_in=timedelta(days=3))
    past = factory.session(site, starts_in=timedelta(days=-3))
    factory.booking(future, person)
    factory.booking(past, person, status=BookingStatus.PRESENT)
    upcoming, done = bookings.bookings_of(person)
    assert [b.session_id for b in upcoming] == [future.id]
    assert [b.session_id for b in done] == [past.id]


# --- concurrency: 30 people, one session, real threads --------------------------------------


def _at_once(app: Flask, calls: list) -> list[str]:
    """Run each ``call(app)`` in its own thread, all released together; their outcomes."""
    results: list[str] = []
    barrier = threading.Barrier(len(calls), timeout=30)

    def attempt(call) -> None:
        barrier.wait()
        with app.app_context():
            try:
                results.append(call())
            except ServiceError as error:
                results.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not any(thread.is_alive() for thread in threads), "a booking thread is stuck"
    return results


def _booking_of(session_id: int, person_id: int, *, waitlist: bool = False):
    from portal.models import Beneficiary

    def call() -> str:
        session = db.session.get(WorkshopSession, session_id)
        person = db.session.get(Beneficiary, person_id)
        outcome = bookings.book(session, person, actor=Actor.of(person), waitlist=waitlist)
        return "waitlisted" if outcome.waitlisted else "booked"

    return call


def _race(app: Flask, session_id: int, people_ids: list[int], *, waitlist: bool = False):
    """Each person books the session, all at once (see ``_at_once``)."""
    return _at_once(app, [_booking_of(session_id, pid, waitlist=waitlist) for pid in people_ids])


def test_thirty_people_racing_for_five_seats_never_overbook(app, factory, site):
    session = factory.session(site, capacity=5)
    people = [factory.beneficiary(site).id for _ in range(30)]
    results = _race(app, session.id, people)
    assert results.count("booked") == 5
    assert results.count("session_full") == 25
    db.session.expire_all()
    active = db.session.scalar(db.select(db.func.count()).select_from(Booking).where(
        Booking.session_id == session.id, Booking.status == BookingStatus.BOOKED))
    assert active == 5 == seats(session)


def test_thirty_double_clicks_make_one_booking(app, factory, site):
    session = factory.session(site, capacity=5)
    person = factory.beneficiary(site)
    results = _race(app, session.id, [person.id] * 30)
    assert results.count("booked") == 1
    assert set(results) <= {"booked", "already_booked"}
    assert seats(session) == 1


def test_cancellations_racing_with_bookings_keep_seats_consistent(app, factory, site):
    session = factory.session(site, capacity=3)
    holders = [factory.beneficiary(site) for _ in range(3)]
    held = [book(session, p).booking.id for p in holders]
    waiting = [factory.beneficiary(site) for _ in range(3)]
    for person in waiting:
        book(session, person, waitlist=True)

    def cancel(booking_id: int) -> None:
        with app.app_context():
            booking = db.session.get(Booking, booking_id)
            bookings.cancel(booking, actor=Actor.system())
            db.session.remove()

    threads = [threading.Thread(target=cancel, args=(bid,)) for bid in held]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a cancelling thread is stuck"
    db.session.expire_all()
    statuses = [db.session.scalar(db.select(Booking.status).filter_by(
        session_id=session.id, beneficiary_id=p.id)) for p in waiting]
    assert statuses == [BookingStatus.BOOKED] * 3
    assert seats(session) == 3


def test_the_clock_is_the_services_clock(factory, site, frozen_now):
    session = factory.session(site, starts_in=timedelta(hours=3))
    person = factory.beneficiary(site)
    booking = book(session, person).booking
    clock.freeze(frozen_now + timedelta(hours=1, minutes=30))  # 90 min before: too late
    assert code_of(lambda: bookings.cancel(booking, actor=actor_for(person))) == (
        "cancellation_too_late")


# --- concurrency: one person, many bookings at once, the limit of upcoming bookings -------


def _course_of(course_id: int, person_id: int):
    from portal.models import Beneficiary

    def call() -> str:
        course = db.session.get(Course, course_id)
        person = db.session.get(Beneficiary, person_id)
        bookings.book_course(course, person, actor=Actor.of(person))
        return "booked"

    return call


def _active_count(person_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(Booking).where(
        Booking.beneficiary_id == person_id, Booking.status.in_(bookings.ACTIVE)))


def test_twenty_bookings_at_once_never_pass_the_limit(app, factory, site):
    person = factory.beneficiary(site)
    sessions = [factory.session(site, starts_in=timedelta(days=2, hours=n)).id
                for n in range(20)]
    results = _at_once(app, [_booking_of(s, person.id) for s in sessions])
    assert results.count("booked") == 5, results
    assert results.count("too_many_bookings") == 15, results
    assert _active_count(person.id) == 5
    assert sum(seats(db.session.get(WorkshopSession, s)) for s in sessions) == 5


def test_twenty_waiting_list_places_at_once_never_pass_the_limit(app, factory, site):
    person = factory.beneficiary(site)
    holder = factory.beneficiary(site)
    sessions = []
    for n in range(20):
        full = factory.session(site, starts_in=timedelta(days=2, hours=n), capacity=1)
        factory.booking(full, holder)
        sessions.append(full.id)
    results = _at_once(app, [_booking_of(s, person.id, waitlist=True) for s in sessions])
    assert results.count("waitlisted") == 5, results
    assert results.count("too_many_bookings") == 15, results
    assert _active_count(person.id) == 5


def test_twenty_courses_at_once_never_pass_the_limit(app, factory, site):
    person = factory.beneficiary(site)
    courses = []
    for n in range(20):
        course = Course(site_id=site.id, title=f"Parcours {n}")
        db.session.add(course)
        db.session.commit()
        for week in (0, 1):
            factory.session(site, starts_in=timedelta(days=2 + 7 * week, hours=n),
                            course_id=course.id)
        courses.append(course.id)
    results = _at_once(app, [_course_of(c, person.id) for c in courses])
    assert results.count("booked") == 5, results
    assert results.count("too_many_bookings") == 15, results
    assert _active_count(person.id) == 10  # five courses of two sessions each
    assert bookings.upcoming_count(person, clock.now()) == 5


def test_bookings_courses_and_waiting_lists_at_once_share_one_limit(app, factory, site):
    person = factory.beneficiary(site)
    holder = factory.beneficiary(site)
    calls = []
    for n in range(8):
        calls.append(_booking_of(factory.session(site, starts_in=timedelta(days=3, hours=n)).id,
                                 person.id))
        full = factory.session(site, starts_in=timedelta(days=4, hours=n), capacity=1)
        factory.booking(full, holder)
        calls.append(_booking_of(full.id, person.id, waitlist=True))
    for n in range(8):
        course = Course(site_id=site.id, title=f"Parcours {n}")
        db.session.add(course)
        db.session.commit()
        factory.session(site, starts_in=timedelta(days=5, hours=n), course_id=course.id)
        calls.append(_course_of(course.id, person.id))
    results = _at_once(app, calls)
    assert len(results) == 24
    assert results.count("too_many_bookings") == 19, results
    assert bookings.upcoming_count(person, clock.now()) == 5


# --- what cancelling will do (asked before cancelling) ---------------------------------------


def test_cancelling_a_seat_others_wait_for_gives_it_to_them(factory, site):
    session = factory.session(site, capacity=1)
    holder = factory.beneficiary(site)
    held = book(session, holder).booking
    for _ in range(2):
        book(session, factory.beneficiary(site), waitlist=True)
    outlook = bookings.cancellation_outlook(held)
    assert outlook.allowed and outlook.holds_seat
    assert outlook.waiting == 2 and outlook.waitlist_rank is None
    assert outlook.course_title is None


def test_cancelling_a_seat_nobody_waits_for_frees_it(factory, site):
    booking = book(factory.session(site), factory.beneficiary(site)).booking
    outlook = bookings.cancellation_outlook(booking)
    assert outlook.allowed and outlook.holds_seat and outlook.waiting == 0


def test_leaving_the_waiting_list_loses_the_rank(factory, site):
    session = factory.session(site, capacity=1)
    book(session, factory.beneficiary(site))
    book(session, factory.beneficiary(site), waitlist=True)
    second = book(session, factory.beneficiary(site), waitlist=True).booking
    outlook = bookings.cancellation_outlook(second)
    assert outlook.allowed and not outlook.holds_seat and outlook.waitlist_rank == 2


def test_cancelling_one_session_of_a_course_names_the_course(factory, site):
    course = Course(site_id=site.id, title="Débuter sur tablette")
    db.session.add(course)
    db.session.commit()
    session = factory.session(site, course_id=course.id)
    booking = book(session, factory.beneficiary(site)).booking
    assert bookings.cancellation_outlook(booking).course_title == "Débuter sur tablette"


def test_too_late_to_cancel_is_not_offered(factory, site):
    session = factory.session(site, starts_in=timedelta(minutes=60))
    booking = book(session, factory.beneficiary(site)).booking
    assert not bookings.cancellation_outlook(booking).allowed


# --- joining a course that has begun: can the person still complete it? --------------------


def _course(factory, site, days: tuple[int, ...], **fields) -> tuple[Course, list]:
    course = Course(site_id=site.id, title="Parcours : mes démarches", **fields)
    db.session.add(course)
    db.session.commit()
    sessions = [factory.session(site, starts_in=timedelta(days=d), course_id=course.id)
                for d in days]
    return course, sessions


def test_a_course_not_begun_can_be_completed(factory, site):
    course, _sessions = _course(factory, site, (2, 9, 16))
    outlook = bookings.course_outlook(course, factory.beneficiary(site))
    assert outlook.can_complete
    assert (outlook.needed, outlook.attended, outlook.missed, outlook.open) == (3, 0, 0, 3)


def test_a_course_of_all_sessions_with_one_past_cannot_be_completed(factory, site):
    course, _sessions = _course(factory, site, (-5, 2, 9))
    person = factory.beneficiary(site)
    outlook = bookings.course_outlook(course, person)
    assert not outlook.can_complete
    assert (outlook.needed, outlook.missed, outlook.open) == (3, 1, 2)
    # Booking asks for a confirmation first, and books nothing without it.
    assert code_of(lambda: bookings.book_course(course, person, actor=actor_for(person))) == (
        "course_cannot_be_completed")
    assert db.session.scalar(db.select(db.func.count()).select_from(Booking)) == 0
    placed = bookings.book_course(course, person, actor=actor_for(person),
                                  accept_incomplete=True)
    assert len(placed) == 2


def test_a_threshold_course_with_one_past_can_still_be_completed(factory, site):
    from portal.models.vocab import CompletionRule

    course, _sessions = _course(factory, site, (-5, 2, 9),
                                completion_rule=CompletionRule.THRESHOLD,
                                min_sessions_attended=2)
    person = factory.beneficiary(site)
    outlook = bookings.course_outlook(course, person)
    assert outlook.can_complete and outlook.needed == 2
    assert len(bookings.book_course(course, person, actor=actor_for(person))) == 2


def test_sessions_already_attended_count(factory, site):
    course, sessions = _course(factory, site, (-5, 2, 9))
    person = factory.beneficiary(site)
    factory.booking(sessions[0], person, status=BookingStatus.PRESENT)
    outlook = bookings.course_outlook(course, person)
    assert outlook.can_complete and outlook.attended == 1 and outlook.missed == 0


def test_a_full_session_counts_as_lost(factory, site):
    from portal.models.vocab import CompletionRule

    course, sessions = _course(factory, site, (2, 9, 16),
                               completion_rule=CompletionRule.THRESHOLD,
                               min_sessions_attended=3)
    db.session.get(WorkshopSession, sessions[1].id).capacity = 1
    db.session.commit()
    factory.booking(sessions[1], factory.beneficiary(site))
    outlook = bookings.course_outlook(course, factory.beneficiary(site))
    assert not outlook.can_complete and outlook.full == 1 and outlook.open == 2


def test_the_desk_gets_the_same_answer(factory, site):
    course, _sessions = _course(factory, site, (-5, 2, 9))
    person = factory.beneficiary(site)
    staff = factory.staff(site)
    assert code_of(lambda: bookings.book_course(course, person, actor=Actor.of(staff),
                                                source=BookingSource.DESK)) == (
        "course_cannot_be_completed")
