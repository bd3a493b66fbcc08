"""Issued documents: which ones, to whom and when; reading, verifying and revoking them.

A document is rendered once and stored with its bytes, SHA-256 and the data snapshot it was
made from; every download serves the stored bytes. Revocation marks it, never rewrites it.
Numbers are sequential per site, kind and year without gaps (``ATT-2026-MER-000042``).
Numbering, rendering and storing happen in two short transactions with the render in between
(``issuing.py``): a document whose render failed stays numbered and *pending* (neither
downloadable nor verifiable) until issuing it again completes it with the same number.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, update
from sqlalchemy.orm import contains_eager, load_only, selectinload

from portal.clock import PARIS, now
from portal.extensions import db
from portal.formatting import DOCUMENT_LANG, day
from portal.models.bookings import Accompaniment, Booking
from portal.models.catalogue import Course, WorkshopSession
from portal.models.documents import Document
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.vocab import BookingStatus, DocumentKind, SessionStatus
from portal.models.vouchers import Cheque
from portal.pdf.merge import merge_pdfs
from portal.services import accounts, snapshots
from portal.services.audit import Actor, record
from portal.services.codes import normalise_code
from portal.services.errors import NotAllowed, ValidationFailed
from portal.services.issuing import (
    VERIFICATION_CODE_LENGTH,
    RenderFailed,
    Reservation,
    allocate_number,
    complete,
    in_preparation,
    reserve,
    reserve_many,
)
from portal.services.locking import lock_row

__all__ = ["RenderFailed", "allocate_number"]

#: what a beneficiary sees in "My documents".
PERSONAL_KINDS = (DocumentKind.CERTIFICATE, DocumentKind.COURSE_CERTIFICATE,
                  DocumentKind.RECEIPT, DocumentKind.LOGIN_CARD)


# --- reading ----------------------------------------------------------------------------------


def documents_of(person: Beneficiary) -> list[Document]:
    """The person's certificates, receipts and cards, newest first (complete ones only)."""
    return list(db.session.scalars(
        db.select(Document)
        .where(Document.beneficiary_id == person.id, Document.kind.in_(PERSONAL_KINDS),
               Document.sha256.is_not(None))
        .order_by(Document.issued_at.desc(), Document.id.desc())
    ))


def certificates_by_session(person: Beneficiary,
                            sessions: Collection[int] | None = None) -> dict[int, Document]:
    """The valid certificate earned at each session, for the list of past workshops
    (``sessions``: only those, the page shown; the links need only the ids)."""
    query = (
        db.select(Document).options(load_only(Document.id, Document.session_id))
        .where(Document.beneficiary_id == person.id,
               Document.kind == DocumentKind.CERTIFICATE,
               Document.session_id.is_not(None),
               Document.revoked_at.is_(None), Document.sha256.is_not(None))
    )
    if sessions is not None:
        query = query.where(Document.session_id.in_(sessions))
    rows = db.session.scalars(query)
    return {doc.session_id: doc for doc in rows if doc.session_id is not None}


def find_by_code(raw: str) -> Document | None:
    """The document a verification code designates, whatever the way it was typed. A pending
    document was never printed: no code designates it yet."""
    code = normalise_code(raw)
    if len(code) != VERIFICATION_CODE_LENGTH:
        return None
    return db.session.scalar(db.select(Document).filter_by(verification_code=code)
                             .where(Document.sha256.is_not(None)))


def documents_of_sites(site_ids: list[int] | None, *, limit: int = 100) -> list[Document]:
    """The latest documents of some sites (all sites when None), for staff."""
    query = db.select(Document).order_by(Document.issued_at.desc(), Document.id.desc())
    if site_ids is not None:
        query = query.where(Document.site_id.in_(site_ids or [-1]))
    return list(db.session.scalars(query.limit(limit)))


