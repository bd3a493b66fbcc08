"""Personal data of one person: what is held (the export), anonymisation, retention.

docs/domain.md#personal-data: the legal basis is a public-interest mission; people inactive
longer than the retention of every site where they are known are anonymised; financial and
statistical records stay under a pseudonym.

What anonymisation erases and what it keeps:

- erased: names (a pseudonym "Personne anonymisée 4F7Q" instead), phone, e-mail, postcode,
  staff notes, the notes of their individual help, login credentials and the card's code
  (a new unused one, never printed), every login session (rows deleted: IP and browser),
  the calendar link, the search columns, the recipient and body of every message queued or
  sent to them, their name in the snapshots of documents issued to them (the verification
  page then shows "Personne anonymisée"), and any personal value an earlier audit event held
  (see :func:`_redact_audit_trail`);
- kept: bookings and attendance, cheques, individual help (its statistics), documents' numbers
  and dates, the year of birth (age brackets), gender, social status and commune (anonymous
  statistics), and the audit trail's events themselves.

Documents already issued keep their number, date and verification code (attestations are kept
three years, receipts are financial records: docs/domain.md#personal-data), but no stored PDF
keeps the name: every document whose snapshot named the person is set back to *pending* in the
anonymising transaction, then rendered again from its pseudonymised snapshot by the one
issuing path (``issuing.complete``), outside the transaction. A render that fails leaves the
document pending, without bytes, for ``flask documents complete-pending``: never with the name.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _l
from sqlalchemy import (
    String,
    and_,
    cast,
    delete,
    false,
    func,
    or_,
    select,
    union_all,
    update,
)

from portal.clock import now
from portal.extensions import db
from portal.formatting import DOCUMENT_LANG
from portal.models import (
    Accompaniment,
    AuditEvent,
    Beneficiary,
    Booking,
    Cheque,
    Document,
    LoginFailure,
    LoginSession,
    OutboxMessage,
    Site,
    StaffMember,
    WorkshopSession,
)
from portal.models.vocab import ActorKind
from portal.services import audit, audit_viewer, issuing, merging, registration
from portal.services.accounts import account_key, new_login_id
from portal.services.audit import Actor
from portal.services.codes import UNAMBIGUOUS_ALPHABET
from portal.services.errors import NotAllowed, ValidationFailed
from portal.services.issuing import RenderFailed
from portal.services.locking import lock_row
from portal.services.staff_access import Action

#: the default retention of a site (months), used when no site is known either.
DEFAULT_RETENTION_MONTHS = 12
log = logging.getLogger(__name__)

PSEUDONYM = "Personne anonymisée"
#: what replaces an erased text.
REDACTED = "[effacé]"
#: snapshot keys that hold the person's name (services/snapshots.py).
_NAME_KEYS = ("person_name", "person_first_name", "person_public_name")


# --- where a person is known ------------------------------------------------------------------


def known_sites(person: Beneficiary) -> set[int]:
    """The sites where the person is known: usual site, sessions booked, individual help."""
    sites = {person.home_site_id} if person.home_site_id else set()
    sites.update(db.session.scalars(
        select(WorkshopSession.site_id).join(Booking, Booking.session_id == WorkshopSession.id)
        .where(Booking.beneficiary_id == person.id)))
    sites.update(db.session.scalars(
        select(Accompaniment.site_id).where(Accompaniment.beneficiary_id == person.id)))
    return sites


# --- the export -------------------------------------------------------------------------------


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _label(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "label", value))


def gather(person: Beneficiary) -> dict[str, Any]:
    """Everything held on one person, as plain JSON-ready data (not the PDF bytes)."""
    bookings = list(db.session.scalars(
        select(Booking).where(Booking.beneficiary_id == person.id).order_by(Booking.id)))
    helps = list(db.session.scalars(
        select(Accompaniment).where(Accompaniment.beneficiary_id == person.id)
        .order_by(Accompaniment.started_at)))
    cheques = list(db.session.scalars(
        select(Cheque).where(or_(
            Cheque.booking_id.in_([b.id for b in bookings] or [-1]),
            Cheque.accompaniment_id.in_([h.id for h in helps] or [-1]))).order_by(Cheque.id)))
    documents = db.session.scalars(
        select(Document).where(Document.beneficiary_id == person.id).order_by(Document.id))
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.beneficiary_id == person.id)
        .order_by(OutboxMessage.id))
    logins = db.session.scalars(
        select(LoginSession).where(LoginSession.beneficiary_id == person.id)
        .order_by(LoginSession.id))
    merged = db.session.scalars(
        select(Beneficiary).where(Beneficiary.merged_into_id == person.id))
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "beneficiary",
                                 AuditEvent.object_id == str(person.id))
        .order_by(AuditEvent.id))
    return {
        "identity": {
            "id": person.id, "first_name": person.first_name, "last_name": person.last_name,
            "birth_year": person.birth_year, "gender": _label(person.gender),
            "social_status": _label(person.social_status),
            "login_id": person.login_id_display,
            "home_site": person.home_site.name if person.home_site else None,
            "registered_at": _at(person.created_at), "last_login_at": _at(person.last_login_at),
            "anonymised_at": _at(person.anonymised_at), "active": person.is_active,
        },
        "contact": {"phone": person.phone, "has_no_phone": person.has_no_phone,
                    "email": person.email, "commune": person.commune,
                    "postcode": person.postcode},
        "preferences": {"language": _label(person.preferred_language),
                        "channel": _label(person.preferred_channel),
                        "calendar_link": person.calendar_token_hash is not None},
        "notes": {"staff_notes": person.staff_notes},
        "bookings": [{
            "workshop": b.session.workshop.title, "site": b.session.site.name,
            "starts_at": _at(b.session.starts_at), "ends_at": _at(b.session.ends_at),
            "status": _label(b.status), "source": _label(b.source),
            "booked_at": _at(b.created_at), "checked_in_at": _at(b.checked_in_at),
            "cancelled_at": _at(b.cancelled_at)} for b in bookings],
        "individual_help": [{
            "site": h.site.name, "started_at": _at(h.started_at),
            "duration_minutes": h.duration_minutes, "summary": h.summary, "notes": h.notes,
            "referred_to": h.referred_to} for h in helps],
        "cheques": [{
            "programme": c.programme.name, "number": c.number, "value_cents": c.value_cents,
            "redeemed_at": _at(c.redeemed_at)} for c in cheques],
        "documents": [{
            "number": d.number, "kind": _label(d.kind), "title": d.title,
            "issued_at": _at(d.issued_at), "revoked_at": _at(d.revoked_at)}
            for d in documents],
        "messages": [{
            "channel": _label(m.channel), "recipient": m.recipient, "subject": m.subject,
            "topic": m.topic, "created_at": _at(m.created_at), "sent_at": _at(m.sent_at)}
            for m in messages],
        "login_sessions": [{
            "started_at": _at(s.created_at), "last_seen_at": _at(s.last_seen_at),
            "ended_at": _at(s.revoked_at), "ip": s.ip, "browser": s.user_agent}
            for s in logins],
        "merged_records": [{"id": m.id, "login_id": m.login_id_display} for m in merged],
        "audit_events": [{"at": _at(e.at), "action": e.action,
                          "label": str(audit_viewer.action_label(e.action))} for e in events],
    }


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def export(person: Beneficiary, *, actor: Actor, form: str,
           staff: StaffMember | None = None) -> dict[str, Any]:
    """The data of the export, audited ``person.data_export`` (no value, only the form:
    ``json`` or ``pdf``). Staff need ``EXPORT_PERSON`` at one of the person's sites; without
    ``staff``, the person asks for their own (the caller checked it is them)."""
    if staff is not None:
        registration.require(staff, Action.EXPORT_PERSON, person)
    # The PDF is a French document, whatever the screen's language; the JSON follows it.
    with force_locale(DOCUMENT_LANG) if form == "pdf" else nullcontext():
        data = gather(person)
    audit.record(actor, "person.data_export", object_type="beneficiary", object_id=person.id,
                 site_id=person.home_site_id, form=form)
    db.session.commit()
    return data


def as_pdf(data: dict[str, Any]) -> bytes:
    """The readable PDF of the export: laid out on demand, never stored nor numbered."""
    from portal.formatting import euros, when
    from portal.pdf.documents import sheet_pdf

    def at(iso: str | None) -> str:
        return when(datetime.fromisoformat(iso), "fr") if iso else "–"

    title = "Données personnelles"
    return sheet_pdf("personal_data", {
        "data": data, "generated": when(now(), "fr"), "at": at,
        "money": lambda cents: euros(cents, "fr"), "doc_title": title,
        "pdf_title": f"{title} – {data['identity']['first_name']}", "lang": "fr",
        "site": {"name": data["identity"]["home_site"] or "Portail"}})


# --- anonymisation ----------------------------------------------------------------------------


def pseudonym() -> str:
    return f"{PSEUDONYM} " + "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(4))


def _personal_values(person: Beneficiary, *, strong_only: bool = False) -> list[str]:
    """The values that must not survive. ``strong_only``: those that identify the person
    wherever they appear — the full name (first *and* last: a first name alone is anyone's),
    e-mail, phone, login identifier; otherwise also each name alone, which only counts where a
    value is wholly that name in a record about them."""
    strong = [person.email, person.phone, person.login_id]
    if person.first_name.strip() and person.last_name.strip():
        strong.append(person.display_name)
    values = strong if strong_only else [*strong, person.first_name, person.last_name]
    return sorted({v.strip() for v in values if v and len(v.strip()) >= 3}, key=len,
                  reverse=True)


def _mentions(column: Any, values: list[str]) -> Any:
    """SQL: the JSON column's text holds one of the values (as JSON writes it, or plain)."""
    text = cast(column, String)
    return or_(*(text.contains(n, autoescape=True)
                 for v in values for n in {json.dumps(v)[1:-1], v}))


def _scrub(value: Any, exact: list[str], strong: list[str]) -> tuple[Any, bool]:
    """``value`` with every string that *is* one of ``exact`` erased, and each occurrence of a
    ``strong`` value inside a string erased (the rest of the string kept: "Cyberbase de
    Saint-Martin" survives the anonymisation of a Martin); and whether anything was."""
    if isinstance(value, str):
        if value.strip().casefold() in {v.casefold() for v in exact}:
            return REDACTED, True
        cleaned = value
        for known in strong:
            cleaned = re.sub(re.escape(known), REDACTED, cleaned, flags=re.IGNORECASE)
        return cleaned, cleaned != value
    if isinstance(value, dict):
        pairs = {k: _scrub(v, exact, strong) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(h for _, h in pairs.values())
    if isinstance(value, list):
        items = [_scrub(v, exact, strong) for v in value]
        return [v for v, _ in items], any(h for _, h in items)
    return value, False


def _blank(value: Any, key: str = "") -> Any:
    """Every text of an event about or by the person erased, whatever it held (an earlier
    spelling of the name, a former phone); the names of the fields changed and the numbers
    kept."""
    if isinstance(value, str):
        return value if key == "fields" else REDACTED
    if isinstance(value, dict):
        return {k: _blank(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v, key) for v in value]
    return value


def _redact_audit_trail(person: Beneficiary, actor: Actor) -> int:
    """Redact what earlier audit events hold of the person. The trail is append-only; the
    database accepts this one change only (migration 0009): ``details`` rewritten once,
    marked ``"redacted": true``, the address (``ip``) emptied and an account's identifier
    (``object_id``) changed, every other column unchanged. Events about the person (their
    record), by them, or against their account (a refused login) have every text of their
    details erased and, unless a staff member acted, their address; any other event that
    names them loses those words. The redaction is itself audited (``audit.redacted``, event
    ids only)."""
    strong = _personal_values(person, strong_only=True)
    account = f"beneficiary:{person.login_id}"
    about = or_(and_(AuditEvent.object_type == "beneficiary",
                     AuditEvent.object_id == str(person.id)),
                and_(AuditEvent.actor_kind == ActorKind.BENEFICIARY,
                     AuditEvent.actor_id == person.id),
                and_(AuditEvent.object_type == "account", AuditEvent.object_id == account))
    rows = list(db.session.execute(
        select(AuditEvent.id, AuditEvent.details, AuditEvent.actor_kind, AuditEvent.ip,
               AuditEvent.object_id, about.label("about"))
        .where(or_(about, _mentions(AuditEvent.details, strong) if strong else false()))
        .order_by(AuditEvent.id)))
    redacted: list[int] = []
    for event_id, details, actor_kind, ip, object_id, is_about in rows:
        details = details if isinstance(details, dict) else {}
        if details.get("redacted"):
            continue
        if is_about:
            cleaned = _blank(details)
            values: dict[str, Any] = {"details": {**cleaned, "redacted": True}}
            if actor_kind is not ActorKind.STAFF and ip:
                values["ip"] = ""
            if object_id == account:
                values["object_id"] = REDACTED
        else:
            cleaned, hit = _scrub(details, [], strong)
            if not hit:
                continue
            values = {"details": {**cleaned, "redacted": True}}
        db.session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(**values),
                           execution_options={"synchronize_session": False})
        redacted.append(event_id)
    if redacted:
        audit.record(actor, "audit.redacted", object_type="beneficiary", object_id=person.id,
                     events=redacted)
    return len(redacted)


def _pseudonymise_documents(person: Beneficiary, personal: list[str]) -> list[int]:
    """The pseudonym in the snapshots and titles of the person's documents (what the
    verification page shows); any other snapshot naming them (an attendance sheet) has the
    value erased. Each changed document that had bytes is pending again (its PDF dropped) until
    :func:`_render_again` renders it from the cleaned snapshot; their ids."""
    strong = _personal_values(person, strong_only=True)
    changed: list[int] = []
    naming = _mentions(Document.snapshot, strong) if strong else false()
    titled = or_(*(Document.title.contains(v, autoescape=True) for v in strong)) \
        if strong else false()
    for document in db.session.scalars(select(Document).where(or_(
            Document.beneficiary_id == person.id, naming, titled))):
        own = document.beneficiary_id == person.id
        snapshot = dict(document.snapshot or {})
        if own:
            snapshot.update({key: PSEUDONYM for key in _NAME_KEYS if key in snapshot})
        cleaned, hit = _scrub(snapshot, personal if own else [], strong)
        title = _without(document.title, strong)
        if cleaned != document.snapshot or hit or title != document.title:
            document.snapshot = cleaned
            document.title = title
            if not document.is_pending:
                document.pdf = document.sha256 = document.rendered_at = None
                document.rendering_until = None
            changed.append(document.id)
    return changed


def _without(text: str, personal: list[str]) -> str:
    """``text`` with each personal value replaced by the pseudonym's words."""
    for value in personal:
        text = re.sub(re.escape(value), PSEUDONYM, text, flags=re.IGNORECASE)
    return text


def _render_again(document_ids: list[int], actor: Actor) -> None:
    """The documents :func:`_pseudonymise_documents` set back to pending, rendered from their
    cleaned snapshots (outside any transaction, by the issuing path); one that fails stays
    pending for ``flask documents complete-pending``."""
    for document_id in document_ids:
        document = db.session.get(Document, document_id)
        if document is None or not document.is_pending:
            continue
        try:
            issuing.complete([document], actor=actor)
        except RenderFailed:
            log.warning("document %s left pending after anonymisation", document_id)


def anonymise(person: Beneficiary, actor: Actor, reason: str = "") -> bool:
    """Erase the person's identity (see the module's docstring), and that of the records merged
    into theirs (the same person); ``False`` when it was done already. One transaction, the
    person's row locked first. Audited ``person.anonymise``; cannot be undone. The caller
    checks the access."""
    reason = (reason or "").strip()[:40]
    lock_row(Beneficiary, person.id, "has_no_phone")
    db.session.refresh(person)
    if person.is_anonymised:
        db.session.rollback()
        return False
    documents: list[int] = []
    for record_id in merging.record_ids(person):
        record = db.session.get(Beneficiary, record_id)
        if record is not None and not record.is_anonymised:
            documents += _erase(record, actor, reason)
    db.session.commit()
    _render_again(documents, actor)
    return True


def _erase(person: Beneficiary, actor: Actor, reason: str) -> list[int]:
    """Erase one record (see the module's docstring); the documents to render again."""
    personal = _personal_values(person)
    documents = _pseudonymise_documents(person, personal)
    db.session.execute(update(OutboxMessage).where(OutboxMessage.beneficiary_id == person.id)
                       .values(recipient="", subject="", body="", last_error=""),
                       execution_options={"synchronize_session": False})
    db.session.execute(update(Accompaniment).where(Accompaniment.beneficiary_id == person.id)
                       .values(notes="", referred_to=""),
                       execution_options={"synchronize_session": False})
    db.session.execute(delete(LoginSession).where(LoginSession.beneficiary_id == person.id),
                       execution_options={"synchronize_session": False})
    # Failed logins name the account (its login id): they go with it.
    db.session.execute(delete(LoginFailure).where(
        LoginFailure.account_key == account_key(person.login_id)),
                       execution_options={"synchronize_session": False})
    redacted = _redact_audit_trail(person, actor)
    person.first_name = pseudonym()
    person.last_name = ""
    person.phone = ""
    person.email = ""
    person.postcode = ""
    person.staff_notes = ""
    person.password_hash = None
    person.first_login_code_hash = None
    person.first_login_code_expires_at = None
    person.calendar_token_hash = None
    person.preferred_channel = None
    person.login_id = new_login_id()
    person.is_active = False
    person.anonymised_at = now()
    audit.record(actor, "person.anonymise", object_type="beneficiary", object_id=person.id,
                 site_id=person.home_site_id, reason=reason or None, documents=len(documents),
                 audit_events_redacted=redacted)
    return documents


def confirm(person: Beneficiary, typed: str, ticked: bool) -> None:
    """The confirmation of an anonymisation: the first name typed, or the box ticked."""
    typed_ok = bool(typed) and typed.strip().casefold() == person.first_name.casefold()
    if not (typed_ok or ticked):
        raise ValidationFailed(
            "confirmation_required",
            _l("Tapez le prénom de la personne ou cochez la case pour confirmer."),
            field="confirmation")


def anonymise_on_request(staff: StaffMember, person: Beneficiary, *, typed: str, ticked: bool,
                         actor: Actor) -> None:
    """An administrator of a site where the person is known anonymises them on request."""
    if person.is_anonymised:
        raise NotAllowed("already_anonymised", _l("Cette personne est déjà anonymisée."))
    registration.require(staff, Action.ANONYMISE_PERSON, person)
    confirm(person, typed, ticked)
    anonymise(person, actor, "request")


# --- retention --------------------------------------------------------------------------------


def retention_months_shown() -> int | None:
    """The retention the privacy page states for everyone: the one every active site has (the
    default when there is no site yet); ``None`` when sites differ (then it lists
    :func:`retention_by_site`)."""
    months = set(db.session.scalars(select(Site.retention_months).filter_by(is_active=True)))
    if not months:
        return DEFAULT_RETENTION_MONTHS
    return months.pop() if len(months) == 1 else None


def retention_by_site() -> list[tuple[str, int]]:
    """Each active site's name and retention, as :func:`purge` reads them."""
    return [(name, months) for name, months in db.session.execute(
        select(Site.name, Site.retention_months).filter_by(is_active=True).order_by(Site.name))]


def _months_ago(at: datetime, months: int) -> datetime:
    return at - timedelta(days=round(months * 365.25 / 12))


def last_activity(person: Beneficiary) -> datetime:
    """The latest of registration, edit, login, booking or its change (attendance is one),
    the end of a session booked, and individual help."""
    dates = [person.created_at, person.last_activity_at, person.last_login_at]
    dates.append(db.session.scalar(select(func.max(Booking.status_changed_at)).where(
        Booking.beneficiary_id == person.id)))
    dates.append(db.session.scalar(select(func.max(WorkshopSession.ends_at)).join(
        Booking, Booking.session_id == WorkshopSession.id).where(
        Booking.beneficiary_id == person.id)))
    dates.append(db.session.scalar(select(func.max(Accompaniment.started_at)).where(
        Accompaniment.beneficiary_id == person.id)))
    edited = db.session.scalar(select(func.max(AuditEvent.at)).where(
        AuditEvent.object_type == "beneficiary", AuditEvent.object_id == str(person.id),
        AuditEvent.action.in_(("person.registered", "person.edited"))))
    dates.append(edited)
    return max(d for d in dates if d is not None)


def _retention_of(person: Beneficiary, retention: dict[int, int]) -> int:
    """The longest retention among the sites where the person is known."""
    months = [retention.get(site, DEFAULT_RETENTION_MONTHS) for site in known_sites(person)]
    return max(months, default=DEFAULT_RETENTION_MONTHS)


def _retentions() -> dict[int, int]:
    return {site_id: months for site_id, months in db.session.execute(
        select(Site.id, Site.retention_months))}


@dataclass
class PurgeReport:
    due: list[int] = field(default_factory=list)
    anonymised: list[int] = field(default_factory=list)


def due_for_purge(at: datetime | None = None) -> list[int]:
    """Ids of the people inactive longer than the retention of every site where known.

    Read for everyone at once (:func:`_activity_of_candidates`: the same dates as
    :func:`last_activity`, the same sites as :func:`known_sites`), not person by person."""
    at = at or now()
    due = []
    for person_id, last, months in _activity_of_candidates(at):
        if last < _months_ago(at, months or DEFAULT_RETENTION_MONTHS):
            due.append(person_id)
    return due


def _activity_of_candidates(at: datetime) -> list[tuple[int, datetime, int | None]]:
    """Each person who may be due (not anonymised nor merged, registered before the shortest
    retention): their last activity and the longest retention of the sites where they are
    known (None when known nowhere). Two statements, whatever the number of people."""
    shortest = db.session.scalar(select(func.min(Site.retention_months)))
    shortest = min(shortest or DEFAULT_RETENTION_MONTHS, DEFAULT_RETENTION_MONTHS)
    candidate = (select(Beneficiary.id, Beneficiary.home_site_id, Beneficiary.created_at,
                        Beneficiary.last_activity_at, Beneficiary.last_login_at)
                 .where(Beneficiary.anonymised_at.is_(None),
                        Beneficiary.merged_into_id.is_(None),
                        Beneficiary.created_at < _months_ago(at, shortest))
                 .cte("candidate"))
    ids = select(candidate.c.id)
    booked = (select(Booking.beneficiary_id.label("person_id"),
                     func.max(Booking.status_changed_at).label("changed"),
                     func.max(WorkshopSession.ends_at).label("ended"))
              .join(WorkshopSession, Booking.session_id == WorkshopSession.id)
              .where(Booking.beneficiary_id.in_(ids)).group_by(Booking.beneficiary_id)
              .subquery())
    helped = (select(Accompaniment.beneficiary_id.label("person_id"),
                     func.max(Accompaniment.started_at).label("started"))
              .where(Accompaniment.beneficiary_id.in_(ids))
              .group_by(Accompaniment.beneficiary_id).subquery())
    edited = (select(AuditEvent.object_id.label("object_id"),
                     func.max(AuditEvent.at).label("edited"))
              .where(AuditEvent.object_type == "beneficiary",
                     AuditEvent.action.in_(("person.registered", "person.edited")),
                     AuditEvent.object_id.in_(select(cast(candidate.c.id, String))))
              .group_by(AuditEvent.object_id).subquery())
    known = union_all(
        select(candidate.c.id.label("person_id"), candidate.c.home_site_id.label("site_id"))
        .where(candidate.c.home_site_id.is_not(None)),
        select(Booking.beneficiary_id, WorkshopSession.site_id)
        .join(WorkshopSession, Booking.session_id == WorkshopSession.id)
        .where(Booking.beneficiary_id.in_(ids)),
        select(Accompaniment.beneficiary_id, Accompaniment.site_id)
        .where(Accompaniment.beneficiary_id.in_(ids))).subquery()
    kept = (select(known.c.person_id, func.max(Site.retention_months).label("months"))
            .join(Site, Site.id == known.c.site_id).group_by(known.c.person_id).subquery())
    rows = db.session.execute(
        select(candidate.c.id, candidate.c.created_at, candidate.c.last_activity_at,
               candidate.c.last_login_at, booked.c.changed, booked.c.ended, helped.c.started,
               edited.c.edited, kept.c.months)
        .outerjoin(booked, booked.c.person_id == candidate.c.id)
        .outerjoin(helped, helped.c.person_id == candidate.c.id)
        .outerjoin(edited, edited.c.object_id == cast(candidate.c.id, String))
        .outerjoin(kept, kept.c.person_id == candidate.c.id)
        .order_by(candidate.c.id))
    return [(row[0], max(d for d in row[1:8] if d is not None), row[8]) for row in rows]


def purge(*, dry_run: bool = False, at: datetime | None = None) -> PurgeReport:
    """Anonymise the people :func:`due_for_purge`, one transaction each (row-locked and
    checked again inside it: two runs at once anonymise each person once)."""
    at = at or now()
    report = PurgeReport(due=due_for_purge(at))
    db.session.rollback()
    if dry_run:
        return report
    retention = _retentions()
    for person_id in report.due:
        person = db.session.get(Beneficiary, person_id)
        if person is None:
            continue
        lock_row(Beneficiary, person_id, "has_no_phone")
        db.session.refresh(person)
        if person.is_anonymised or last_activity(person) >= _months_ago(
                at, _retention_of(person, retention)):
            db.session.rollback()
            continue
        if anonymise(person, Actor.system(), "retention"):
            report.anonymised.append(person_id)
    return report
