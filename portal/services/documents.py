"""Issued documents: numbering, issuing (render once, store), revoking, verifying.

A document is rendered once and stored with its bytes, SHA-256 and the data snapshot it was
made from; every download serves the stored bytes. Revocation marks it, never rewrites it.
Numbers are sequential per site, kind and year without gaps (``ATT-2026-MER-000042``): the
counter row is advanced by a conditional ``UPDATE`` in the same transaction as the document,
so a failed issue gives its number back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError

from portal.clock import PARIS, now
from portal.extensions import db
from portal.formatting import day, duration, euros, hour
from portal.models.bookings import Accompaniment, Booking
from portal.models.catalogue import Course, WorkshopSession
from portal.models.documents import Document, DocumentCounter
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.vocab import (
    DOCUMENT_PREFIX,
    BookingStatus,
    DocumentKind,
    SessionStatus,
)
from portal.models.vouchers import Cheque
from portal.pdf.documents import batch_pdf, image_data_uri, pdf_for
from portal.services import accounts
from portal.services.audit import Actor, record
from portal.services.codes import group, normalise_code, random_code
from portal.services.errors import NotAllowed, ValidationFailed
from portal.services.locking import lock_row

#: what a beneficiary sees in "My documents".
PERSONAL_KINDS = (DocumentKind.CERTIFICATE, DocumentKind.COURSE_CERTIFICATE,
                  DocumentKind.RECEIPT, DocumentKind.LOGIN_CARD)
#: 12 symbols of a 30-symbol alphabet: about 59 bits, typed in groups of four.
VERIFICATION_CODE_LENGTH = 12


# --- reading ----------------------------------------------------------------------------------


def documents_of(person: Beneficiary) -> list[Document]:
    """The person's certificates, receipts and cards, newest first."""
    return list(db.session.scalars(
        db.select(Document)
        .where(Document.beneficiary_id == person.id, Document.kind.in_(PERSONAL_KINDS))
        .order_by(Document.issued_at.desc(), Document.id.desc())
    ))


def certificates_by_session(person: Beneficiary) -> dict[int, Document]:
    """The valid certificate earned at each session, for the list of past workshops."""
    rows = db.session.scalars(
        db.select(Document).where(Document.beneficiary_id == person.id,
                                  Document.kind == DocumentKind.CERTIFICATE,
                                  Document.session_id.is_not(None),
                                  Document.revoked_at.is_(None))
    )
    return {doc.session_id: doc for doc in rows if doc.session_id is not None}


def find_by_code(raw: str) -> Document | None:
    """The document a verification code designates, whatever the way it was typed."""
    code = normalise_code(raw)
    if len(code) != VERIFICATION_CODE_LENGTH:
        return None
    return db.session.scalar(db.select(Document).filter_by(verification_code=code))


# --- numbering --------------------------------------------------------------------------------


def allocate_number(site: Site, kind: DocumentKind, year: int) -> tuple[int, str]:
    """The next number of the series, inside the caller's transaction (no commit)."""
    for _attempt in range(3):
        result = db.session.execute(
            update(DocumentCounter)
            .where(DocumentCounter.site_id == site.id, DocumentCounter.kind == kind,
                   DocumentCounter.year == year)
            .values(last_value=DocumentCounter.last_value + 1)
            .returning(DocumentCounter.last_value),
            execution_options={"synchronize_session": False},
        ).scalar()
        if result is not None:
            return int(result), f"{DOCUMENT_PREFIX[kind]}-{year}-{site.code}-{int(result):06d}"
        # First document of the series: create the counter, in its own savepoint so that a
        # concurrent creation only makes us try the UPDATE again.
        try:
            with db.session.begin_nested():
                db.session.add(DocumentCounter(site_id=site.id, kind=kind, year=year,
                                               last_value=0))
        except IntegrityError:
            pass
    raise RuntimeError("could not allocate a document number")


def _new_verification_code() -> str:
    while True:
        code = random_code(VERIFICATION_CODE_LENGTH)
        if db.session.scalar(db.select(Document.id).filter_by(verification_code=code)) is None:
            return code


# --- issuing ----------------------------------------------------------------------------------