def verification_view(document: Document) -> dict[str, Any]:
    """The least personal data that proves a document (docs/conventions.md#verification-page)."""
    snapshot = document.snapshot or {}
    status = "revoked" if document.revoked_at else "pending" if document.is_pending else "valid"
    return {
        "status": status,
        "number": document.number,
        "kind": document.kind,
        "title": snapshot.get("title", document.title),
        "person": snapshot.get("person_public_name", ""),
        "dates": snapshot.get("dates_phrase", ""),
        "duration": snapshot.get("duration", ""),
        "site": (snapshot.get("site") or {}).get("name", ""),
        "issued_at": document.issued_at,
        "revoked_at": document.revoked_at,
    }


def revoke(document: Document, reason: str, *, actor: Actor) -> None:
    """Mark a document revoked, with a reason. Its bytes stay as they were."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed("reason_required",
                               _("Indiquez la raison de l'annulation (500 caractères au plus)."),
                               field="reason")
    if document.revoked_at is not None:
        raise NotAllowed("already_revoked", _("Ce document est déjà annulé."))
    document.revoked_at = now()
    document.revoked_by_id = actor.staff_id
    document.revoked_reason = reason
    record(actor, "document.revoked", object_type="document", object_id=document.id,
           site_id=document.site_id, number=document.number)
    db.session.commit()


def _complete_one(document: Document, *, actor: Actor, reserved: bool = False,
                  shown: dict[str, Any] | None = None) -> Document:
    """Complete one document (just reserved, or pending from an earlier attempt)."""
    document_id = document.id
    done = complete([document], actor=actor, reserved=[document_id] if reserved else (),
                    shown={document_id: shown} if shown else None)
    if not done:
        raise in_preparation(db.session.get(Document, document_id))
    return done[0]


def _current(kind: DocumentKind, **where: Any) -> Document | None:
    """The valid document of a kind for a person and a session or course (pending or not)."""
    return db.session.scalar(db.select(Document).filter_by(kind=kind, revoked_at=None, **where)
                             .order_by(Document.id.desc()).limit(1))


# --- attestations -----------------------------------------------------------------------------


def issue_certificate(booking: Booking, *, actor: Actor, verify_url: str) -> Document:
    """The attendance certificate of a booking where the person was present. Issuing twice
    returns the certificate already issued (completing it if its render had failed)."""
    if booking.status is not BookingStatus.PRESENT:
        raise NotAllowed("not_present", _("Une attestation n'est remise qu'aux présents."))
    if not booking.session.workshop.grants_attestation:
        raise NotAllowed("no_attestation", _("Cet atelier ne donne pas d'attestation."))
    # One certificate a person and session, however many devices ask at once.
    lock_row(WorkshopSession, booking.session_id, "closed_at")
    existing = _current(DocumentKind.CERTIFICATE, beneficiary_id=booking.beneficiary_id,
                        session_id=booking.session_id)
    if existing is not None:
        return _complete_one(existing, actor=actor)
    snapshot = snapshots.certificate(booking, issued_at=now())
    document = reserve(DocumentKind.CERTIFICATE, booking.session.site, snapshot,
                       title=f"{snapshot['doc_title']} – {snapshot['title']}", actor=actor,
                       beneficiary_id=booking.beneficiary_id, session_id=booking.session_id,
                       verifiable=True, verify_url=verify_url)
    return _complete_one(document, actor=actor, reserved=True)


def issue_session_certificates(session: WorkshopSession, *, actor: Actor, verify_url: str,
                               merge: bool = True) -> tuple[list[Document], bytes | None]:
    """Certificates for everyone present at a session, laid out in one pass.

    Returns the session's certificates (new, earlier and pending ones) and one PDF of those
    this call completed, the stored bytes put end to end for printing (None when none, or
    when ``merge`` is false: closing a session offers the print later, on demand).
    """
    if not session.workshop.grants_attestation:
        raise NotAllowed("no_attestation", _("Cet atelier ne donne pas d'attestation."))
    # Two devices closing the same session: the second waits, then finds the first's.
    lock_row(WorkshopSession, session.id, "closed_at")
    present = list(db.session.scalars(
        db.select(Booking).where(Booking.session_id == session.id,
                                 Booking.status == BookingStatus.PRESENT)
        .options(selectinload(Booking.beneficiary)).order_by(Booking.id)))
    current = {doc.beneficiary_id: doc for doc in db.session.scalars(
        db.select(Document).filter_by(kind=DocumentKind.CERTIFICATE, session_id=session.id,
                                      revoked_at=None).order_by(Document.id))}
    issued_at = now()
    wanted = []
    for booking in present:
        if booking.beneficiary_id in current:
            continue
        snapshot = snapshots.certificate(booking, issued_at=issued_at)
        wanted.append(Reservation(snapshot, f"{snapshot['doc_title']} – {snapshot['title']}",
                                  beneficiary_id=booking.beneficiary_id, session_id=session.id))
    new = reserve_many(DocumentKind.CERTIFICATE, session.site, wanted, actor=actor,
                       verifiable=True, verify_url=verify_url)
    current.update({document.beneficiary_id: document for document in new})
    reserved = [document.id for document in new]
    pending = [doc for doc in current.values() if doc.is_pending]
    pending_ids = {doc.id for doc in pending}
    title = certificates_title(session)
    certificates = [doc.id for doc in current.values()]
    completed = complete(pending, actor=actor, reserved=reserved, batch=True)
    printed = [doc for doc in completed if doc.id in pending_ids]
    merged = merge_pdfs([doc.pdf for doc in with_bytes(printed)], title=title) \
        if printed and merge else None
    return [db.session.get(Document, doc_id) for doc_id in certificates], merged


def with_bytes(documents: list[Document]) -> list[Document]:
    """The documents, their bytes loaded by one query (not one per document)."""
    if documents:
        list(db.session.scalars(db.select(Document)
                                .where(Document.id.in_([doc.id for doc in documents]))
                                .options(selectinload(Document.file))))
    return documents


def certificates_title(session: WorkshopSession, lang: str = DOCUMENT_LANG) -> str:
    """The title of a session's attestations printed together."""
    return (f"Attestations de l’atelier «\u202f{session.workshop.title}\u202f» du "
            f"{day(session.starts_at, lang)}")


