"""Closing a session after check-in (and reopening it, an administrator's correction).

Closing settles attendance in one transaction: whoever is still "booked" becomes absent and
gives the seat back, the waiting list is cleared. The documents follow, each issued once:
attestations for those present where the workshop grants them, end-of-course attestations
for those the session completes, and the final attendance sheet. Closing again changes
nothing and issues whatever a failed first attempt left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import false, func, or_, update
from sqlalchemy.orm import contains_eager

from portal.clock import now
from portal.extensions import db
from portal.models.bookings import Booking
from portal.models.catalogue import Course, WorkshopSession
from portal.models.documents import Document
from portal.models.people import Beneficiary
from portal.models.vocab import BookingStatus, DocumentKind, SessionStatus
from portal.pdf.merge import merge_pdfs
from portal.services import documents, vouchers
from portal.services.audit import Actor, record
from portal.services.errors import NotAllowed, ValidationFailed
from portal.services.issuing import IN_PREPARATION, RenderFailed
from portal.services.locking import lock_row
from portal.services.staff_access import Action, require_actor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Owing:
    """Someone present who has not given every cheque the workshop asks for."""

    booking: Booking
    owed: int

    @property
    def person(self) -> Beneficiary:
        return self.booking.beneficiary


@dataclass
class ClosePreview:
    """What closing will do, shown before the staff member confirms."""

    already_closed: bool
    still_booked: list[Booking]
    present: list[Booking]
    waiting: int
    grants_attestation: bool
    certificates_to_issue: int
    course: Course | None
    completing: list[Beneficiary]
    #: the people present who still owe cheques, by name (those still booked owe nothing:
    #: closing marks them absent).
    owing: list[Owing] = field(default_factory=list)


@dataclass
class Closing:
    session: WorkshopSession
    newly_closed: bool
    marked_absent: int = 0
    waitlist_cleared: int = 0
    certificates: list[Document] = field(default_factory=list)
    new_certificates: int = 0
    course_certificates: list[Document] = field(default_factory=list)
    attendance_sheet: Document | None = None
    documents_failed: bool = False


def _bookings(session: WorkshopSession, *statuses: BookingStatus) -> list[Booking]:
    return list(db.session.scalars(
        db.select(Booking).join(Booking.beneficiary)
        .where(Booking.session_id == session.id, Booking.status.in_(statuses))
        .options(contains_eager(Booking.beneficiary))
        .order_by(Beneficiary.last_name, Beneficiary.first_name, Booking.id)))


def _current_certificates(session: WorkshopSession) -> dict[int, Document]:
    return {doc.beneficiary_id: doc for doc in db.session.scalars(
        db.select(Document).filter_by(kind=DocumentKind.CERTIFICATE, session_id=session.id,
                                      revoked_at=None).order_by(Document.id))
        if doc.beneficiary_id is not None}


def _course_certificate(course: Course, person_id: int) -> Document | None:
    return db.session.scalar(db.select(Document).filter_by(
        kind=DocumentKind.COURSE_CERTIFICATE, course_id=course.id, beneficiary_id=person_id,
        revoked_at=None))


def _completing(session: WorkshopSession, present: list[Booking]) -> list[Beneficiary]:
    """Those present whom the course rule counts as done and whose attestation is not
    printed yet (none, or numbered but not rendered)."""
    course = session.course
    if course is None or not course.grants_attestation:
        return []
    completing = []
    for booking in present:
        if not documents.course_completed(course, booking.beneficiary)[0]:
            continue
        certificate = _course_certificate(course, booking.beneficiary_id)
        if certificate is None or certificate.is_pending:
            completing.append(booking.beneficiary)
    return completing


def preview(session: WorkshopSession) -> ClosePreview:
    present = _bookings(session, BookingStatus.PRESENT)
    paid = vouchers.payments(present)
    grants = session.workshop.grants_attestation
    issued = _current_certificates(session) if grants else {}
    return ClosePreview(
        already_closed=session.status is SessionStatus.CLOSED,
        still_booked=_bookings(session, BookingStatus.BOOKED),
        present=present,
        waiting=len(_bookings(session, BookingStatus.WAITLISTED)),
        grants_attestation=grants,
        certificates_to_issue=sum(1 for b in present if b.beneficiary_id not in issued)
        if grants else 0,
        course=session.course,
        completing=_completing(session, present),
        owing=[Owing(b, paid[b.id].owed) for b in present if paid[b.id].owed],
    )


def close_session(session: WorkshopSession, *, actor: Actor, verify_url: str) -> Closing:
    """Close (once) and issue the session's documents (each once). Safe to call again."""
    require_actor(actor, Action.CLOSE_SESSION, session.site_id)
    if session.status is SessionStatus.CANCELLED:
        raise NotAllowed("session_cancelled", _("Cette séance est annulée."))
    at = now()
    closing = Closing(session, newly_closed=False)
    if session.status is SessionStatus.SCHEDULED:
        if session.starts_at > at:
            raise NotAllowed("session_not_started",
                             _("La séance n'a pas commencé : elle se clôture à la fin."))
        closing = _settle(session, actor, at)
    db.session.refresh(session)
    try:
        _issue_documents(session, closing, actor, verify_url)
    except Exception:  # the attendance is settled; the documents are issued by closing again
        db.session.rollback()
        log.exception("documents of session %s not all issued", session.id)
        closing.documents_failed = True
    return closing


