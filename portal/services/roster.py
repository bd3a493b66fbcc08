"""What the check-in screens read: the sessions of the coming days and a session's roster.

Reading only. The roster costs a fixed number of queries whatever its size, and its
fingerprint (one query) lets two devices poll it cheaply: an unchanged roster answers 304.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, true
from sqlalchemy.orm import contains_eager, lazyload

from portal.clock import PARIS, now
from portal.extensions import db
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.people import Beneficiary, StaffMember
from portal.models.vocab import BookingStatus, label_for
from portal.models.vouchers import Cheque
from portal.services import checkin, vouchers
from portal.services.catalogue import as_listed
from portal.services.checkin import ON_ROSTER
from portal.services.codes import normalise_code
from portal.services.errors import ServiceError
from portal.services.people import fold
from portal.services.staff_access import Action, at_sites, can
from portal.services.vouchers import Payment

#: a fixed weight per status, so that any single change moves the fingerprint.
_STATUS_WEIGHT = {status: weight for weight, status in enumerate(BookingStatus, start=1)}


@dataclass(frozen=True)
class SessionCounts:
    session: WorkshopSession
    booked: int
    present: int
    waitlisted: int


def _counts_by_session(*sessions: Any) -> Any:
    """Booked, present and waiting people per session, as a subquery; ``sessions``: conditions
    on ``WorkshopSession`` that bound the sessions counted (never every session ever held)."""
    query = (
        db.select(
            Booking.session_id,
            func.sum(case((Booking.status == BookingStatus.BOOKED, 1), else_=0)).label("booked"),
            func.sum(case((Booking.status == BookingStatus.PRESENT, 1), else_=0)).label("present"),
            func.sum(case((Booking.status == BookingStatus.WAITLISTED, 1), else_=0)).label(
                "waitlisted"),
        )
        .group_by(Booking.session_id)
    )
    if sessions:
        query = query.where(Booking.session_id.in_(db.select(WorkshopSession.id)
                                                   .where(*sessions)))
    return query.subquery()


def session_counts(session: WorkshopSession) -> SessionCounts:
    """One session with its booked/present/waitlist counts."""
    counts = _counts_by_session(WorkshopSession.id == session.id)
    row = db.session.execute(
        db.select(counts.c.booked, counts.c.present, counts.c.waitlisted)
        .where(counts.c.session_id == session.id)).first()
    booked, present, waitlisted = row if row is not None else (0, 0, 0)
    return SessionCounts(session, booked or 0, present or 0, waitlisted or 0)


def sessions_by_day(staff: StaffMember, *, days: int) -> list[tuple[date, list[SessionCounts]]]:
    """Sessions from today (Paris) for ``days`` days, with booked/present/waitlist counts."""
    today = now().astimezone(PARIS).date()
    start = datetime.combine(today, time.min, PARIS)
    end = start + timedelta(days=days)
    shown = (WorkshopSession.starts_at >= start, WorkshopSession.starts_at < end,
             at_sites(staff, Action.SEE_SESSIONS, WorkshopSession.site_id))
    counts = _counts_by_session(*shown)
    query = (
        db.select(WorkshopSession, counts.c.booked, counts.c.present, counts.c.waitlisted)
        .outerjoin(counts, counts.c.session_id == WorkshopSession.id)
        .options(*as_listed())
        .where(*shown)
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
    )
    grouped: dict[date, list[SessionCounts]] = defaultdict(list)
    for session, booked, present, waitlisted in db.session.execute(query).unique():
        day = session.starts_at.astimezone(PARIS).date()
        grouped[day].append(SessionCounts(session, booked or 0, present or 0, waitlisted or 0))
    return sorted(grouped.items())


# --- one session's roster ----------------------------------------------------------------------


MARK_ACTIONS = frozenset({"present", "absent", "excused", "undo"})
#: what the roster shows of a person (and reads to filter it by name or card).
_SHOWN_OF_PERSON = (Beneficiary.first_name, Beneficiary.last_name, Beneficiary.gender,
                    Beneficiary.staff_notes, Beneficiary.login_id)

def status_label(booking: Booking) -> str:
    """The booking's state said of its person: agreeing with their gender, neutral when it is
    not given ("Présence notée")."""
    return label_for(booking.status, booking.beneficiary.gender)


@dataclass(frozen=True)
class RosterRow:
    booking: Booking
    #: cheques paid, owed, and taken but on no receipt yet (``vouchers.Payment``).
    payment: Payment
    #: what the screen offers for this row: the marks ``present``, ``absent``, ``excused``,
    #: ``undo``, and in the person's panel ``cheques`` (take them) and ``receipt`` (issue it).
    actions: frozenset[str]

    @property
    def person(self) -> Beneficiary:
        return self.booking.beneficiary

    @property
    def has_note(self) -> bool:
        return bool(self.booking.beneficiary.staff_notes.strip())

    @property
    def status_label(self) -> str:
        return status_label(self.booking)

    @property
    def has_marks(self) -> bool:
        return not self.actions.isdisjoint(MARK_ACTIONS)


@dataclass
class Roster:
    session: WorkshopSession
    rows: list[RosterRow]
    waiting: list[RosterRow]
    counts: dict[str, int] = field(default_factory=dict)
    filtered: bool = False
    #: attendance may be taken now by this staff member (the scan field is shown).
    can_check_in: bool = False


def _matches(booking: Booking, words: list[str], code: str) -> bool:
    person = booking.beneficiary
    name = fold(f"{person.first_name} {person.last_name}")
    if code and code in (person.login_id, booking.code):
        return True
    return all(word in name for word in words)


def _checking_in(staff: StaffMember, session: WorkshopSession, at: datetime) -> bool:
    if not can(staff, Action.CHECK_IN, session.site_id):
        return False
    try:
        checkin.check_open(session, at)
    except ServiceError:
        return False
    return True


def _rows(staff: StaffMember, session: WorkshopSession,
          bookings: list[Booking]) -> tuple[list[RosterRow], bool]:
    """The rows of these bookings of one session, with what the staff member may do on each
    (one query for the cheques of them all)."""
    at = now()
    open_now = _checking_in(staff, session, at)
    takes_cheques = can(staff, Action.TAKE_CHEQUES, session.site_id)
    paid = vouchers.payments(bookings)
    rows = []
    for booking in bookings:
        payment = paid[booking.id]
        actions = set(checkin.marks_offered(booking, payment.paid, at) if open_now else ())
        if takes_cheques and payment.owed:
            actions.add("cheques")
        if takes_cheques and payment.unreceipted:
            actions.add("receipt")
        rows.append(RosterRow(booking, payment, frozenset(actions)))
    return rows, open_now


def row(staff: StaffMember, booking: Booking) -> RosterRow:
    """One booking's row, as the roster would show it (for the person's panel)."""
    return _rows(staff, booking.session, [booking])[0][0]


#: the bookings on a session's roster with what it shows of their people (built once).
_ROSTER = (
    db.select(Booking)
    .join(Booking.beneficiary)
    .options(lazyload(Booking.session),
             contains_eager(Booking.beneficiary).load_only(*_SHOWN_OF_PERSON))
    .where(Booking.session_id == bindparam("session_id", type_=Booking.session_id.type),
           Booking.status.in_(ON_ROSTER))
    .order_by(func.lower(Beneficiary.last_name), func.lower(Beneficiary.first_name),
              Booking.id)
)


def roster(staff: StaffMember, session: WorkshopSession, text: str = "") -> Roster:
    """Everyone on the session (waiting list apart), by name; optionally filtered by ``text``;
    each row with what ``staff`` may do on it.

    Two queries whatever the number of people: the bookings with what the roster shows of
    their people, and the cheques taken for them. The session is the one already loaded.
    """
    bookings = db.session.scalars(_ROSTER, {"session_id": session.id}).unique().all()
    counts = {status.value: 0 for status in ON_ROSTER}
    for booking in bookings:
        counts[booking.status.value] += 1
    words = fold(text).split()
    code = normalise_code(text)
    shown = [b for b in bookings if not words or _matches(b, words, code)]
    rows, open_now = _rows(staff, session, shown)
    waiting = sorted((r for r in rows if r.booking.status is BookingStatus.WAITLISTED),
                     key=lambda r: (r.booking.waitlist_position or 0, r.booking.id))
    present = [r for r in rows if r.booking.status is not BookingStatus.WAITLISTED]
    return Roster(session, present, waiting, counts, filtered=bool(words),
                  can_check_in=open_now)


def _fingerprint_statement() -> Any:
    """The one statement of :func:`fingerprint`, built once (``session_id`` bound per call)."""
    weight = case(*((Booking.status == status, w) for status, w in _STATUS_WEIGHT.items()),
                  else_=0)
    session_id = bindparam("session_id", type_=Booking.session_id.type)
    bookings = (
        db.select(func.count(Booking.id), func.sum(Booking.id * weight),
                  func.max(Booking.status_changed_at), func.max(Booking.checked_in_at),
                  func.sum(case((func.length(func.trim(Beneficiary.staff_notes)) > 0,
                                 Booking.id), else_=0)),
                  func.sum(Beneficiary.id * func.length(Beneficiary.first_name
                                                        + Beneficiary.last_name)))
        .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)
        .where(Booking.session_id == session_id)
    )
    cheques = (
        db.select(func.count(Cheque.id), func.sum(Cheque.id),
                  func.sum(case((Cheque.receipt_id.is_(None), Cheque.id), else_=0)))
        .join(Booking, Booking.id == Cheque.booking_id)
        .where(Booking.session_id == session_id)
    )
    counted, taken = bookings.subquery(), cheques.subquery()
    return db.select(counted, taken).select_from(counted.join(taken, true()))  # one row each


_FINGERPRINT = _fingerprint_statement()


def fingerprint(session: WorkshopSession) -> str:
    """A short hash that changes whenever anything shown on the roster changes.

    One query: the bookings' statuses and times, the people's note flags and the cheques
    taken, plus the session's own row (already loaded).
    """
    row = db.session.execute(_FINGERPRINT, {"session_id": session.id}).one()
    state = (tuple(row), session.workshop.price_cheques, session.workshop.title,
             session.status.value, session.seats_taken, session.capacity,
             session.closed_at, session.reopened_at, session.starts_at, session.ends_at,
             now().astimezone(PARIS).date())
    return hashlib.sha256(repr(state).encode()).hexdigest()[:20]
