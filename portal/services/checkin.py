"""Check-in at the door: scan, present / absent / excused, undo, walk-ins.

Every change is one conditional ``UPDATE`` that names the status it expects, so two devices
(or a scanner read twice) can never check the same person in twice: the second one learns
"already checked in at 14:02 by Claire" instead. Seats follow docs/security.md#seats: present and
booked people hold one, absent and excused people give theirs back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, inspect, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.clock import PARIS, now
from portal.extensions import db
from portal.formatting import day
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.people import Beneficiary, StaffMember
from portal.models.vocab import BookingSource, BookingStatus, SessionStatus
from portal.services import bookings, people
from portal.services.audit import Actor, record
from portal.services.codes import normalise_code
from portal.services.errors import Conflict, NotAllowed, NotFound, ServiceError, ValidationFailed
from portal.services.staff_access import Action, at_sites, can, require_actor
from portal.services.vouchers import cheques_taken

MARKS = (BookingStatus.PRESENT, BookingStatus.ABSENT, BookingStatus.EXCUSED)
#: who appears on the roster (cancelled bookings do not; a scan still finds them).
ON_ROSTER = (BookingStatus.BOOKED, BookingStatus.PRESENT, BookingStatus.ABSENT,
             BookingStatus.EXCUSED, BookingStatus.WAITLISTED)
#: how far around the session a person's other bookings are looked for ("wrong day").
NEARBY = timedelta(days=21)
#: a USB scanner set to a US layout on a French (AZERTY) computer types these for 1234567890.
_AZERTY_DIGITS = str.maketrans("&é\"'(-è_çà", "1234567890")


#: how many of a person's other bookings a scan mentions.
OTHERS_SHOWN = 3
#: the most seats a session may have (the database checks it too).
MAX_CAPACITY = 500


@dataclass(frozen=True)
class Marked:
    """What a check-in action did. ``code``: ``checked_in``, ``already_checked_in``,
    ``walk_in_added``, ``marked_absent``, ``marked_excused``, ``undone``. ``seat_added``: the
    session was full and got one more seat for this person."""

    code: str
    booking: Booking
    seat_added: bool = False


@dataclass(frozen=True)
class ScanOutcome:
    """A scan that is not a refusal.

    ``checked_in`` / ``already_checked_in`` (with the booking); someone without a seat here:
    ``walk_in_possible`` (a seat is free) or ``session_full`` (nobody is sent home: staff who
    may add a seat are offered to); or ``choose_person`` (names matching). For someone without
    a seat, ``booking`` is their row here if any (waiting, excused, absent, cancelled) and
    ``others`` their next bookings at the staff member's sites, nearest first.
    """

    code: str
    booking: Booking | None = None
    person: Beneficiary | None = None
    matches: list[Beneficiary] = field(default_factory=list)
    others: list[Booking] = field(default_factory=list)


# --- when attendance may be taken ---------------------------------------------------------------


def session_day(session: WorkshopSession) -> datetime:
    return session.starts_at.astimezone(PARIS)


def is_today(session: WorkshopSession, at: datetime | None = None) -> bool:
    return session_day(session).date() == (at or now()).astimezone(PARIS).date()


def check_open(session: WorkshopSession, at: datetime) -> None:
    """Attendance is taken on the session's day, or later once an administrator reopened it."""
    if session.status is SessionStatus.CANCELLED:
        raise NotAllowed("session_cancelled", _("Cette séance est annulée."))
    if session.status is SessionStatus.CLOSED:
        raise NotAllowed("session_closed",
                         _("Cette séance est clôturée. Un administrateur peut la rouvrir pour "
                           "corriger les présences."))
    if session.reopened_at is None and not is_today(session, at):
        raise NotAllowed("session_not_today",
                         _("Cette séance a lieu le %(day)s : le pointage ouvre ce jour-là.",
                           day=day(session.starts_at)))