def course_completed(course: Course, person: Beneficiary) -> tuple[bool, int, int]:
    """(completed by the course's rule, sessions attended, sessions given)."""
    given = [s for s in course.sessions if s.status is not SessionStatus.CANCELLED]
    attended = db.session.scalar(
        db.select(func.count()).select_from(Booking).where(
            Booking.beneficiary_id == person.id, Booking.status == BookingStatus.PRESENT,
            Booking.session_id.in_([s.id for s in given] or [-1]))) or 0
    needed = course.sessions_needed(len(given))
    return bool(given) and attended >= needed, int(attended), len(given)


def issue_course_certificate(course: Course, person: Beneficiary, *, actor: Actor,
                             verify_url: str) -> Document:
    """The end-of-course certificate, once the course is completed by its rule."""
    if not course.grants_attestation:
        raise NotAllowed("no_attestation", _("Ce parcours ne donne pas d'attestation."))
    lock_row(Course, course.id, "created_at")  # one certificate, however many devices ask
    completed, attended, given = course_completed(course, person)
    if not completed:
        db.session.rollback()
        raise NotAllowed("course_not_completed",
                         ngettext("Le parcours n'est pas terminé : %(num)d séance suivie sur "
                                  "%(given)d.",
                                  "Le parcours n'est pas terminé : %(num)d séances suivies sur "
                                  "%(given)d.", attended, given=given))
    existing = _current(DocumentKind.COURSE_CERTIFICATE, beneficiary_id=person.id,
                        course_id=course.id)
    if existing is not None:
        return _complete_one(existing, actor=actor)
    sessions = sorted((s for s in course.sessions if s.status is not SessionStatus.CANCELLED),
                      key=lambda s: s.starts_at)
    snapshot = snapshots.course_certificate(course, person, sessions, attended,
                                            issued_at=now())
    document = reserve(DocumentKind.COURSE_CERTIFICATE, course.site, snapshot,
                       title=f"Attestation de fin de parcours – {course.title}", actor=actor,
                       beneficiary_id=person.id, course_id=course.id, verifiable=True,
                       verify_url=verify_url)
    return _complete_one(document, actor=actor, reserved=True)