def issue(kind: DocumentKind, site: Site, snapshot: dict[str, Any], *, title: str,
          actor: Actor, beneficiary: Beneficiary | None = None, session_id: int | None = None,
          course_id: int | None = None, verifiable: bool = False,
          verify_url: str | None = None) -> Document:
    """Number, render once, store. ``verify_url`` is a format string with ``{code}``."""
    year = now().astimezone(PARIS).year
    sequence, number = allocate_number(site, kind, year)
    snapshot = {**snapshot, "number": number}
    code = None
    if verifiable:
        code = _new_verification_code()
        snapshot["code_display"] = group(code)
        snapshot["verify_url"] = (verify_url or "/v/{code}").format(code=code)
    pdf = pdf_for(kind, snapshot, signature_data_uri=image_data_uri(site.signature_image))
    return _store(kind, site.id, year, sequence, code, snapshot, pdf, title=title, actor=actor,
                  beneficiary_id=beneficiary.id if beneficiary else None,
                  session_id=session_id, course_id=course_id)


def _store(kind: DocumentKind, site_id: int, year: int, sequence: int, code: str | None,
           snapshot: dict[str, Any], pdf: bytes, *, title: str, actor: Actor,
           beneficiary_id: int | None = None, session_id: int | None = None,
           course_id: int | None = None) -> Document:
    """Keep a rendered document with its hash and snapshot, and audit it (not committed)."""
    document = Document(kind=kind, site_id=site_id, year=year, sequence=sequence,
                        number=snapshot["number"], verification_code=code, title=title[:200],
                        beneficiary_id=beneficiary_id, session_id=session_id,
                        course_id=course_id, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(),
                        snapshot=snapshot, issued_at=now(), issued_by_id=actor.staff_id)
    db.session.add(document)
    db.session.flush()
    record(actor, "document.issued", object_type="document", object_id=document.id,
           site_id=site_id, number=document.number, kind=kind.value)
    return document


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


# --- attestations -----------------------------------------------------------------------------


def certificate_snapshot(booking: Booking) -> dict[str, Any]:
    """The data printed on an attendance certificate (DOMAIN.md §4 mentions)."""
    session = booking.session
    workshop = session.workshop
    site = session.site
    person = booking.beneficiary
    return {
        "lang": "fr",
        "site": _site_data(site),
        "doc_title": "Attestation de participation",
        "person_name": person.display_name,
        "person_first_name": person.first_name,
        "person_public_name": person.first_name_and_initial,
        "action_phrase": "a participé à l'atelier",
        "title": workshop.title,
        "nature": "atelier collectif de médiation numérique",
        "dates_phrase": f"Le {day(session.starts_at)}, de {hour(session.starts_at)} "
                        f"à {hour(session.ends_at)}",
        "first_date": session.starts_at.isoformat(),
        "last_date": session.ends_at.isoformat(),
        "duration": duration(workshop.duration_minutes),
        "place": ", ".join(p for p in (site.name, session.room) if p),
        "objectives": workshop.objective_list,
        "issued_on": format_date(now().astimezone(PARIS).date(), "d MMMM y"),
    }


def _site_data(site: Site) -> dict[str, Any]:
    return {key: getattr(site, key) for key in (
        "name", "address", "postcode", "city", "phone", "aptic_accreditation",
        "other_accreditation", "signatory_name", "signatory_role")}


def issue_certificate(booking: Booking, *, actor: Actor, verify_url: str) -> Document:
    """The attendance certificate of a booking where the person was present. Issuing twice
    returns the certificate already issued."""
    if booking.status is not BookingStatus.PRESENT:
        raise NotAllowed("not_present", _("Une attestation n'est remise qu'aux présents."))
    if not booking.session.workshop.grants_attestation:
        raise NotAllowed("no_attestation", _("Cet atelier ne donne pas d'attestation."))
    existing = db.session.scalar(
        db.select(Document).filter_by(kind=DocumentKind.CERTIFICATE,
                                      beneficiary_id=booking.beneficiary_id,
                                      session_id=booking.session_id, revoked_at=None))
    if existing is not None:
        return existing
    snapshot = certificate_snapshot(booking)
    document = issue(DocumentKind.CERTIFICATE, booking.session.site, snapshot,
                     title=f"{snapshot['doc_title']} – {snapshot['title']}", actor=actor,
                     beneficiary=booking.beneficiary, session_id=booking.session_id,
                     verifiable=True, verify_url=verify_url)
    db.session.commit()
    return document


