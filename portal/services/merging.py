"""Two records of one person become one (animateur and administrator; no undo).

The record kept is the one the desk started from; for each detail the desk chooses whose
value stays (:data:`FIELDS`); the staff notes of both are kept, one after the other. In one
transaction everything of the other record moves to the kept one: bookings (when both are
booked on the same session the better status stays, :data:`RANK`, and the cheques of the
other booking move onto it, so no cheque nor attendance is lost), documents, individual help
(``Accompaniment.beneficiary_id``, whose cheques follow), outbox messages and the calendar
link when the kept record has none. The other record becomes a tombstone: ``merged_into_id``
set, inactive, its login sessions ended, found by no search; its page leads to the kept
person. The kept record's login identifier and password stay.

The audit trail is append-only: a ``person.merged`` event is recorded on both ids, and
:func:`record_ids` gives every id a person has had, for the screens that read the trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update

from portal.extensions import db
from portal.models.bookings import Accompaniment, Booking
from portal.models.documents import Document
from portal.models.messages import OutboxMessage
from portal.models.people import Beneficiary, StaffMember
from portal.models.vocab import BookingStatus
from portal.models.vouchers import Cheque
from portal.services import audit, login_sessions, people, registration, staff_access
from portal.services.audit import Actor
from portal.services.errors import ValidationFailed
from portal.services.locking import lock_row
from portal.services.staff_access import Action

#: the details whose value the desk chooses, in the order shown.
FIELDS = ("first_name", "last_name", "phone", "has_no_phone", "email", "birth_year",
          "commune", "postcode", "gender", "social_status", "preferred_language",
          "preferred_channel", "home_site_id")

#: when both records are booked on one session, the higher status stays.
RANK = {BookingStatus.PRESENT: 6, BookingStatus.BOOKED: 5, BookingStatus.EXCUSED: 4,
        BookingStatus.ABSENT: 3, BookingStatus.WAITLISTED: 2, BookingStatus.CANCELLED: 1}
_SEATED = (BookingStatus.BOOKED, BookingStatus.PRESENT)


def field_labels() -> dict[str, str]:
    return {"first_name": _("Prénom"), "last_name": _("Nom"), "phone": _("Téléphone"),
            "has_no_phone": _("Pas de téléphone"), "email": _("E-mail"),
            "birth_year": _("Année de naissance"), "commune": _("Commune"),
            "postcode": _("Code postal"), "gender": _("Genre"),
            "social_status": _("Situation"), "preferred_language": _("Langue préférée"),
            "preferred_channel": _("Être prévenu(e) par"), "home_site_id": _("Lieu habituel")}


@dataclass(frozen=True)
class Row:
    """One detail of both records, as shown side by side."""

    name: str
    label: str
    kept: str
    other: str

    @property
    def differs(self) -> bool:
        return self.kept != self.other


def _shown(person: Beneficiary, name: str) -> str:
    value = getattr(person, name)
    if name == "home_site_id":
        return person.home_site.name if person.home_site else ""
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if value is None:
        return ""
    return str(getattr(value, "label", value))


def comparison(kept: Beneficiary, other: Beneficiary) -> list[Row]:
    labels = field_labels()
    return [Row(name, labels[name], _shown(kept, name), _shown(other, name)) for name in FIELDS]


def require_pair(staff: StaffMember, kept: Beneficiary, other: Beneficiary) -> None:
    """Both records are people the staff member may merge, and they are two."""
    registration.require(staff, Action.MERGE_PEOPLE, kept)
    registration.require(staff, Action.MERGE_PEOPLE, other)
    if kept.id == other.id:
        raise ValidationFailed("same_person", _("Choisissez une autre fiche que celle-ci."),
                               field="other_id")


def candidates(staff: StaffMember, kept: Beneficiary, text: str) -> list[Beneficiary]:
    """The records the desk may merge into this one, found as at the desk."""
    return [p for p in people.search(staff, text)
            if p.id != kept.id and registration.may(staff, Action.MERGE_PEOPLE, p)]


@dataclass(frozen=True)
class Outcome:
    kept: Beneficiary
    bookings_moved: int
    bookings_joined: int
    documents_moved: int


def _move(model: Any, column: str, other: Beneficiary, kept: Beneficiary) -> int:
    field = getattr(model, column)
    result = db.session.execute(update(model).where(field == other.id).values({field: kept.id}),
                                execution_options={"synchronize_session": False})
    return result.rowcount or 0


def _join_bookings(kept: Beneficiary, other: Beneficiary) -> tuple[int, int, list[dict[str, Any]]]:
    """Move the other record's bookings; on a shared session keep the better one, with every
    cheque of both. (moved, joined, what was dropped)"""
    mine = {b.session_id: b for b in db.session.scalars(
        db.select(Booking).where(Booking.beneficiary_id == kept.id))}
    moved = joined = 0
    dropped: list[dict[str, Any]] = []
    for theirs in db.session.scalars(
            db.select(Booking).where(Booking.beneficiary_id == other.id).order_by(Booking.id)):
        ours = mine.get(theirs.session_id)
        if ours is None:
            theirs.beneficiary_id = kept.id
            moved += 1
            continue
        better, worse = (ours, theirs) if RANK[ours.status] >= RANK[theirs.status] \
            else (theirs, ours)
        db.session.execute(update(Cheque).where(Cheque.booking_id == worse.id)
                           .values(booking_id=better.id),
                           execution_options={"synchronize_session": False})
        if worse.status in _SEATED:
            worse.session.seats_taken -= 1
        dropped.append({"booking": worse.id, "code": worse.code, "status": worse.status.value,
                        "kept": better.id})
        db.session.delete(worse)
        db.session.flush()
        better.beneficiary_id = kept.id
        joined += 1
    db.session.flush()
    return moved, joined, dropped


def merge(kept: Beneficiary, other: Beneficiary, *, take_from_other: Iterable[str],
          actor: Actor) -> Outcome:
    """Merge ``other`` into ``kept`` (``take_from_other``: the details whose value comes from
    the other record). All or nothing."""
    staff = staff_access.staff_of(actor)
    require_pair(staff, kept, other)
    chosen = set(take_from_other)
    unknown = chosen - set(FIELDS)
    if unknown:
        raise ValidationFailed("field_unknown", _("Choisissez une valeur dans la liste."))
    try:
        for person in sorted((kept, other), key=lambda p: p.id):
            lock_row(Beneficiary, person.id, "last_activity_at")
        db.session.refresh(other)
        if other.merged_into_id is not None:
            raise ValidationFailed("already_merged",
                                   _("Cette fiche a déjà été fusionnée avec une autre."))
        taken = {name: getattr(other, name) for name in FIELDS if name in chosen}
        for name, value in taken.items():
            setattr(kept, name, value)
        if other.staff_notes.strip() and other.staff_notes.strip() != kept.staff_notes.strip():
            kept.staff_notes = "\n\n".join(n for n in (kept.staff_notes.strip(),
                                                       other.staff_notes.strip()) if n)
        moved, joined, dropped = _join_bookings(kept, other)
        documents = _move(Document, "beneficiary_id", other, kept)
        helps = _move(Accompaniment, "beneficiary_id", other, kept)
        outbox = _move(OutboxMessage, "beneficiary_id", other, kept)
        calendar = False
        if kept.calendar_token_hash is None and other.calendar_token_hash is not None:
            token, other.calendar_token_hash = other.calendar_token_hash, None
            db.session.flush()
            kept.calendar_token_hash, calendar = token, True
        if kept.created_at and other.created_at and other.created_at < kept.created_at:
            kept.created_at = other.created_at
        other.merged_into_id = kept.id
        other.is_active = False
        other.first_login_code_hash = None
        other.first_login_code_expires_at = None
        other.calendar_token_hash = None
        ended = login_sessions.revoke_all(other, "merged")
        details = {"bookings_moved": moved, "bookings_joined": dropped,
                   "documents_moved": documents, "help_moved": helps, "messages_moved": outbox,
                   "calendar_moved": calendar, "sessions_ended": ended,
                   "fields_from_other": sorted(taken)}
        audit.record(actor, "person.merged", object_type="beneficiary", object_id=kept.id,
                     site_id=kept.home_site_id, merged=other.id, kept=kept.id, **details)
        audit.record(actor, "person.merged", object_type="beneficiary", object_id=other.id,
                     site_id=other.home_site_id, merged=other.id, kept=kept.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return Outcome(kept, moved, joined, documents)


def kept_record(person: Beneficiary) -> Beneficiary:
    """The record a merged one leads to (itself when it was not merged)."""
    seen = {person.id}
    while person.merged_into_id is not None:
        target = db.session.get(Beneficiary, person.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        person = target
    return person


def record_ids(person: Beneficiary) -> list[int]:
    """Every id the person's history is recorded under: theirs and those of the records
    merged into it, at any depth (for reading the audit trail)."""
    return records_under([person.id])


def records_under(person_ids: Iterable[int]) -> list[int]:
    """:func:`record_ids` for several people at once (one query per level of merging)."""
    ids = list(dict.fromkeys(person_ids))
    frontier = ids
    while frontier:
        frontier = list(db.session.scalars(
            db.select(Beneficiary.id).where(Beneficiary.merged_into_id.in_(frontier),
                                            Beneficiary.id.notin_(ids))))
        ids += frontier
    return ids