# --- attendance sheets, login cards, deposit slips -------------------------------------------


def issue_attendance_sheet(session: WorkshopSession, *, actor: Actor,
                           retry_pending: bool = True) -> Document:
    """The sheet of a session: before it (to sign) or after check-in (statuses filled).
    A sheet whose render failed is completed first, with the statuses it was numbered with
    (unless ``retry_pending`` is False: closing a session wants a sheet of the final
    statuses)."""
    pending = pending_attendance_sheet(session) if retry_pending else None
    if pending is not None:
        return _complete_one(pending, actor=actor)
    rows = list(db.session.scalars(
        db.select(Booking).join(Booking.beneficiary)
        .where(Booking.session_id == session.id,
               Booking.status.in_(snapshots.ATTENDANCE_LABELS))
        .options(contains_eager(Booking.beneficiary))
        .order_by(Beneficiary.last_name, Beneficiary.first_name, Booking.id)))
    snapshot = snapshots.attendance_sheet(session, rows, issued_at=now())
    document = reserve(DocumentKind.ATTENDANCE_SHEET, session.site, snapshot,
                       title=f"Feuille d'émargement – {session.workshop.title}", actor=actor,
                       session_id=session.id)
    return _complete_one(document, actor=actor, reserved=True)


def pending_attendance_sheet(session: WorkshopSession) -> Document | None:
    return db.session.scalar(
        db.select(Document).filter_by(kind=DocumentKind.ATTENDANCE_SHEET, session_id=session.id,
                                      revoked_at=None)
        .where(Document.sha256.is_(None)).order_by(Document.id).limit(1))


def issue_login_card(person: Beneficiary, site: Site, *, actor: Actor, portal_address: str,
                     code_validity: timedelta) -> Document:
    """A new first-login code printed on a card with the identifier and its QR code.

    The code is shown only on this card (it is stored hashed, never in the snapshot);
    printing a new card replaces the previous code. A card whose render failed is completed
    with a new code, under its number.
    """
    pending = db.session.scalar(
        db.select(Document).filter_by(kind=DocumentKind.LOGIN_CARD, beneficiary_id=person.id,
                                      revoked_at=None)
        .where(Document.sha256.is_(None)).order_by(Document.id).limit(1))
    code = accounts.issue_first_login_code(person, validity=code_validity, actor=actor)
    card = snapshots.Card(person, code, person.first_login_code_expires_at)
    if pending is not None:
        shown = snapshots.numbered(
            snapshots.login_cards(pending.site, [card], portal_address=portal_address),
            pending.number)
        return _complete_one(pending, actor=actor, shown=shown)
    snapshot = snapshots.login_cards(site, [card], portal_address=portal_address)
    document = reserve(DocumentKind.LOGIN_CARD, site, snapshot,
                       title=f"Carte d'accès – {person.display_name}", actor=actor,
                       beneficiary_id=person.id, stored=snapshots.without_codes)
    return _complete_one(document, actor=actor, reserved=True,
                         shown=snapshots.numbered(snapshot, document.number))


