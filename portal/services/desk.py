"""The desk: a person's file, booking and cancelling on their behalf, at the staff member's
own sites.

The booking rules themselves (seats, waiting list, limits, deadlines) are ``bookings``'; this
module adds who may use them at the desk: a person the staff member may see
(``people.visible``), a session or course of a site where their role allows ``book_for``. The
person's file says what may be done with each line, so the screen offers only that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Exists, exists

from portal.clock import now
from portal.extensions import db
from portal.models.bookings import Accompaniment, Booking
from portal.models.catalogue import Course, WorkshopSession
from portal.models.documents import Document
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.vocab import BookingSource, BookingStatus, SessionStatus
from portal.models.vouchers import Cheque
from portal.services import bookings, merging, people, registration, roster, staff_access
from portal.services.audit import Actor
from portal.services.errors import ValidationFailed
from portal.services.staff_access import Action, at_sites, can, require, staff_of


def book_for(person: Beneficiary, session: WorkshopSession, *, actor: Actor,
             waitlist: bool = False) -> bookings.Outcome:
    """Book a seat (or a place on the waiting list) for the person, at the desk."""
    staff = staff_of(actor)
    people.require_visible(staff, person)
    if not can(staff, Action.BOOK_FOR, session.site_id):
        raise ValidationFailed("session_not_offered", _("Choisissez une séance dans la liste."))
    return bookings.book(session, person, actor=actor, source=BookingSource.DESK,
                         waitlist=waitlist)


def book_course_for(person: Beneficiary, course: Course, *, actor: Actor,
                    accept_incomplete: bool = False) -> list[Booking]:
    """Book every upcoming session of a course for the person, or none (``accept_incomplete``:
    also when the end-of-course attestation can no longer be earned)."""
    staff = staff_of(actor)
    people.require_visible(staff, person)
    if not can(staff, Action.BOOK_FOR, course.site_id):
        raise ValidationFailed("course_not_offered", _("Choisissez un parcours dans la liste."))
    return bookings.book_course(course, person, actor=actor, source=BookingSource.DESK,
                                accept_incomplete=accept_incomplete)


def cancel_for(booking: Booking, *, actor: Actor) -> list[Booking]:
    """Cancel a booking on the person's behalf (after the online deadline too)."""
    staff = staff_of(actor)
    people.require_visible(staff, booking.beneficiary)
    require(staff, Action.BOOK_FOR, booking.session.site_id)
    return bookings.cancel(booking, actor=actor)


def card_site(staff: StaffMember, person: Beneficiary) -> Site | None:
    """Where the person's login card is issued: their usual site (if the staff member may
    print cards there), else the first site where the staff member may."""
    if person.home_site is not None:
        require(staff, Action.PRINT_CARD, person.home_site.id)
        return person.home_site
    return db.session.scalars(
        db.select(Site).where(at_sites(staff, Action.PRINT_CARD, Site.id)).order_by(Site.id)
        .limit(1)).first()


# --- the person's file ---------------------------------------------------------------------------

#: how many sessions the booking form offers (the soonest first).
BOOKABLE_LIMIT = 80


@dataclass(frozen=True)
class Line:
    """One booking of the person, with what the staff member may do with it."""

    booking: Booking
    #: rank on the waiting list (1 = next to get a seat), when waiting.
    rank: int | None = None
    can_cancel: bool = False
    can_certify: bool = False

    @property
    def status_label(self) -> str:
        return roster.status_label(self.booking)


@dataclass(frozen=True)
class PaidCheque:
    cheque: Cheque
    #: what it paid: a workshop's title, or None for individual help.
    paid_for: str | None
    day: datetime | None


@dataclass(frozen=True)
class PersonFile:
    person: Beneficiary
    upcoming: list[Line]
    past: list[Line]
    #: what the booking form offers: sessions and courses of the sites where the staff member
    #: may book, that the person is not booked on.
    bookable: list[WorkshopSession]
    courses: list[Course]
    can_print_card: bool
    #: the cheques the person paid with (for sessions or individual help), latest first.
    cheques: list[PaidCheque] = field(default_factory=list)
    #: the documents issued to the person, latest first.
    documents: list[Document] = field(default_factory=list)
    #: the sites whose documents the staff member may open.
    document_sites: frozenset[int] = frozenset()
    #: how many past sessions the person attended, was excused from, missed.
    attendance: dict[str, int] = field(default_factory=dict)
    #: the records merged into this one (their history is now the person's).
    merged: list[Beneficiary] = field(default_factory=list)
    can_edit: bool = False
    can_reset_access: bool = False
    can_merge: bool = False
    can_export_data: bool = False
    can_anonymise: bool = False