def _open_to(actor: Actor, session: WorkshopSession) -> tuple[StaffMember, datetime]:
    """The actor may take attendance at the session's site, and it may be taken now: the
    staff member and the time."""
    staff = require_actor(actor, Action.CHECK_IN, session.site_id)
    at = now()
    check_open(session, at)
    return staff, at


# --- marking -------------------------------------------------------------------------------------


def _move(booking: Booking, expected: BookingStatus, values: dict[str, object]) -> bool:
    """Change the booking only if it still has the status read: the database decides."""
    return db.session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.status == expected)
        .values(**values),
        execution_options={"synchronize_session": False},
    ).rowcount == 1


def _reload(booking: Booking) -> None:
    """The booking as committed, with its session (joined) and the person shown: one query
    instead of a refresh of each."""
    booking_id = inspect(booking).identity[0]  # reading booking.id would load it again
    db.session.scalars(
        db.select(Booking).where(Booking.id == booking_id)
        .options(joinedload(Booking.beneficiary))
        .execution_options(populate_existing=True)).one()


def _roster_changed() -> ServiceError:
    return Conflict("roster_changed",
                    _("Quelqu'un vient de modifier cette ligne sur un autre appareil. "
                      "Vérifiez la liste et recommencez si besoin."))


def _session_full(person: Beneficiary) -> ServiceError:
    return Conflict("session_full",
                    _("Séance complète : pas de place pour %(name)s. Proposez une autre séance "
                      "ou la liste d'attente.", name=person.display_name))


class SeatToConfirm(Conflict):
    """The session is full: adding a seat for the person needs the staff member's "yes"."""

    def __init__(self, person: Beneficiary, capacity: int) -> None:
        super().__init__(
            "extra_seat_to_confirm",
            _("Séance complète. Ajouter une place pour %(name)s ? La séance passera de "
              "%(before)d à %(after)d places.", name=person.display_name, before=capacity,
              after=capacity + 1), person=person, capacity=capacity)


def _seat(session: WorkshopSession, person: Beneficiary, staff: StaffMember, *,
          extra_seat: bool, confirmed: bool, actor: Actor) -> bool:
    """Take a seat for the person, or with ``extra_seat`` (and ``confirmed``) add one to a
    full session: staff whose role allows it, so that nobody is sent home from a half-empty
    room. Not committed; True when a seat was added. Raises ``session_full`` when there is
    none, ``SeatToConfirm`` when one would be added without the "yes"."""
    if bookings.take_seat(session.id):
        return False
    if not extra_seat:
        db.session.rollback()
        raise _session_full(person)
    if not can(staff, Action.ADD_SEAT, session.site_id):
        db.session.rollback()
        raise NotAllowed("role_required",
                         _("Votre rôle dans ce lieu ne permet pas d'ajouter une place."))
    if not confirmed:
        db.session.rollback()
        db.session.refresh(session)
        raise SeatToConfirm(person, session.capacity)
    # One more seat, taken at once, only while the session is still full: two devices adding
    # a seat for two people add two, a seat freed meanwhile is simply taken.
    added = db.session.execute(
        update(WorkshopSession)
        .where(WorkshopSession.id == session.id,
               WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.seats_taken >= WorkshopSession.capacity,
               WorkshopSession.capacity < MAX_CAPACITY)
        .values(capacity=WorkshopSession.capacity + 1,
                seats_taken=WorkshopSession.seats_taken + 1),
        execution_options={"synchronize_session": False}).rowcount == 1
    if added:
        capacity = db.session.scalar(
            db.select(WorkshopSession.capacity).where(WorkshopSession.id == session.id))
        record(actor, "session.seat_added", object_type="session", object_id=session.id,
               site_id=session.site_id, beneficiary_id=person.id, capacity=capacity)
        return True
    if bookings.take_seat(session.id):
        return False
    db.session.rollback()
    raise _session_full(person)