def issue_deposit_slip(site: Site, year: int, month: int, *, actor: Actor) -> Document:
    """The monthly list of every cheque the site took, by programme, for the operator."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValidationFailed("month_invalid", _("Choisissez un mois valide."), field="month")
    period = f"{year:04d}-{month:02d}"
    for pending in db.session.scalars(
            db.select(Document).filter_by(kind=DocumentKind.DEPOSIT_SLIP, site_id=site.id,
                                          revoked_at=None)
            .where(Document.sha256.is_(None)).order_by(Document.id)):
        if (pending.snapshot or {}).get("period") == period:
            return _complete_one(pending, actor=actor)
    start = datetime(year, month, 1, tzinfo=PARIS)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=PARIS)
    cheques = list(db.session.scalars(
        db.select(Cheque).where(Cheque.site_id == site.id, Cheque.redeemed_at >= start,
                                Cheque.redeemed_at < end)
        .order_by(Cheque.programme_id, Cheque.number)))
    if not cheques:
        raise NotAllowed("no_cheques", _("Aucun chèque n'a été reçu ce mois-là."))
    bookings = {b.id: b for b in db.session.scalars(
        db.select(Booking).where(Booking.id.in_({c.booking_id for c in cheques if c.booking_id})))}
    accompaniments = {a.id: a for a in db.session.scalars(
        db.select(Accompaniment).where(Accompaniment.id.in_(
            {c.accompaniment_id for c in cheques if c.accompaniment_id})))}
    snapshot = snapshots.deposit_slip(site, year, month, cheques, bookings=bookings,
                                      accompaniments=accompaniments, issued_at=now())
    document = reserve(DocumentKind.DEPOSIT_SLIP, site, snapshot,
                       title=f"Bordereau de remise – {snapshot['month']}", actor=actor)
    return _complete_one(document, actor=actor, reserved=True)


# --- receipts ---------------------------------------------------------------------------------


def issue_receipt(cheques: list[Cheque], *, actor: Actor) -> Document:
    """The numbered receipt for cheques taken together for one service.

    The cheques must already be redeemed (by the check-in's cheque service), all for the same
    booking or accompaniment, and not be on a receipt yet. They are put on the receipt in the
    transaction that numbers it.
    """
    if not cheques or any(c.redeemed_at is None for c in cheques):
        raise NotAllowed("cheques_not_redeemed", _("Ces chèques n'ont pas été encaissés."))
    if any(c.receipt_id is not None for c in cheques):
        raise NotAllowed("receipt_exists", _("Un reçu existe déjà pour ces chèques."))
    services = {(c.booking_id, c.accompaniment_id) for c in cheques}
    if len(services) != 1:
        raise NotAllowed("cheques_mixed", _("Un reçu ne porte que sur un seul service."))
    first = cheques[0]
    site = db.session.get(Site, first.site_id)
    booking = db.session.get(Booking, first.booking_id) if first.booking_id else None
    if site is None:
        raise NotAllowed("cheques_not_redeemed", _("Ces chèques n'ont pas été encaissés."))
    accompaniment = None
    if booking is not None:
        person = booking.beneficiary
    else:
        accompaniment = db.session.get(Accompaniment, first.accompaniment_id)
        person = accompaniment.beneficiary if accompaniment else None
    staff = db.session.get(StaffMember, first.redeemed_by_id) if first.redeemed_by_id else None
    snapshot = snapshots.receipt(cheques, site=site, person=person, staff=staff,
                                 booking=booking, accompaniment=accompaniment)
    document = reserve(DocumentKind.RECEIPT, site, snapshot,
                       title=f"Reçu de chèques APTIC – {snapshot['service']['title']}"[:200],
                       actor=actor, beneficiary_id=person.id if person else None,
                       session_id=booking.session_id if booking else None)
    claimed = db.session.execute(
        update(Cheque).where(Cheque.id.in_([c.id for c in cheques]), Cheque.receipt_id.is_(None))
        .values(receipt_id=document.id), execution_options={"synchronize_session": False},
    ).rowcount
    if claimed != len(cheques):  # issued a moment ago on another device: give the number back
        db.session.rollback()
        raise NotAllowed("receipt_exists", _("Un reçu existe déjà pour ces chèques."))
    return _complete_one(document, actor=actor, reserved=True)


def complete_document(document: Document, *, actor: Actor) -> Document:
    """A document numbered earlier whose render failed, completed under its number and with
    its snapshot (``RenderFailed`` again if it fails, or while another device renders it)."""
    return _complete_one(document, actor=actor)


def complete_pending(*, actor: Actor) -> tuple[int, int]:
    """Retry every pending document no device is rendering (from cron, or after an outage);
    returns (completed, still pending)."""
    completed = failed = 0
    for document_id in db.session.scalars(
            db.select(Document.id).where(Document.sha256.is_(None),
                                         Document.revoked_at.is_(None))
            .order_by(Document.id)).all():
        document = db.session.get(Document, document_id)
        try:
            completed += len(complete([document], actor=actor)) if document else 0
        except RenderFailed:
            failed += 1
    return completed, failed