def _booked_on(person: Beneficiary) -> Exists:
    """SQL: the session holds a booking of the person (booked, waiting or present)."""
    return exists().where(Booking.session_id == WorkshopSession.id,
                          Booking.beneficiary_id == person.id,
                          Booking.status.in_((*bookings.ACTIVE, BookingStatus.PRESENT)))


def bookable_sessions(staff: StaffMember, person: Beneficiary, *,
                      limit: int = BOOKABLE_LIMIT) -> list[WorkshopSession]:
    """Upcoming sessions of the sites where the staff member may book, that the person is
    not on, soonest first: chosen by the database, so a small site is never crowded out."""
    return list(db.session.scalars(
        db.select(WorkshopSession)
        .where(WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.starts_at > now(),
               at_sites(staff, Action.BOOK_FOR, WorkshopSession.site_id),
               ~_booked_on(person))
        .order_by(WorkshopSession.starts_at, WorkshopSession.id).limit(limit)).unique())


def bookable_courses(staff: StaffMember, person: Beneficiary) -> list[Course]:
    """Courses of the sites where the staff member may book with an upcoming session the
    person is not on."""
    upcoming = exists().where(WorkshopSession.course_id == Course.id,
                              WorkshopSession.status == SessionStatus.SCHEDULED,
                              WorkshopSession.starts_at > now(), ~_booked_on(person))
    return list(db.session.scalars(
        db.select(Course).where(at_sites(staff, Action.BOOK_FOR, Course.site_id), upcoming)
        .order_by(Course.title)))


def paid_cheques(person: Beneficiary) -> list[PaidCheque]:
    """Every cheque the person paid with, through their bookings or individual help."""
    by_booking = db.session.execute(
        db.select(Cheque, Booking).join(Booking, Booking.id == Cheque.booking_id)
        .where(Booking.beneficiary_id == person.id)).all()
    by_help = db.session.execute(
        db.select(Cheque, Accompaniment)
        .join(Accompaniment, Accompaniment.id == Cheque.accompaniment_id)
        .where(Accompaniment.beneficiary_id == person.id)).all()
    lines = [PaidCheque(c, b.session.workshop.title, b.session.starts_at) for c, b in by_booking]
    lines += [PaidCheque(c, None, a.started_at) for c, a in by_help]
    return sorted(lines, key=lambda line: (line.day or line.cheque.registered_at,
                                           line.cheque.id), reverse=True)


def documents_of(person: Beneficiary) -> list[Document]:
    return list(db.session.scalars(
        db.select(Document).where(Document.beneficiary_id == person.id)
        .order_by(Document.issued_at.desc(), Document.id.desc())))


def person_file(staff: StaffMember, person: Beneficiary, *, past: int = 100) -> PersonFile:
    """What the desk shows of a person the staff member may see, and may do for them."""
    people.require_visible(staff, person)
    upcoming, done = bookings.bookings_of(person)
    ranks = bookings.waitlist_ranks(upcoming)
    at = now()
    documents = documents_of(person)
    return PersonFile(
        person=person,
        upcoming=[Line(b, ranks.get(b.id),
                       can_cancel=bookings.can_cancel(b, at, by_staff=True)
                       and can(staff, Action.BOOK_FOR, b.session.site_id))
                  for b in upcoming],
        past=[Line(b, can_certify=b.status is BookingStatus.PRESENT
                   and b.session.workshop.grants_attestation
                   and can(staff, Action.ISSUE_CERTIFICATES, b.session.site_id))
              for b in done[:past]],
        bookable=bookable_sessions(staff, person),
        courses=bookable_courses(staff, person),
        can_print_card=(can(staff, Action.PRINT_CARD, person.home_site_id)
                        if person.home_site_id is not None
                        else staff_access.sites_where(staff, Action.PRINT_CARD) != []),
        cheques=paid_cheques(person),
        documents=documents,
        document_sites=frozenset(d.site_id for d in documents
                                 if can(staff, Action.SEE_DOCUMENTS, d.site_id)),
        attendance={status.value: sum(1 for b in done if b.status is status)
                    for status in (BookingStatus.PRESENT, BookingStatus.EXCUSED,
                                   BookingStatus.ABSENT)},
        merged=list(db.session.scalars(
            db.select(Beneficiary).where(Beneficiary.id.in_(merging.record_ids(person)[1:]))
            .order_by(Beneficiary.id))),
        can_edit=registration.may(staff, Action.EDIT_PERSON, person),
        can_reset_access=registration.may(staff, Action.RESET_ACCESS, person),
        can_merge=registration.may(staff, Action.MERGE_PEOPLE, person),
        can_export_data=registration.may(staff, Action.EXPORT_PERSON, person),
        can_anonymise=registration.may(staff, Action.ANONYMISE_PERSON, person),
    )
