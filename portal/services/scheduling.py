"""Scheduling sessions: one session, a weekly series, an edit, a duplicate, a cancellation.

Times are typed as Paris wall-clock times and stored in UTC; a time that does not exist or
happens twice on a day the clocks change is refused in plain words. Every function checks
``SCHEDULE_SESSIONS`` (or ``CANCEL_SESSION``) at the session's site itself, refuses the
sessions in the way (``services/conflicts.py``), audits and commits as one unit of work — a
series is created whole or not at all. See docs/architecture.md#scheduling.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext

from portal.clock import PARIS, now
from portal.extensions import db
from portal.models.bookings import Booking
from portal.models.catalogue import Workshop, WorkshopSession
from portal.models.people import Beneficiary, Site, StaffMember, StaffSiteRole
from portal.models.vocab import SessionStatus
from portal.models.vouchers import Cheque
from portal.services import bookings, closures, conflicts, messages, staff_access
from portal.services.audit import Actor, record
from portal.services.conflicts import Clash
from portal.services.errors import Conflict, NotAllowed, ServiceError, ValidationFailed
from portal.services.locking import lock_row
from portal.services.staff_access import Action

#: a series creates this many sessions at most (beyond, it is surely a mistake).
MAX_SERIES = 60
ROOM_MAX = 80
NOTE_MAX = 500
CAPACITY_MAX = 500
#: the fields of the session form, as the views pass them (strings).
FIELDS = ("workshop_id", "site_id", "room", "day", "start", "end", "capacity", "animator_id",
          "note")


@dataclass
class Plan:
    """A session as it will be written: checked, times in UTC."""

    workshop: Workshop
    site: Site
    room: str
    day: date  # the Paris calendar day of the start
    start: time  # Paris wall-clock times
    end: time
    capacity: int
    animator: StaffMember | None
    note: str

    @property
    def starts_at(self) -> datetime:
        return paris_instant(self.day, self.start)

    @property
    def ends_at(self) -> datetime:
        return paris_instant(self.day, self.end)

    def on(self, day: date) -> Plan:
        return Plan(self.workshop, self.site, self.room, day, self.start, self.end,
                    self.capacity, self.animator, self.note)


# --- choices offered by the forms -------------------------------------------------------------


def sites_for(staff: StaffMember) -> list[Site]:
    return staff_access.sites_for(staff, Action.SCHEDULE_SESSIONS)


def workshops_for(site_ids: Sequence[int]) -> list[Workshop]:
    """Active workshops usable at these sites: theirs and the network's."""
    return list(db.session.scalars(
        db.select(Workshop).where(Workshop.is_active.is_(True),
                                  Workshop.site_id.is_(None) | Workshop.site_id.in_(site_ids))
        .order_by(Workshop.title, Workshop.id)))


def animators_for(site_ids: Sequence[int]) -> list[StaffMember]:
    """Active staff members holding a role at one of these sites."""
    return list(db.session.scalars(
        db.select(StaffMember).join(StaffSiteRole, StaffSiteRole.staff_id == StaffMember.id)
        .where(StaffMember.is_active.is_(True), StaffSiteRole.site_id.in_(site_ids))
        .distinct().order_by(StaffMember.full_name, StaffMember.id)))


def sites_to_move(staff: StaffMember, session: WorkshopSession) -> list[Site]:
    """Where the session may be: its site, or (outside a course) another site where the staff
    member schedules and its workshop is offered."""
    if session.course_id is not None:
        return [session.site]
    return [site for site in sites_for(staff)
            if site.id == session.site_id or session.workshop.site_id in (None, site.id)]


def form_of(session: WorkshopSession, *, day: date | None = None) -> dict[str, str]:
    """The session form filled from a session (to edit it, or to duplicate it on ``day``)."""
    start, end = session.starts_at.astimezone(PARIS), session.ends_at.astimezone(PARIS)
    return {"workshop_id": str(session.workshop_id), "site_id": str(session.site_id),
            "room": session.room, "day": (day.isoformat() if day else start.date().isoformat()),
            "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"),
            "capacity": str(session.capacity),
            "animator_id": str(session.animator_id or ""), "note": session.note}


# --- reading the form ---------------------------------------------------------------------------