def check_in(booking: Booking, *, actor: Actor, extra_seat: bool = False,
             confirmed: bool = False) -> Marked:
    """Mark a person present. Already present is an answer, not an error. Someone without a
    seat (waiting, absent, excused) takes a free one, or with ``extra_seat`` and
    ``confirmed`` one added to the full session."""
    session = booking.session
    staff, at = _open_to(actor, session)
    expected = booking.status
    if expected is BookingStatus.PRESENT:
        return Marked("already_checked_in", booking)
    if expected is BookingStatus.CANCELLED:
        raise Conflict("booking_cancelled",
                       _("L'inscription de %(name)s a été annulée.",
                         name=booking.beneficiary.display_name))
    values = {"status": BookingStatus.PRESENT, "waitlist_position": None, "checked_in_at": at,
              "checked_in_by_id": actor.staff_id, "status_changed_at": at,
              "status_changed_by_id": actor.staff_id}
    seat_added = False
    if expected is not BookingStatus.BOOKED:  # waiting, absent or excused: no seat held
        seat_added = _seat(session, booking.beneficiary, staff, extra_seat=extra_seat,
                           confirmed=confirmed, actor=actor)
    if not _move(booking, expected, values):
        db.session.rollback()
        db.session.refresh(booking)
        if booking.status is BookingStatus.PRESENT:
            return Marked("already_checked_in", booking)
        raise _roster_changed()
    record(actor, "checkin.present", object_type="booking", object_id=booking.id,
           site_id=session.site_id, session_id=session.id,
           beneficiary_id=booking.beneficiary_id, previous=expected.value)
    db.session.commit()
    _reload(booking)
    return Marked("checked_in", booking, seat_added)


def _mark_missing(booking: Booking, status: BookingStatus, *, actor: Actor) -> Marked:
    session = booking.session
    _staff, at = _open_to(actor, session)
    expected = booking.status
    code = "marked_absent" if status is BookingStatus.ABSENT else "marked_excused"
    if expected is status:
        return Marked(code, booking)
    if expected not in (BookingStatus.BOOKED, BookingStatus.PRESENT, *MARKS):
        raise NotAllowed("not_on_roster", _("Cette personne n'a pas de place à cette séance."))
    if cheques_taken(booking):
        raise NotAllowed("cheques_taken",
                         _("Des chèques ont été pris pour %(name)s : la présence ne peut plus "
                           "être changée en absence.", name=booking.beneficiary.display_name))
    if not _move(booking, expected, {"status": status, "checked_in_at": None,
                                     "checked_in_by_id": None, "status_changed_at": at,
                                     "status_changed_by_id": actor.staff_id}):
        db.session.rollback()
        raise _roster_changed()
    promoted: list[Booking] = []
    if expected in (BookingStatus.BOOKED, BookingStatus.PRESENT):
        bookings.release_seat(session.id)
        if session.starts_at > at:  # excused in advance: the seat goes to the next in line
            promoted = bookings.promote_waiting(session, actor, at)
    record(actor, f"checkin.{status.value}", object_type="booking", object_id=booking.id,
           site_id=session.site_id, session_id=session.id,
           beneficiary_id=booking.beneficiary_id, previous=expected.value,
           promoted=[b.id for b in promoted])
    db.session.commit()
    _reload(booking)
    return Marked(code, booking)


def mark_absent(booking: Booking, *, actor: Actor) -> Marked:
    return _mark_missing(booking, BookingStatus.ABSENT, actor=actor)


def mark_excused(booking: Booking, *, actor: Actor) -> Marked:
    return _mark_missing(booking, BookingStatus.EXCUSED, actor=actor)


def can_undo(booking: Booking, at: datetime | None = None) -> bool:
    """A mark may be undone the day it was made, while the session is open."""
    at = at or now()
    return (booking.status in MARKS and booking.session.status is SessionStatus.SCHEDULED
            and booking.status_changed_at.astimezone(PARIS).date()
            == at.astimezone(PARIS).date())


