"""Bookings: book, join the waiting list, cancel, promote, book a whole course.

Seats are settled in the database (docs/security.md#seats): a seat is taken by one conditional
``UPDATE … SET seats_taken = seats_taken + 1 WHERE seats_taken < capacity`` and given back in
the same transaction as the cancellation, which also promotes the first person waiting.
Every public function is one unit of work: it validates, changes, audits, queues the
messages and commits — or raises a ``ServiceError`` with nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Integer, bindparam, func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import paging
from portal.clock import now
from portal.extensions import db
from portal.formatting import day
from portal.models.bookings import Booking
from portal.models.catalogue import Course, WorkshopSession
from portal.models.people import Beneficiary, Site
from portal.models.vocab import BookingSource, BookingStatus, SessionStatus
from portal.services import messages, staff_access
from portal.services.audit import Actor, record
from portal.services.catalogue import as_listed
from portal.services.codes import random_code
from portal.services.errors import Conflict, NotAllowed, ServiceError
from portal.services.locking import lock_row
from portal.services.staff_access import Action

ACTIVE = (BookingStatus.BOOKED, BookingStatus.WAITLISTED)
BOOKING_CODE_LENGTH = 8


# --- reading -----------------------------------------------------------------------------


def bookings_of(person: Beneficiary) -> tuple[list[Booking], list[Booking]]:
    """The person's bookings: (upcoming soonest first, past latest first).

    Cancelled bookings of past sessions are left out; a session cancelled by the centre
    stays visible among the upcoming ones so the person learns about it.
    """
    rows = db.session.scalars(
        db.select(Booking)
        .join(Booking.session)
        .options(joinedload(Booking.session).joinedload(WorkshopSession.animator))
        .where(Booking.beneficiary_id == person.id)
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
    ).unique().all()
    at = now()
    upcoming = [b for b in rows if b.session.ends_at >= at]
    past = [b for b in rows if b.session.ends_at < at and b.status is not BookingStatus.CANCELLED]
    past.reverse()
    return upcoming, past


#: past workshops shown on one page of My workshops.
PAST_PAGE_SIZE = 10


@dataclass(frozen=True)
class MyWorkshops:
    """My workshops: every upcoming booking, one page of the past ones (latest first)."""

    upcoming: list[Booking]
    past: list[Booking]
    past_pages: paging.Pages


def _person_and_time() -> tuple[Any, Any]:
    return (bindparam("person_id", type_=Integer),
            bindparam("at", type_=WorkshopSession.ends_at.type))


@lru_cache(maxsize=1)
def _my_statements() -> tuple[Any, Any, Any]:
    """The statements of My workshops, built once (the person, the time and the page bound
    per request): the upcoming bookings, how many past ones, a page of them."""
    person_id, at = _person_and_time()
    upcoming = (
        db.select(Booking)
        .join(Booking.session)
        .options(joinedload(Booking.session).joinedload(WorkshopSession.animator),
                 *as_listed(Booking.session))
        .where(Booking.beneficiary_id == person_id, WorkshopSession.ends_at >= at)
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
    )
    past_of = (Booking.beneficiary_id == person_id, WorkshopSession.ends_at < at,
               Booking.status != BookingStatus.CANCELLED)
    count = db.select(func.count(Booking.id)).join(Booking.session).where(*past_of)
    past = (
        db.select(Booking).join(Booking.session).options(*as_listed(Booking.session))
        .where(*past_of)
        .order_by(WorkshopSession.starts_at.desc(), WorkshopSession.id.desc())
        .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))
    )
    return upcoming, count, past


def upcoming_of(person: Beneficiary) -> list[Booking]:
    """The person's bookings of sessions not over yet, soonest first (as :func:`bookings_of`),
    with what the pages show of them."""
    upcoming, _count, _past = _my_statements()
    return list(db.session.scalars(upcoming, {"person_id": person.id, "at": now()}).unique())


def my_workshops(person: Beneficiary, past_page: int = 1) -> MyWorkshops:
    """What My workshops shows, in a fixed number of queries whatever the person's history:
    the upcoming bookings, how many past ones, and the page of them asked for."""
    upcoming_statement, count, past_statement = _my_statements()
    values = {"person_id": person.id, "at": now()}
    upcoming = list(db.session.scalars(upcoming_statement, values).unique())
    total = db.session.scalar(count, values) or 0
    pages = paging.pages_of(total, PAST_PAGE_SIZE, past_page)
    past = list(db.session.scalars(
        past_statement, {**values, "limit": PAST_PAGE_SIZE, "offset": pages.offset}).unique())
    return MyWorkshops(upcoming, past, pages)


def waitlist_ranks(bookings: list[Booking]) -> dict[int, int]:
    """Rank on the waiting list (1 = next to get a seat) of each waitlisted booking given.

    Positions only ever grow (nobody is renumbered when someone leaves), so the rank is
    computed: one query for all the sessions concerned.
    """
    waiting = {b.id: b.session_id for b in bookings if b.status is BookingStatus.WAITLISTED}
    if not waiting:
        return {}
    rows = db.session.execute(
        db.select(Booking.id, Booking.session_id)
        .where(Booking.session_id.in_(set(waiting.values())),
               Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.session_id, Booking.waitlist_position, Booking.id)
    ).all()
    ranks: dict[int, int] = {}
    seen: dict[int, int] = {}
    for booking_id, session_id in rows:
        seen[session_id] = seen.get(session_id, 0) + 1
        if booking_id in waiting:
            ranks[booking_id] = seen[session_id]
    return ranks


def booking_for(session: WorkshopSession, person: Beneficiary) -> Booking | None:
    return db.session.scalar(
        db.select(Booking).filter_by(session_id=session.id, beneficiary_id=person.id)
    )


# --- rules -------------------------------------------------------------------------------


def _check_open_for_booking(session: WorkshopSession, at: datetime) -> None:
    if session.status is SessionStatus.CANCELLED:
        raise NotAllowed("session_cancelled", _("Cette séance est annulée."))
    if session.status is SessionStatus.CLOSED:
        raise NotAllowed("session_closed", _("Cette séance est terminée."))
    if session.starts_at <= at:
        raise NotAllowed("session_past", _("Cette séance a déjà commencé ou est passée."))


def upcoming_count(person: Beneficiary, at: datetime) -> int:
    """Upcoming bookings and waiting-list places; a course counts once, whatever its length."""
    rows = db.session.execute(
        db.select(WorkshopSession.id, WorkshopSession.course_id)
        .join(Booking, Booking.session_id == WorkshopSession.id)
        .where(Booking.beneficiary_id == person.id, Booking.status.in_(ACTIVE),
               WorkshopSession.starts_at > at,
               WorkshopSession.status == SessionStatus.SCHEDULED)
    ).all()
    return len({("course", c) if c is not None else ("session", s) for s, c in rows})


def _check_limit(person: Beneficiary, site: Site, at: datetime, adding: int = 1) -> None:
    if upcoming_count(person, at) + adding > site.max_upcoming_bookings:
        raise NotAllowed(
            "too_many_bookings",
            ngettext("Vous avez déjà %(num)d atelier à venir : c'est le maximum. Annulez-le "
                     "pour vous inscrire à celui-ci.",
                     "Vous avez déjà %(num)d ateliers à venir : c'est le maximum. Annulez-en "
                     "un pour vous inscrire à celui-ci.", site.max_upcoming_bookings),
        )


def take_seat(session_id: int) -> bool:
    """Take one seat if one is free: the database decides, not Python (no overbooking)."""
    result = db.session.execute(
        update(WorkshopSession)
        .where(WorkshopSession.id == session_id,
               WorkshopSession.seats_taken < WorkshopSession.capacity,
               WorkshopSession.status == SessionStatus.SCHEDULED)
        .values(seats_taken=WorkshopSession.seats_taken + 1),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def release_seat(session_id: int) -> None:
    db.session.execute(
        update(WorkshopSession)
        .where(WorkshopSession.id == session_id, WorkshopSession.seats_taken > 0)
        .values(seats_taken=WorkshopSession.seats_taken - 1),
        execution_options={"synchronize_session": False},
    )


def _next_waitlist_position(session_id: int) -> int:
    highest = db.session.scalar(
        db.select(func.max(Booking.waitlist_position)).where(Booking.session_id == session_id)
    )
    return int(highest or 0) + 1


def new_booking_code() -> str:
    while True:
        code = random_code(BOOKING_CODE_LENGTH)
        if db.session.scalar(db.select(Booking.id).filter_by(code=code)) is None:
            return code


def _already(booking: Booking) -> ServiceError:
    if booking.status is BookingStatus.WAITLISTED:
        return Conflict("already_waitlisted",
                        _("Vous êtes déjà sur la liste d'attente de cette séance."))
    return Conflict("already_booked", _("Vous avez déjà réservé votre place à cette séance."))


def _full() -> ServiceError:
    return Conflict("session_full",
                    _("Cette séance est complète. Vous pouvez vous inscrire sur la liste "
                      "d'attente : nous vous prévenons si une place se libère."))


def set_status(booking: Booking, status: BookingStatus, actor: Actor, at: datetime) -> None:
    booking.status = status
    booking.status_changed_at = at
    booking.status_changed_by_id = actor.staff_id


# --- booking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    booking: Booking
    waitlisted: bool = False


def lock_person(person: Beneficiary) -> None:
    """Make the person's other bookings wait until this unit of work ends (same on SQLite
    and PostgreSQL): what is counted after it, such as the limit of upcoming bookings, stays
    true until the commit. Refusals after it roll back, which releases it."""
    lock_row(Beneficiary, person.id, "first_name")


def book(session: WorkshopSession, person: Beneficiary, *, actor: Actor,
         source: BookingSource = BookingSource.ONLINE, waitlist: bool = False) -> Outcome:
    """Book a seat; when the session is full, join the waiting list if ``waitlist`` is set."""
    at = now()
    _check_open_for_booking(session, at)
    lock_person(person)
    try:
        existing = booking_for(session, person)
        if existing is not None and existing.status in (*ACTIVE, BookingStatus.PRESENT):
            raise _already(existing)
        _check_limit(person, session.site, at)
        booking = _place(session, person, existing, actor=actor, source=source,
                         waitlist=waitlist, at=at)
    except ServiceError:
        db.session.rollback()
        raise
    except IntegrityError:
        # The same person booked the same session at the same instant (a double click).
        db.session.rollback()
        raise Conflict("already_booked",
                       _("Vous avez déjà réservé votre place à cette séance.")) from None
    waitlisted = booking.status is BookingStatus.WAITLISTED
    record(actor, "booking.waitlisted" if waitlisted else "booking.created",
           object_type="booking", object_id=booking.id, site_id=session.site_id,
           session_id=session.id, beneficiary_id=person.id, source=source.value)
    if waitlisted:
        messages.queue_waitlisted(booking)
    else:
        messages.queue_booking_confirmed(booking)
    db.session.commit()
    return Outcome(booking, waitlisted)


def _place(session: WorkshopSession, person: Beneficiary, existing: Booking | None, *,
           actor: Actor, source: BookingSource, waitlist: bool, at: datetime) -> Booking:
    """Take a seat (or a waiting-list place) and write the booking row, not committed."""
    if take_seat(session.id):
        status, position = BookingStatus.BOOKED, None
    elif waitlist:
        status, position = BookingStatus.WAITLISTED, _next_waitlist_position(session.id)
    else:
        db.session.rollback()
        raise _full()
    booking = existing or Booking(session_id=session.id, beneficiary_id=person.id,
                                  code=new_booking_code(), created_at=at,
                                  created_by_id=actor.staff_id)
    if existing is not None:  # booking again after a cancellation reuses the row
        existing.cancelled_at = None
        existing.created_by_id = actor.staff_id
    booking.source = source
    booking.waitlist_position = position
    set_status(booking, status, actor, at)
    db.session.add(booking)
    db.session.flush()
    db.session.expire(session, ["seats_taken"])
    return booking


@dataclass(frozen=True)
class CourseOutlook:
    """Can this person still complete the course (its end-of-course certificate) if they
    join now? Counted from its sessions not cancelled, by its rule (``Course.sessions_needed``).
    """

    needed: int  # sessions to attend, by the course's rule
    attended: int  # sessions the person already attended
    missed: int  # sessions begun or past that the person did not attend
    open: int  # upcoming sessions the person holds a seat on or may still take
    full: int  # upcoming sessions with no seat left for them

    @property
    def can_complete(self) -> bool:
        return self.attended + self.open >= self.needed


def course_outlook(course: Course, person: Beneficiary,
                   at: datetime | None = None) -> CourseOutlook:
    """The answer the course page and the desk give before booking (one query)."""
    at = at or now()
    given = [s for s in course.sessions if s.status is not SessionStatus.CANCELLED]
    statuses = dict(db.session.execute(
        db.select(Booking.session_id, Booking.status)
        .where(Booking.beneficiary_id == person.id,
               Booking.session_id.in_([s.id for s in given] or [-1]))
    ).tuples().all())
    attended = sum(1 for s in given if statuses.get(s.id) is BookingStatus.PRESENT)
    past = [s for s in given if s.starts_at <= at or s.status is not SessionStatus.SCHEDULED]
    missed = sum(1 for s in past if statuses.get(s.id) is not BookingStatus.PRESENT)
    upcoming = [s for s in given if s not in past]
    held = [s for s in upcoming if statuses.get(s.id) is BookingStatus.BOOKED]
    full = [s for s in upcoming if s not in held and s.is_full]
    return CourseOutlook(needed=course.sessions_needed(len(given)), attended=attended,
                         missed=missed, open=len(upcoming) - len(full), full=len(full))


def incomplete_reason(outlook: CourseOutlook) -> str:
    """Why the end-of-course certificate is out of reach, in plain words."""
    needed = ngettext("L'attestation de fin de parcours demande de venir à %(num)d séance.",
                      "L'attestation de fin de parcours demande de venir à %(num)d séances.",
                      outlook.needed)
    left = ngettext("Vous pouvez encore venir à %(num)d séance seulement : l'attestation ne "
                    "sera plus possible.",
                    "Vous pouvez encore venir à %(num)d séances seulement : l'attestation ne "
                    "sera plus possible.", outlook.attended + outlook.open)
    return f"{needed} {left}"


def _cannot_complete(outlook: CourseOutlook) -> ServiceError:
    return NotAllowed("course_cannot_be_completed", incomplete_reason(outlook), outlook=outlook)


def book_course(course: Course, person: Beneficiary, *, actor: Actor,
                source: BookingSource = BookingSource.ONLINE,
                accept_incomplete: bool = False) -> list[Booking]:
    """Book every upcoming session of a course, or none of them.

    When the person can no longer complete the course (sessions already past or full), it is
    refused with ``course_cannot_be_completed`` unless ``accept_incomplete`` says they were
    told and still want the sessions that remain.
    """
    at = now()
    sessions = [s for s in course.sessions
                if s.status is SessionStatus.SCHEDULED and s.starts_at > at]
    if not sessions:
        raise NotAllowed("course_not_open", _("Ce parcours n'a plus de séance à venir."))
    lock_person(person)
    placed: list[Booking] = []
    try:
        _check_limit(person, sessions[0].site, at)  # a course counts as one booking
        outlook = course_outlook(course, person, at)
        # A full session refuses the whole course below: no question to ask before that.
        if not outlook.can_complete and not outlook.full and not accept_incomplete:
            raise _cannot_complete(outlook)
        for session in sessions:
            existing = booking_for(session, person)
            if existing is not None and existing.status in (*ACTIVE, BookingStatus.PRESENT):
                raise _already(existing)
            if not take_seat(session.id):
                raise Conflict(
                    "course_full",
                    _("Le parcours est complet (la séance du %(day)s n'a plus de place). "
                      "Demandez à l'accueil de vous prévenir si une place se libère.",
                      day=day(session.starts_at)),
                )
            booking = existing or Booking(session_id=session.id, beneficiary_id=person.id,
                                          code=new_booking_code(), created_at=at,
                                          created_by_id=actor.staff_id)
            booking.cancelled_at = None
            booking.source = source
            booking.waitlist_position = None
            set_status(booking, BookingStatus.BOOKED, actor, at)
            db.session.add(booking)
            db.session.flush()
            placed.append(booking)
    except (ServiceError, IntegrityError) as error:
        db.session.rollback()
        if isinstance(error, IntegrityError):
            raise Conflict("already_booked", _("Vous avez déjà réservé ce parcours.")) from None
        raise
    record(actor, "course.booked", object_type="course", object_id=course.id,
           site_id=course.site_id, beneficiary_id=person.id,
           bookings=[b.id for b in placed])
    messages.queue_booking_confirmed(placed[0])
    db.session.commit()
    return placed


# --- cancelling ----------------------------------------------------------------------------


def cancellation_deadline(session: WorkshopSession) -> datetime:
    return session.starts_at - timedelta(minutes=session.site.cancellation_deadline_minutes)


def can_cancel(booking: Booking, at: datetime | None = None, *, by_staff: bool = False) -> bool:
    at = at or now()
    if booking.status not in ACTIVE or booking.session.starts_at <= at:
        return False
    if booking.status is BookingStatus.WAITLISTED or by_staff:
        return True
    return at <= cancellation_deadline(booking.session)


@dataclass(frozen=True)
class CancellationOutlook:
    """What cancelling a booking would do, told to the person before they confirm."""

    allowed: bool  # may the person cancel online now (before the deadline)?
    holds_seat: bool  # a seat is given back (else: a waiting-list place is left)
    waiting: int  # people on the waiting list: the first one gets the seat at once
    waitlist_rank: int | None  # the place lost on the waiting list
    course_title: str | None  # the session belongs to this course; the others stay booked


def cancellation_outlook(booking: Booking, at: datetime | None = None) -> CancellationOutlook:
    session = booking.session
    waiting = db.session.scalar(
        db.select(func.count()).select_from(Booking)
        .where(Booking.session_id == session.id, Booking.status == BookingStatus.WAITLISTED)
    ) or 0
    return CancellationOutlook(
        allowed=can_cancel(booking, at),
        holds_seat=booking.status is BookingStatus.BOOKED,
        waiting=int(waiting),
        waitlist_rank=waitlist_ranks([booking]).get(booking.id),
        course_title=session.course.title if session.course is not None else None,
    )


def cancel(booking: Booking, *, actor: Actor) -> list[Booking]:
    """Cancel a booking or leave the waiting list; returns the people promoted.

    Staff at the desk may cancel after the deadline; the person may not (they call).
    Cancelling twice is harmless.
    """
    at = now()
    session = booking.session
    if booking.status is BookingStatus.CANCELLED:
        return []
    if booking.status not in ACTIVE:
        raise NotAllowed("booking_attended", _("Cette présence est déjà notée : "
                                               "l'inscription ne peut plus être annulée."))
    if session.starts_at <= at:
        raise NotAllowed("session_started", _("La séance a commencé : elle ne peut plus être "
                                              "annulée."))
    by_staff = actor.staff_id is not None
    if not can_cancel(booking, at, by_staff=by_staff):
        phone = session.site.phone
        raise NotAllowed(
            "cancellation_too_late",
            _("Il est trop tard pour annuler en ligne. Appelez l'espace numérique au "
              "%(phone)s pour prévenir.", phone=phone) if phone else
            _("Il est trop tard pour annuler en ligne. Prévenez l'espace numérique."),
            phone=phone,
        )
    held_seat = booking.status is BookingStatus.BOOKED
    changed = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == booking.status)
        .values(status=BookingStatus.CANCELLED, waitlist_position=None, cancelled_at=at,
                status_changed_at=at, status_changed_by_id=actor.staff_id),
        execution_options={"synchronize_session": False},
    ).rowcount
    if changed != 1:  # cancelled at the same instant elsewhere
        db.session.rollback()
        return []
    promoted: list[Booking] = []
    if held_seat:
        release_seat(session.id)
        promoted = promote_waiting(session, actor, at)
    record(actor, "booking.cancelled", object_type="booking", object_id=booking.id,
           site_id=session.site_id, session_id=session.id,
           beneficiary_id=booking.beneficiary_id, late=at > cancellation_deadline(session),
           promoted=[b.id for b in promoted])
    db.session.commit()
    db.session.refresh(booking)
    return promoted


def promote_waiting(session: WorkshopSession, actor: Actor, at: datetime) -> list[Booking]:
    """Give free seats to the people waiting, first come first served (not committed)."""
    promoted: list[Booking] = []
    while True:
        candidate = db.session.scalar(
            db.select(Booking)
            .where(Booking.session_id == session.id, Booking.status == BookingStatus.WAITLISTED)
            .order_by(Booking.waitlist_position, Booking.id)
            .limit(1)
        )
        if candidate is None or not take_seat(session.id):
            return promoted
        won = db.session.execute(
            update(Booking)
            .where(Booking.id == candidate.id, Booking.status == BookingStatus.WAITLISTED)
            .values(status=BookingStatus.BOOKED, waitlist_position=None, status_changed_at=at,
                    status_changed_by_id=actor.staff_id),
            execution_options={"synchronize_session": False},
        ).rowcount
        if won != 1:  # promoted by a concurrent cancellation: give the seat back, try again
            release_seat(session.id)
            continue
        db.session.refresh(candidate)
        record(actor, "booking.promoted", object_type="booking", object_id=candidate.id,
               site_id=session.site_id, session_id=session.id,
               beneficiary_id=candidate.beneficiary_id)
        messages.queue_promoted(candidate)
        promoted.append(candidate)


def cancel_session(session: WorkshopSession, reason: str, *, actor: Actor) -> int:
    """The centre cancels a session: everyone booked or waiting is told. Returns how many.

    A staff member needs ``CANCEL_SESSION`` at the site; a session begun cannot be cancelled.
    """
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise NotAllowed("reason_required", _("Indiquez la raison de l'annulation "
                                              "(300 caractères au plus)."))
    if session.status is SessionStatus.CANCELLED:
        return 0
    if session.status is SessionStatus.CLOSED:
        raise NotAllowed("session_closed", _("Cette séance est terminée."))
    if actor.staff_id is not None:
        staff_access.require_actor(actor, Action.CANCEL_SESSION, session.site_id)
    at = now()
    if session.has_started(at):
        raise NotAllowed("session_started", _("Cette séance a commencé : elle ne peut plus "
                                              "être annulée."))
    session.status = SessionStatus.CANCELLED
    session.cancelled_reason = reason
    session.cancelled_at = at
    session.cancelled_by_id = actor.staff_id
    told = 0
    for booking in db.session.scalars(
        db.select(Booking).where(Booking.session_id == session.id, Booking.status.in_(ACTIVE))
    ):
        booking.waitlist_position = None
        booking.cancelled_at = at
        set_status(booking, BookingStatus.CANCELLED, actor, at)
        messages.queue_session_cancelled(booking, reason)
        told += 1
    session.seats_taken = 0
    record(actor, "session.cancelled", object_type="session", object_id=session.id,
           site_id=session.site_id, reason=reason, bookings=told)
    db.session.commit()
    return told