def _settle(session: WorkshopSession, actor: Actor, at: object) -> Closing:
    staff_id = actor.staff_id
    won = db.session.execute(
        update(WorkshopSession)
        .where(WorkshopSession.id == session.id,
               WorkshopSession.status == SessionStatus.SCHEDULED)
        .values(status=SessionStatus.CLOSED, closed_at=at, closed_by_id=staff_id),
        execution_options={"synchronize_session": False}).rowcount
    if won != 1:  # closed a moment ago on another device
        db.session.rollback()
        return Closing(session, newly_closed=False)
    absent = db.session.execute(
        update(Booking)
        .where(Booking.session_id == session.id, Booking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.ABSENT, status_changed_at=at,
                status_changed_by_id=staff_id),
        execution_options={"synchronize_session": False}).rowcount
    if absent:
        db.session.execute(
            update(WorkshopSession).where(WorkshopSession.id == session.id)
            .values(seats_taken=WorkshopSession.seats_taken - absent),
            execution_options={"synchronize_session": False})
    cleared = db.session.execute(
        update(Booking)
        .where(Booking.session_id == session.id, Booking.status == BookingStatus.WAITLISTED)
        .values(status=BookingStatus.CANCELLED, waitlist_position=None, cancelled_at=at,
                status_changed_at=at, status_changed_by_id=staff_id),
        execution_options={"synchronize_session": False}).rowcount
    record(actor, "session.closed", object_type="session", object_id=session.id,
           site_id=session.site_id, marked_absent=absent, waitlist_cleared=cleared)
    db.session.commit()
    return Closing(session, newly_closed=True, marked_absent=absent, waitlist_cleared=cleared)


#: the reason given when a correction leaves an attestation without its presence.
NO_LONGER_PRESENT = "Présence corrigée après réouverture de la séance"


def _issue_documents(session: WorkshopSession, closing: Closing, actor: Actor,
                     verify_url: str) -> None:
    """Each document once; one that fails to render stays numbered and pending, the others
    are still issued, and closing again completes it."""
    session_id = session.id
    present = _bookings(session, BookingStatus.PRESENT)
    present_ids = {b.beneficiary_id for b in present}
    for person_id, certificate in _current_certificates(session).items():
        if person_id not in present_ids:  # marked absent after a reopening
            documents.revoke(certificate, NO_LONGER_PRESENT, actor=actor)
    if session.workshop.grants_attestation and present:
        before = sum(1 for doc in _current_certificates(session).values()
                     if not doc.is_pending)
        try:
            # The print is put together when asked for (``merged_certificates``).
            closing.certificates, _merged = documents.issue_session_certificates(
                session, actor=actor, verify_url=verify_url, merge=False)
        except RenderFailed as error:
            _failed(closing, error)
        else:
            closing.new_certificates = sum(
                1 for doc in closing.certificates if not doc.is_pending) - before
    session = db.session.get(WorkshopSession, session_id)
    course = session.course
    if course is not None and course.grants_attestation:
        for person in _completing(session, _bookings(session, BookingStatus.PRESENT)):
            try:
                closing.course_certificates.append(documents.issue_course_certificate(
                    course, person, actor=actor, verify_url=verify_url))
            except RenderFailed as error:
                _failed(closing, error)
    session = db.session.get(WorkshopSession, session_id)
    lock_row(WorkshopSession, session.id, "closed_at")  # one final sheet, however many devices
    sheet = _final_sheet(session)
    try:
        if sheet is None:
            closing.attendance_sheet = documents.issue_attendance_sheet(
                session, actor=actor, retry_pending=False)
        elif sheet.is_pending:
            closing.attendance_sheet = documents.complete_document(sheet, actor=actor)
        else:
            db.session.rollback()
            closing.attendance_sheet = sheet
    except RenderFailed as error:
        _failed(closing, error)