def marks_offered(booking: Booking, paid: int, at: datetime) -> tuple[str, ...]:
    """The marks the roster offers for a booking while attendance is open, in the order of
    its buttons: ``present``, ``absent``, ``excused``, ``undo`` (``paid``: cheques taken)."""
    status = booking.status
    offered = []
    if status not in (BookingStatus.PRESENT, BookingStatus.CANCELLED) and not (
            status is BookingStatus.WAITLISTED and booking.session.is_full):
        offered.append("present")
    if not paid:  # a payment fixes the presence (mark_absent refuses it)
        if status in (BookingStatus.BOOKED, BookingStatus.PRESENT, BookingStatus.EXCUSED):
            offered.append("absent")
        if status in (BookingStatus.BOOKED, BookingStatus.PRESENT, BookingStatus.ABSENT):
            offered.append("excused")
    if can_undo(booking, at) and not (paid and status is BookingStatus.PRESENT
                                      and _is_walk_in(booking)):
        offered.append("undo")
    return tuple(offered)


def _is_walk_in(booking: Booking) -> bool:
    return (booking.source is BookingSource.WALK_IN
            and booking.created_at.astimezone(PARIS).date()
            == session_day(booking.session).date())


def undo(booking: Booking, *, actor: Actor) -> Marked:
    """Back to "booked" (a walk-in added by mistake leaves the roster)."""
    session = booking.session
    _staff, at = _open_to(actor, session)
    expected = booking.status
    if expected not in MARKS:
        raise NotAllowed("nothing_to_undo", _("Il n'y a rien à annuler pour cette personne."))
    if not can_undo(booking, at):
        raise NotAllowed("undo_too_late",
                         _("Ce pointage date d'un autre jour : il ne peut plus être annulé."))
    walk_in = expected is BookingStatus.PRESENT and _is_walk_in(booking)
    if walk_in and cheques_taken(booking):
        raise NotAllowed("cheques_taken",
                         _("Des chèques ont été pris pour %(name)s : l'ajout ne peut pas être "
                           "annulé.", name=booking.beneficiary.display_name))
    target = BookingStatus.CANCELLED if walk_in else BookingStatus.BOOKED
    if expected is not BookingStatus.PRESENT and not bookings.take_seat(session.id):
        db.session.rollback()
        raise Conflict("seat_given",
                       _("La place de %(name)s a été donnée entre-temps : la séance est "
                         "complète.", name=booking.beneficiary.display_name))
    values: dict[str, object] = {"status": target, "checked_in_at": None,
                                 "checked_in_by_id": None, "status_changed_at": at,
                                 "status_changed_by_id": actor.staff_id}
    if walk_in:
        values["cancelled_at"] = at
    if not _move(booking, expected, values):
        db.session.rollback()
        raise _roster_changed()
    if walk_in:
        bookings.release_seat(session.id)
    record(actor, "checkin.undone", object_type="booking", object_id=booking.id,
           site_id=session.site_id, session_id=session.id,
           beneficiary_id=booking.beneficiary_id, previous=expected.value,
           now=target.value)
    db.session.commit()
    _reload(booking)
    return Marked("undone", booking)