def verification_view(document: Document) -> dict[str, Any]:
    """The least personal data that proves a document (DESIGN.md §6)."""
    snapshot = document.snapshot or {}
    return {
        "status": "revoked" if document.revoked_at else "valid",
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


def issue_session_certificates(session: WorkshopSession, *, actor: Actor,
                               verify_url: str) -> tuple[list[Document], bytes | None]:
    """Certificates for everyone present at a session, laid out in one pass.

    Returns the certificates (new and already issued) and a merged PDF of the new ones for
    printing (None when there is nothing new).
    """
    if not session.workshop.grants_attestation:
        raise NotAllowed("no_attestation", _("Cet atelier ne donne pas d'attestation."))
    # Two devices closing the same session: the second waits, then finds the first's.
    lock_row(WorkshopSession, session.id, "closed_at")
    present = list(db.session.scalars(
        db.select(Booking).where(Booking.session_id == session.id,
                                 Booking.status == BookingStatus.PRESENT)
        .order_by(Booking.id)))
    existing = {doc.beneficiary_id: doc for doc in db.session.scalars(
        db.select(Document).filter_by(kind=DocumentKind.CERTIFICATE, session_id=session.id,
                                      revoked_at=None))}
    todo = [b for b in present if b.beneficiary_id not in existing]
    if not todo:
        db.session.rollback()
        return list(existing.values()), None
    year = now().astimezone(PARIS).year
    snapshots = []
    numbers = []
    for booking in todo:
        sequence, number = allocate_number(session.site, DocumentKind.CERTIFICATE, year)
        code = _new_verification_code()
        snapshots.append({**certificate_snapshot(booking), "number": number,
                          "code_display": group(code),
                          "verify_url": verify_url.format(code=code)})
        numbers.append((sequence, number, code))
    merged, parts = batch_pdf(DocumentKind.CERTIFICATE, snapshots,
                              signature_data_uri=image_data_uri(session.site.signature_image))
    issued = [
        _store(DocumentKind.CERTIFICATE, session.site_id, year, sequence, code, snapshot, pdf,
               title=f"{snapshot['doc_title']} – {snapshot['title']}", actor=actor,
               beneficiary_id=booking.beneficiary_id, session_id=session.id)
        for booking, snapshot, (sequence, _number, code), pdf
        in zip(todo, snapshots, numbers, parts, strict=True)
    ]
    db.session.commit()
    return [*existing.values(), *issued], merged


def documents_of_sites(site_ids: list[int] | None, *, limit: int = 100) -> list[Document]:
    """The latest documents of some sites (all sites when None), for staff."""
    query = db.select(Document).order_by(Document.issued_at.desc(), Document.id.desc())
    if site_ids is not None:
        query = query.where(Document.site_id.in_(site_ids or [-1]))
    return list(db.session.scalars(query.limit(limit)))


# --- attendance sheets, login cards, deposit slips -------------------------------------------

_ATTENDANCE_LABELS = {BookingStatus.PRESENT: "Présent", BookingStatus.ABSENT: "Absent",
                      BookingStatus.EXCUSED: "Excusé", BookingStatus.BOOKED: ""}


def issue_attendance_sheet(session: WorkshopSession, *, actor: Actor) -> Document:
    """The sheet of a session: before it (to sign) or after check-in (statuses filled)."""
    rows = list(db.session.scalars(
        db.select(Booking).join(Booking.beneficiary)
        .where(Booking.session_id == session.id, Booking.status.in_(_ATTENDANCE_LABELS))
        .order_by(Beneficiary.last_name, Beneficiary.first_name)))
    count = {status: sum(1 for b in rows if b.status is status) for status in _ATTENDANCE_LABELS}
    snapshot = {
        "lang": "fr",
        "site": _site_data(session.site),
        "doc_title": "Feuille d'émargement",
        "issued_on": format_date(now().astimezone(PARIS).date(), "d MMMM y"),
        "workshop_title": session.workshop.title,
        "date": day(session.starts_at).capitalize(),
        "times": f"{hour(session.starts_at)} – {hour(session.ends_at)}",
        "room": session.room,
        "animator": session.animator.full_name if session.animator else "",
        "rows": [{"name": b.beneficiary.display_name, "status": _ATTENDANCE_LABELS[b.status],
                  "status_key": b.status.value,
                  "note": "Sans inscription" if b.source.value == "walk_in" else ""}
                 for b in rows],
        "totals": {"booked": str(len(rows)),
                   "present": str(count[BookingStatus.PRESENT]),
                   "absent": str(count[BookingStatus.ABSENT]),
                   "excused": str(count[BookingStatus.EXCUSED])},
    }
    document = issue(DocumentKind.ATTENDANCE_SHEET, session.site, snapshot,
                     title=f"Feuille d'émargement – {session.workshop.title}", actor=actor,
                     session_id=session.id)
    db.session.commit()
    return document


def issue_login_card(person: Beneficiary, site: Site, *, actor: Actor, portal_address: str,
                     code_validity: timedelta) -> Document:
    """A new first-login code printed on a card with the identifier and its QR code.

    The code is shown only on this card (it is stored hashed); printing a new card replaces
    the previous code.
    """
    code = accounts.issue_first_login_code(person, validity=code_validity, actor=actor)
    expires = person.first_login_code_expires_at or now()
    card = {"name": person.display_name, "identifier": person.login_id_display,
            "qr_text": person.login_id, "code": group(code),
            "code_expires": format_date(expires.astimezone(PARIS).date(), "d MMMM y")}
    snapshot = {"lang": "fr", "site": _site_data(site), "doc_title": "Carte d'accès au portail",
                "portal_address": portal_address, "cards": [card]}
    document = issue(DocumentKind.LOGIN_CARD, site, snapshot,
                     title=f"Carte d'accès – {person.display_name}", actor=actor,
                     beneficiary=person)
    # The code itself must not stay readable in the stored data; the PDF carries it.
    document.snapshot = {**snapshot, "cards": [{**card, "code": "••••-••••"}]}
    db.session.commit()
    return document


def issue_deposit_slip(site: Site, year: int, month: int, *, actor: Actor) -> Document:
    """The monthly list of every cheque the site took, by programme, for the operator."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValidationFailed("month_invalid", _("Choisissez un mois valide."), field="month")
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
    programmes: dict[int, dict[str, Any]] = {}
    for cheque in cheques:
        entry = programmes.setdefault(cheque.programme_id, {
            "name": cheque.programme.name, "operator": cheque.programme.operator,
            "cheques": [], "cents": 0})
        booking = bookings.get(cheque.booking_id or -1)
        service = (f"Atelier « {booking.session.workshop.title} »" if booking
                   else "Accompagnement individuel")
        entry["cheques"].append({
            "number": group(cheque.number), "value": euros(cheque.value_cents),
            "taken_on": cheque.redeemed_at.astimezone(PARIS).strftime("%d/%m/%Y")
            if cheque.redeemed_at else "",
            "service": service,
            "staff": cheque.redeemed_by.full_name if cheque.redeemed_by else ""})
        entry["cents"] += cheque.value_cents
    total_cents = sum(p["cents"] for p in programmes.values())
    month_name = format_date(start.date(), "MMMM y")
    snapshot = {
        "lang": "fr", "site": _site_data(site), "doc_title": "Bordereau de remise de chèques",
        "month": month_name, "period_phrase": f"Chèques reçus en {month_name}",
        "issued_on": format_date(now().astimezone(PARIS).date(), "d MMMM y"),
        "programmes": [{**{k: v for k, v in p.items() if k != "cents"},
                        "count": f"{len(p['cheques'])} chèque(s)",
                        "count_number": str(len(p["cheques"])), "value": euros(p["cents"])}
                       for p in programmes.values()],
        "total_count": f"{len(cheques)} chèque(s)", "total_count_number": str(len(cheques)),
        "total_value": euros(total_cents),
        "regisseur_name": site.signatory_name, "regisseur_role": site.signatory_role,
        "regie_mention": "",
    }
    document = issue(DocumentKind.DEPOSIT_SLIP, site, snapshot,
                     title=f"Bordereau de remise – {month_name}", actor=actor)
    db.session.commit()
    return document


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
        raise NotAllowed("course_not_completed",
                         _("Le parcours n'est pas terminé : %(attended)d séance(s) suivie(s) "
                           "sur %(given)d.", attended=attended, given=given))
    existing = db.session.scalar(db.select(Document).filter_by(
        kind=DocumentKind.COURSE_CERTIFICATE, beneficiary_id=person.id, course_id=course.id,
        revoked_at=None))
    if existing is not None:
        db.session.rollback()
        return existing
    sessions = [s for s in course.sessions if s.status is not SessionStatus.CANCELLED]
    first, last = sessions[0], sessions[-1]
    minutes = sum(s.workshop.duration_minutes for s in sessions)
    snapshot = {
        "lang": "fr", "site": _site_data(course.site),
        "doc_title": "Attestation de fin de parcours",
        "person_name": person.display_name, "person_first_name": person.first_name,
        "person_public_name": person.first_name_and_initial,
        "action_phrase": "a suivi le parcours", "title": course.title,
        "nature": f"parcours de médiation numérique en {given} séances collectives",
        "dates_phrase": f"Du {day(first.starts_at)} au {day(last.starts_at)}, "
                        f"{attended} séance(s) suivie(s) sur {given}",
        "duration": duration(minutes), "place": course.site.name,
        "objectives": course.objective_list,
        "issued_on": format_date(now().astimezone(PARIS).date(), "d MMMM y"),
    }
    document = issue(DocumentKind.COURSE_CERTIFICATE, course.site, snapshot,
                     title=f"Attestation de fin de parcours – {course.title}", actor=actor,
                     beneficiary=person, course_id=course.id, verifiable=True,
                     verify_url=verify_url)
    db.session.commit()
    return document


def issue_receipt(cheques: list[Cheque], *, actor: Actor) -> Document:
    """The numbered receipt for cheques taken together for one service.

    The cheques must already be redeemed (by the check-in's cheque service), all for the same
    booking or accompaniment, and not be on a receipt yet.
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
    if booking is not None:
        session = booking.session
        person = booking.beneficiary
        service = {"kind": "Atelier", "title": session.workshop.title,
                   "when": f"Séance du {day(session.starts_at)}, de {hour(session.starts_at)} "
                           f"à {hour(session.ends_at)}",
                   "place": ", ".join(p for p in (site.name, session.room) if p),
                   "price": f"{session.workshop.price_cheques} chèque(s) APTIC"}
    else:
        accompaniment = db.session.get(Accompaniment, first.accompaniment_id)
        person = accompaniment.beneficiary if accompaniment else None
        service = {"kind": "Accompagnement individuel",
                   "title": accompaniment.summary if accompaniment else "",
                   "when": day(accompaniment.started_at) if accompaniment else "",
                   "place": site.name, "price": ""}
    staff = db.session.get(StaffMember, first.redeemed_by_id) if first.redeemed_by_id else None
    total = sum(c.value_cents for c in cheques)
    taken_at = max(c.redeemed_at for c in cheques if c.redeemed_at)
    snapshot = {
        "lang": "fr", "site": _site_data(site), "doc_title": "Reçu de chèques APTIC",
        "issued_on": f"{day(taken_at)} à {hour(taken_at)}",
        "person_name": person.display_name if person else "",
        "service": service,
        "cheques": [{"number": group(c.number), "programme": c.programme.name,
                     "value": euros(c.value_cents)} for c in cheques],
        "cheque_count": f"{len(cheques)} chèque(s)", "total": euros(total),
        "staff_name": staff.full_name if staff else "", "staff_role": "",
        "regie_mention": "",
    }
    document = issue(DocumentKind.RECEIPT, site, snapshot,
                     title=f"Reçu de chèques APTIC – {service['title']}"[:200], actor=actor,
                     beneficiary=person, session_id=booking.session_id if booking else None)
    claimed = db.session.execute(
        update(Cheque).where(Cheque.id.in_([c.id for c in cheques]), Cheque.receipt_id.is_(None))
        .values(receipt_id=document.id), execution_options={"synchronize_session": False},
    ).rowcount
    if claimed != len(cheques):  # issued a moment ago on another device: give the number back
        db.session.rollback()
        raise NotAllowed("receipt_exists", _("Un reçu existe déjà pour ces chèques."))
    db.session.commit()
    for cheque in cheques:
        db.session.refresh(cheque)
    return document