def _failed(closing: Closing, error: RenderFailed) -> None:
    """A document left pending by this closing; one another device is rendering is not."""
    if error.code != IN_PREPARATION:
        closing.documents_failed = True


def _final_sheet(session: WorkshopSession) -> Document | None:
    """The sheet issued since the session was (last) closed, pending or not."""
    if session.closed_at is None:
        return None
    return db.session.scalar(
        db.select(Document).filter_by(kind=DocumentKind.ATTENDANCE_SHEET, session_id=session.id,
                                      revoked_at=None)
        .where(Document.issued_at >= session.closed_at).order_by(Document.id.desc()).limit(1))


def final_attendance_sheet(session: WorkshopSession) -> Document | None:
    """The printable sheet issued since the session was (last) closed."""
    sheet = _final_sheet(session)
    return sheet if sheet is not None and not sheet.is_pending else None


def certificates_for_printing(session: WorkshopSession) -> list[Document]:
    """The session's printable attestations and the end-of-course ones its closing issued."""
    docs = list(_current_certificates(session).values())
    if session.course_id is not None and session.closed_at is not None:
        docs += db.session.scalars(
            db.select(Document).filter_by(kind=DocumentKind.COURSE_CERTIFICATE,
                                          course_id=session.course_id, revoked_at=None)
            .where(Document.issued_at >= session.closed_at).order_by(Document.id))
    return [doc for doc in docs if not doc.is_pending]


def documents_pending(session: WorkshopSession) -> bool:
    """Whether a document of the session (or of its closing) is numbered but not printable
    yet: closing again completes it."""
    return db.session.scalar(
        db.select(func.count()).select_from(Document)
        .where(Document.revoked_at.is_(None), Document.sha256.is_(None),
               or_(Document.session_id == session.id,
                   (Document.course_id == session.course_id)
                   if session.course_id is not None else false()))) > 0


def merged_certificates(session: WorkshopSession) -> bytes | None:
    """One PDF of :func:`certificates_for_printing`, the stored bytes page after page."""
    docs = certificates_for_printing(session)
    if not docs:
        return None
    return merge_pdfs([doc.pdf for doc in documents.with_bytes(docs)],
                      title=documents.certificates_title(session))


def reopen_session(session: WorkshopSession, reason: str, *, actor: Actor) -> None:
    """An administrator reopens a closed session to correct attendance; the reason is kept."""
    require_actor(actor, Action.REOPEN_SESSION, session.site_id)
    reason = " ".join((reason or "").split())
    if len(reason) < 5 or len(reason) > 300:
        raise ValidationFailed("reason_required",
                               _("Indiquez pourquoi la séance est rouverte (5 à 300 "
                                 "caractères)."), field="reason")
    if session.status is not SessionStatus.CLOSED:
        raise NotAllowed("session_not_closed", _("Cette séance n'est pas clôturée."))
    at = now()
    won = db.session.execute(
        update(WorkshopSession)
        .where(WorkshopSession.id == session.id, WorkshopSession.status == SessionStatus.CLOSED)
        .values(status=SessionStatus.SCHEDULED, closed_at=None, closed_by_id=None,
                reopened_at=at, reopened_by_id=actor.staff_id, reopen_reason=reason),
        execution_options={"synchronize_session": False}).rowcount
    if won != 1:
        db.session.rollback()
        raise NotAllowed("session_not_closed", _("Cette séance n'est pas clôturée."))
    record(actor, "session.reopened", object_type="session", object_id=session.id,
           site_id=session.site_id, reason=reason)
    db.session.commit()
    db.session.refresh(session)