def add_walk_in(session: WorkshopSession, person: Beneficiary, *, actor: Actor,
                presented: str = "", extra_seat: bool = False,
                confirmed: bool = False) -> Marked:
    """Someone at the door without a booking: take a seat (atomically) and check them in;
    with ``extra_seat``, a full session gets one more seat for them (staff whose role allows
    it, once they ``confirmed``; audited).

    The person must be one the staff member may see (``people.visible``), or one whose card
    or booking code was just scanned (``presented``): holding it is the proof they are here.
    """
    staff, at = _open_to(actor, session)
    if person.is_anonymised or not (presented_by(person, presented)
                                    or people.can_see(staff, person)):
        raise people.unknown_person()
    existing = bookings.booking_for(session, person)
    if existing is not None and existing.status is not BookingStatus.CANCELLED:
        return check_in(existing, actor=actor, extra_seat=extra_seat, confirmed=confirmed)
    try:
        seat_added = _seat(session, person, staff, extra_seat=extra_seat, confirmed=confirmed,
                           actor=actor)
    except Conflict as error:
        if isinstance(error, SeatToConfirm):
            raise
        again = bookings.booking_for(session, person)  # the last seat, taken for them elsewhere?
        if again is not None and again.status is BookingStatus.PRESENT:
            return Marked("already_checked_in", again)
        raise
    booking = existing or Booking(session_id=session.id, beneficiary_id=person.id,
                                  code=bookings.new_booking_code())
    booking.status = BookingStatus.PRESENT
    booking.source = BookingSource.WALK_IN
    booking.waitlist_position = None
    booking.created_at = at
    booking.created_by_id = actor.staff_id
    booking.cancelled_at = None
    booking.checked_in_at = booking.status_changed_at = at
    booking.checked_in_by_id = booking.status_changed_by_id = actor.staff_id
    db.session.add(booking)
    try:
        db.session.flush()
    except IntegrityError:  # the same person added at the same instant on another device
        db.session.rollback()
        again = bookings.booking_for(session, person)
        if again is not None and again.status is BookingStatus.PRESENT:
            return Marked("already_checked_in", again)
        raise _roster_changed() from None
    record(actor, "checkin.walk_in", object_type="booking", object_id=booking.id,
           site_id=session.site_id, session_id=session.id, beneficiary_id=person.id,
           seat_added=seat_added)
    db.session.commit()
    _reload(booking)
    return Marked("walk_in_added", booking, seat_added)


# --- scanning ------------------------------------------------------------------------------------


def presented_by(person: Beneficiary, raw: str) -> bool:
    """``raw`` is what a scan of the person's card or of one of their booking codes reads."""
    variants = scan_variants((raw or "")[:120])
    if not variants:
        return False
    if person.login_id in variants:
        return True
    return db.session.scalar(
        db.select(Booking.id).where(Booking.beneficiary_id == person.id,
                                    Booking.code.in_(variants)).limit(1)) is not None


def scan_variants(raw: str) -> list[str]:
    """What a scan may stand for: as typed, and as typed by a scanner in the wrong layout."""
    variants = [normalise_code(raw)]
    if any(ch in raw for ch in "&é\"'(è_çà"):
        fixed = normalise_code(raw.translate(_AZERTY_DIGITS))
        if fixed not in variants:
            variants.append(fixed)
    return [v for v in variants if v]


def scan(session: WorkshopSession, raw: str, *, actor: Actor) -> ScanOutcome:
    """A card identifier, a booking code or a name typed into the scan field.

    Returns a :class:`ScanOutcome`; raises a coded refusal only when nobody can be found
    (``unknown_code``, ``scan_empty``) or attendance cannot be taken now.
    """
    staff = require_actor(actor, Action.CHECK_IN, session.site_id)
    check_open(session, now())
    raw = (raw or "").strip()[:120]
    if not raw:
        raise ValidationFailed("scan_empty",
                               _("Scannez une carte ou tapez un identifiant, un code ou un nom."))
    for code in scan_variants(raw):
        booking = db.session.scalar(db.select(Booking).filter_by(code=code))
        if booking is not None:
            return _scan_booking(session, booking, staff, actor)
        person = db.session.scalar(db.select(Beneficiary).filter_by(login_id=code))
        if person is not None and not person.is_anonymised:
            return _scan_person(session, person, staff, actor)
    if any(ch.isalpha() for ch in raw) and len(raw) >= 2:
        matches = _people_named(session, staff, raw)
        if matches:
            return ScanOutcome("choose_person", matches=matches)
    raise NotFound("unknown_code",
                   _("Code inconnu : « %(code)s ». Vérifiez la carte, ou tapez le nom de la "
                     "personne.", code=raw[:40]), scanned=raw[:40])