def paris_instant(day: date, at: time) -> datetime:
    """The UTC instant of a Paris wall-clock time; refused when the clocks change over it."""
    naive = datetime.combine(day, at)
    first, second = naive.replace(tzinfo=PARIS, fold=0), naive.replace(tzinfo=PARIS, fold=1)
    if first.utcoffset() != second.utcoffset():
        back = first.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None)
        if back != naive:
            raise ValidationFailed(
                "time_does_not_exist",
                _("Cette heure n'existe pas le %(day)s : on avance les montres d'une heure "
                  "cette nuit-là. Choisissez une autre heure.", day=_day(day)),
                fields={"start": ""})
        raise ValidationFailed(
            "time_ambiguous",
            _("Cette heure existe deux fois le %(day)s : on recule les montres d'une heure "
              "cette nuit-là. Choisissez une autre heure.", day=_day(day)),
            fields={"start": ""})
    return first.astimezone(UTC)


def _day(value: date) -> str:
    from portal.formatting import long_date

    return long_date(value)


_DIGITS = re.compile(r"[0-9]{1,9}")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLOCK = re.compile(r"([0-9]{1,2})(?:[:hH]([0-9]{2})?)?")


def _int(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if _DIGITS.fullmatch(text) else None


def parse_day(value: str | None) -> date | None:
    """``2026-12-01`` (what a date input sends), or None."""
    text = (value or "").strip()
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return None
    return parsed if 2000 <= parsed.year <= 2100 else None


def _time(value: str | None) -> time | None:
    """``14:00``, ``14h``, ``14h30`` or ``14``, or None."""
    match = _CLOCK.fullmatch((value or "").strip())
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    return time(hours, minutes) if hours < 24 and minutes < 60 else None


def read_plan(form: Mapping[str, str], *, actor: Actor,
              session: WorkshopSession | None = None) -> Plan:
    """The checked plan of a session form, or ``ValidationFailed`` naming each wrong field.

    Editing (``session`` given) keeps the session's workshop; it may move to another site
    (``site_id``) where the workshop is offered, unless it belongs to a course (a course
    stays at its site). The staff member must be allowed to schedule at the site (a 404 or
    403 otherwise).
    """
    fields: dict[str, str] = {}
    staff = staff_access.staff_of(actor)
    if session is not None:
        site: Site | None = session.site
        workshop: Workshop | None = session.workshop
        moved_to = _int(form.get("site_id"))
        if (form.get("site_id") or "").strip() and moved_to != session.site_id:
            site = db.session.get(Site, moved_to) if moved_to else None
            if site is None or not site.is_active:
                fields["site_id"] = _("Choisissez le lieu de la séance.")
                site = None
            elif session.course_id is not None:
                fields["site_id"] = _("Cette séance fait partie d'un parcours : elle reste "
                                      "dans son lieu.")
                site = None
            elif session.workshop.site_id not in (None, site.id):
                fields["site_id"] = _("Cet atelier n'est pas proposé dans ce lieu.")
                site = None
    else:
        site_id = _int(form.get("site_id"))
        site = db.session.get(Site, site_id) if site_id else None
        if site is None or not site.is_active:
            fields["site_id"] = _("Choisissez le lieu de la séance.")
            site = None
        workshop_id = _int(form.get("workshop_id"))
        workshop = db.session.get(Workshop, workshop_id) if workshop_id else None
        if workshop is None or not workshop.is_active or (
                site is not None and workshop.site_id not in (None, site.id)):
            fields["workshop_id"] = _("Choisissez un atelier proposé dans ce lieu.")
            workshop = None
    if site is not None:
        staff_access.require(staff, Action.SCHEDULE_SESSIONS, site.id)
    room = " ".join((form.get("room") or "").split())
    if not room:
        fields["room"] = _("Indiquez la salle.")
    elif len(room) > ROOM_MAX:
        fields["room"] = _("Le nom de la salle est trop long (80 caractères au plus).")
    day = parse_day(form.get("day"))
    if day is None:
        fields["day"] = _("Indiquez la date de la séance (jour, mois, année).")
    start = _time(form.get("start"))
    if start is None:
        fields["start"] = _("Indiquez l'heure de début, par exemple 14:00.")
    end = _time(form.get("end")) if (form.get("end") or "").strip() else None
    if (form.get("end") or "").strip() and end is None:
        fields["end"] = _("Indiquez l'heure de fin, par exemple 16:00.")
    elif end is None and start is not None and workshop is not None:
        finish = datetime.combine(date(2000, 1, 1), start) + timedelta(
            minutes=workshop.duration_minutes)
        end = finish.time() if finish.date() == date(2000, 1, 1) else None
        if end is None:
            fields["end"] = _("La séance doit finir le même jour : indiquez l'heure de fin.")
    if start is not None and end is not None and end <= start:
        fields["end"] = _("L'heure de fin doit être après l'heure de début.")
    capacity = _int(form.get("capacity"))
    if capacity is None or not 1 <= capacity <= CAPACITY_MAX:
        fields["capacity"] = _("Indiquez le nombre de places (de 1 à 500).")
    animator = None
    animator_id = _int(form.get("animator_id"))
    if (form.get("animator_id") or "").strip():
        animator = db.session.get(StaffMember, animator_id) if animator_id else None
        if animator is None or not animator.is_active or (
                site is not None and not any(r.site_id == site.id for r in animator.roles)):
            fields["animator_id"] = _("Choisissez une personne de l'équipe de ce lieu.")
            animator = None
    note = (form.get("note") or "").strip()
    if len(note) > NOTE_MAX:
        fields["note"] = _("Le mot pour les participants est trop long (500 caractères au "
                           "plus).")
    if fields:
        raise ValidationFailed("session_invalid", next(iter(fields.values())), fields=fields)
    assert site and workshop and day and start and end and capacity
    plan = Plan(workshop, site, room, day, start, end, capacity, animator, note)
    try:
        plan.starts_at, plan.ends_at  # noqa: B018  (the clocks may change over them)
    except ValidationFailed as error:
        raise ValidationFailed(error.code, error.message, fields={"start": error.message}) \
            from None
    return plan


def _not_in_past(plan: Plan) -> None:
    if plan.starts_at <= now():
        raise ValidationFailed("session_in_past", _("Cette date et cette heure sont passées."),
                               fields={"day": _("Cette date et cette heure sont passées.")})


def _clashes(plan: Plan, ignore: Sequence[int] = ()) -> list[Clash]:
    return conflicts.clashes(site_id=plan.site.id, room=plan.room,
                             animator_id=plan.animator.id if plan.animator else None,
                             starts_at=plan.starts_at, ends_at=plan.ends_at, ignore=ignore)


def _lock_site(site: Site) -> None:
    """Schedulers of one site wait for each other: what they check stays true until commit."""
    lock_row(Site, site.id, "name")


def _new_session(plan: Plan, series_id: str | None = None) -> WorkshopSession:
    session = WorkshopSession(workshop_id=plan.workshop.id, site_id=plan.site.id,
                              starts_at=plan.starts_at, ends_at=plan.ends_at, room=plan.room,
                              capacity=plan.capacity, seats_taken=0,
                              animator_id=plan.animator.id if plan.animator else None,
                              note=plan.note, series_id=series_id)
    db.session.add(session)
    return session


def _facts(plan: Plan) -> dict[str, object]:
    return {"workshop_id": plan.workshop.id, "room": plan.room,
            "starts_at": plan.starts_at.isoformat(), "ends_at": plan.ends_at.isoformat(),
            "capacity": plan.capacity,
            "animator_id": plan.animator.id if plan.animator else None}


# --- one session ---------------------------------------------------------------------------------


def schedule(form: Mapping[str, str], *, actor: Actor,
             duplicate_of: WorkshopSession | None = None) -> WorkshopSession:
    """Schedule one session (or a copy of ``duplicate_of`` on another day)."""
    plan = read_plan(form, actor=actor)
    _not_in_past(plan)
    try:
        _lock_site(plan.site)
        conflicts.refuse_clashes(_clashes(plan))
    except ServiceError:
        db.session.rollback()
        raise
    session = _new_session(plan)
    db.session.flush()
    details = _facts(plan)
    if duplicate_of is not None:
        details["duplicate_of"] = duplicate_of.id
    record(actor, "session.duplicated" if duplicate_of else "session.scheduled",
           object_type="session", object_id=session.id, site_id=plan.site.id, **details)
    db.session.commit()
    return session


# --- a weekly series -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    starts_at: datetime
    ends_at: datetime
    clashes: list[Clash]


@dataclass
class SeriesPreview:
    plan: Plan
    sessions: list[Planned] = field(default_factory=list)
    skipped: list[tuple[date, str]] = field(default_factory=list)

    @property
    def clashing(self) -> list[Planned]:
        return [planned for planned in self.sessions if planned.clashes]


def read_series(form: Mapping[str, str], weekdays: Sequence[str], *, actor: Actor
                ) -> tuple[Plan, frozenset[int], date | None, int | None]:
    """The plan and the repetition of a series form (weekdays 0 = Monday … 6 = Sunday)."""
    fields: dict[str, str] = {}
    try:
        plan: Plan | None = read_plan(form, actor=actor)
    except ValidationFailed as error:
        fields.update(error.details.get("fields", {}))
        plan = None
    days = frozenset(int(d) for d in weekdays if d.strip().isdigit() and int(d) <= 6)
    if not days:
        fields["weekdays"] = _("Cochez au moins un jour de la semaine.")
    until = parse_day(form.get("until")) if (form.get("until") or "").strip() else None
    count = _int(form.get("count")) if (form.get("count") or "").strip() else None
    if (form.get("until") or "").strip() and until is None:
        fields["until"] = _("Indiquez la date de fin (jour, mois, année).")
    elif (form.get("count") or "").strip() and (count is None or not 1 <= count <= MAX_SERIES):
        fields["count"] = _("Indiquez un nombre de séances de 1 à %(max)d.", max=MAX_SERIES)
    elif until is None and count is None:
        fields["until"] = _("Indiquez jusqu'à quand, ou combien de séances.")
    elif until is not None and plan is not None and until < plan.day:
        fields["until"] = _("La date de fin est avant la première date.")
    if fields:
        raise ValidationFailed("series_invalid", next(iter(fields.values())), fields=fields)
    assert plan is not None
    return plan, days, until, count


def preview_series(plan: Plan, weekdays: frozenset[int], *, until: date | None = None,
                   count: int | None = None) -> SeriesPreview:
    """Every session a series would create (with what stands in its way) and every day it
    skips because the site is closed, without writing anything."""
    last = until or plan.day + timedelta(weeks=MAX_SERIES + 1)
    closed = closures.closed_days(plan.site.id, plan.day, last)
    preview = SeriesPreview(plan)
    current = plan.day
    while current <= last and (count is None or len(preview.sessions) < count):
        if current.weekday() in weekdays:
            if current in closed:
                preview.skipped.append((current, closed[current]))
            else:
                if len(preview.sessions) == MAX_SERIES:
                    raise ValidationFailed(
                        "series_too_long",
                        _("Une série compte %(max)d séances au plus : choisissez une date de "
                          "fin plus proche ou moins de jours.", max=MAX_SERIES),
                        fields={"until": ""})
                one = plan.on(current)
                try:
                    planned = Planned(one.starts_at, one.ends_at, _clashes(one))
                except ValidationFailed as error:
                    raise ValidationFailed(error.code, error.message,
                                           fields={"start": error.message}) from None
                preview.sessions.append(planned)
        current += timedelta(days=1)
    if not preview.sessions:
        raise ValidationFailed("series_empty",
                               _("Aucune séance à créer entre ces dates (jours fermés ou "
                                 "jours de la semaine absents)."), fields={"weekdays": ""})
    if preview.sessions[0].starts_at <= now():
        raise ValidationFailed("session_in_past", _("Cette date et cette heure sont passées."),
                               fields={"day": _("Cette date et cette heure sont passées.")})
    return preview


def create_series(plan: Plan, weekdays: frozenset[int], *, actor: Actor,
                  until: date | None = None, count: int | None = None) -> list[WorkshopSession]:
    """Create the whole series in one transaction, or nothing when anything is in the way."""
    staff_access.require_actor(actor, Action.SCHEDULE_SESSIONS, plan.site.id)
    try:
        _lock_site(plan.site)
        preview = preview_series(plan, weekdays, until=until, count=count)
        if preview.clashing:
            first = preview.clashing[0]
            raise Conflict(
                "series_conflict",
                ngettext("La série n'est pas créée : %(num)d séance tombe sur une autre. "
                         "%(first)s",
                         "La série n'est pas créée : %(num)d séances tombent sur d'autres. "
                         "%(first)s", len(preview.clashing), first=first.clashes[0].message),
                clashes=[c.message for p in preview.clashing for c in p.clashes])
    except ServiceError:
        db.session.rollback()
        raise
    series_id = secrets.token_hex(8)
    created = []
    for planned in preview.sessions:
        day = planned.starts_at.astimezone(PARIS).date()
        created.append(_new_session(plan.on(day), series_id))
    db.session.flush()
    record(actor, "series.scheduled", object_type="series", object_id=series_id,
           site_id=plan.site.id, sessions=[s.id for s in created],
           skipped=[d.isoformat() for d, _label in preview.skipped],
           weekdays=sorted(weekdays), **_facts(plan))
    db.session.commit()
    return created


def series_of(session: WorkshopSession) -> list[WorkshopSession]:
    if not session.series_id:
        return []
    return list(db.session.scalars(
        db.select(WorkshopSession).where(WorkshopSession.series_id == session.series_id)
        .order_by(WorkshopSession.starts_at)))


# --- editing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditOutcome:
    changes: list[str]  # "time", "room", "site"
    told: int  # messages queued about the change
    promoted: list[Booking]


def can_change(session: WorkshopSession) -> bool:
    """May the session still be edited or cancelled (scheduled and not started)?"""
    try:
        _check_editable(session)
    except NotAllowed:
        return False
    return True


def _check_editable(session: WorkshopSession) -> None:
    if session.status is SessionStatus.CANCELLED:
        raise NotAllowed("session_cancelled", _("Cette séance est annulée : elle ne peut plus "
                                                "être modifiée."))
    if session.status is SessionStatus.CLOSED:
        raise NotAllowed("session_closed", _("Cette séance est clôturée : elle ne peut plus "
                                             "être modifiée."))
    if session.has_started(now()):
        raise NotAllowed("session_started", _("Cette séance a commencé : elle ne peut plus "
                                              "être modifiée."))


def _active_bookings(session: WorkshopSession) -> list[Booking]:
    return list(db.session.scalars(
        db.select(Booking).where(Booking.session_id == session.id,
                                 Booking.status.in_(bookings.ACTIVE))
        .order_by(Booking.id)))


def edit(session: WorkshopSession, form: Mapping[str, str], *, actor: Actor) -> EditOutcome:
    """Change a session's time, site, room, capacity, animator or note.

    A new time, site or room is told to everyone booked or waiting (once per change) and shown on
    their My workshops; a larger capacity gives seats to the people waiting.
    """
    staff_access.require_actor(actor, Action.SCHEDULE_SESSIONS, session.site_id)
    _check_editable(session)
    plan = read_plan(form, actor=actor, session=session)
    at = now()
    try:
        lock_row(WorkshopSession, session.id, "room")
        db.session.refresh(session)
        _lock_site(plan.site)  # its room and animators' times stay as checked until commit
        _check_editable(session)
        _not_in_past(plan)
        conflicts.check_capacity(plan.capacity, session.seats_taken)
        conflicts.refuse_clashes(_clashes(plan, ignore=[session.id]))
    except ServiceError:
        db.session.rollback()
        raise
    def facts() -> dict[str, object]:
        return {"starts_at": session.starts_at.isoformat(),
                "ends_at": session.ends_at.isoformat(), "site_id": session.site_id,
                "room": session.room, "capacity": session.capacity,
                "animator_id": session.animator_id, "note": session.note}

    before = facts()
    changes = []
    if (plan.starts_at, plan.ends_at) != (session.starts_at, session.ends_at):
        changes.append("time")
    if plan.site.id != session.site_id:
        changes.append("site")
    if plan.room != session.room:
        changes.append("room")
    raised = plan.capacity > session.capacity
    session.starts_at, session.ends_at = plan.starts_at, plan.ends_at
    session.site_id, session.site = plan.site.id, plan.site
    session.room, session.capacity, session.note = plan.room, plan.capacity, plan.note
    session.animator_id = plan.animator.id if plan.animator else None
    after = facts()
    if before == after:
        db.session.rollback()
        return EditOutcome([], 0, [])
    db.session.flush()
    promoted = bookings.promote_waiting(session, actor, at) if raised else []
    told = 0
    if changes:
        session.changed_at = at
        session.change_kinds = ",".join(changes)
        db.session.flush()
        for booking in _active_bookings(session):
            if messages.queue_session_changed(booking) is not None:
                told += 1
    record(actor, "session.edited", object_type="session", object_id=session.id,
           site_id=session.site_id, before=before, after=after, changes=changes,
           promoted=[b.id for b in promoted], told=told)
    db.session.commit()
    return EditOutcome(changes, told, promoted)


# --- cancelling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TakenCheque:
    number: str
    person: Beneficiary


def cheques_taken(session: WorkshopSession) -> list[TakenCheque]:
    """The cheques already taken for the session's bookings: to return or move."""
    rows = db.session.execute(
        db.select(Cheque.number, Beneficiary)
        .join(Booking, Cheque.booking_id == Booking.id)
        .join(Beneficiary, Booking.beneficiary_id == Beneficiary.id)
        .where(Booking.session_id == session.id)
        .order_by(Beneficiary.last_name, Beneficiary.first_name, Cheque.number)).all()
    return [TakenCheque(number, person) for number, person in rows]


def cancel(session: WorkshopSession, reason: str, *, actor: Actor) -> int:
    """Cancel the session for good (there is no undo); how many people were told."""
    staff_access.require_actor(actor, Action.CANCEL_SESSION, session.site_id)
    if session.status is SessionStatus.CANCELLED:
        raise Conflict("already_cancelled", _("Cette séance est déjà annulée."))
    return bookings.cancel_session(session, reason, actor=actor)