def _scan_booking(session: WorkshopSession, booking: Booking, staff: StaffMember,
                  actor: Actor) -> ScanOutcome:
    """A booking code: of this session, or of another one the person is expected at."""
    if booking.session_id == session.id:
        return _scan_person(session, booking.beneficiary, staff, actor)
    outcome = _scan_person(session, booking.beneficiary, staff, actor)
    if outcome.code in ("walk_in_possible", "session_full") and _expected_at(booking, staff):
        # The code shown is of another session: say that one first.
        others = [booking, *(b for b in outcome.others if b.id != booking.id)]
        return replace(outcome, others=others[:OTHERS_SHOWN])
    return outcome


def _expected_at(booking: Booking, staff: StaffMember) -> bool:
    """The booking is of a session still to come today or later, at a site staff see."""
    return (booking.status in (BookingStatus.BOOKED, BookingStatus.WAITLISTED)
            and booking.session.status is SessionStatus.SCHEDULED
            and booking.session.ends_at >= _start_of_today()
            and can(staff, Action.SEE_SESSIONS, booking.session.site_id))


def _scan_person(session: WorkshopSession, person: Beneficiary, staff: StaffMember,
                 actor: Actor) -> ScanOutcome:
    """Check the person in if they hold a seat here; otherwise say whether one can be given
    (and what else they are booked on)."""
    here = bookings.booking_for(session, person)
    if here is not None and here.status in (BookingStatus.BOOKED, BookingStatus.PRESENT):
        return _checked(check_in(here, actor=actor))
    if here is not None and here.status is not BookingStatus.CANCELLED and not session.is_full:
        try:  # waiting, excused or absent, and a seat is free: they take it
            return _checked(check_in(here, actor=actor))
        except ServiceError as error:
            if error.code != "session_full":
                raise
            db.session.refresh(session)
    return ScanOutcome("session_full" if session.is_full else "walk_in_possible",
                       booking=here, person=person, others=_other_bookings(session, person, staff))


def _checked(marked: Marked) -> ScanOutcome:
    return ScanOutcome(marked.code, booking=marked.booking, person=marked.booking.beneficiary)


def _start_of_today() -> datetime:
    """Midnight in Paris: bookings of sessions over before today are history, not errors."""
    return datetime.combine(now().astimezone(PARIS).date(), time.min, PARIS)


def _other_bookings(session: WorkshopSession, person: Beneficiary,
                    staff: StaffMember) -> list[Booking]:
    """The person's bookings at other sessions around this one (booked or waiting), at the
    sites the staff member sees: the nearest in time first."""
    rows = db.session.scalars(
        db.select(Booking).join(Booking.session)
        .where(Booking.beneficiary_id == person.id, Booking.session_id != session.id,
               at_sites(staff, Action.SEE_SESSIONS, WorkshopSession.site_id),
               Booking.status.in_((BookingStatus.BOOKED, BookingStatus.WAITLISTED)),
               WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.ends_at >= _start_of_today(),
               WorkshopSession.starts_at.between(session.starts_at - NEARBY,
                                                 session.starts_at + NEARBY))
    ).all()
    return sorted(rows, key=lambda b: abs(b.session.starts_at - session.starts_at))[:OTHERS_SHOWN]


def _people_named(session: WorkshopSession, staff: StaffMember, text: str) -> list[Beneficiary]:
    """People whose name matches: those on this session first, then the others the staff
    member may see."""
    words = people.fold(text).split()
    on_session = list(db.session.scalars(
        db.select(Beneficiary).join(Booking, Booking.beneficiary_id == Beneficiary.id)
        .where(Booking.session_id == session.id, Booking.status.in_(ON_ROSTER))
        .order_by(func.lower(Beneficiary.last_name), func.lower(Beneficiary.first_name))))
    others = [p for p in people.search(staff, text) if p not in on_session]
    found = [p for p in [*on_session, *others]
             if all(w in people.fold(f"{p.first_name} {p.last_name}") for w in words)]
    return found[:8]
