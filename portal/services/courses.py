"""Writing the catalogue's courses (parcours): their facts, completion rule and sessions.

A course belongs to one site; its sessions are sessions of that site, each in one course at
most, ordered by start time. Who may act: ``EDIT_CATALOGUE`` at the course's site. See
docs/architecture.md#the-catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func

from portal.clock import now
from portal.extensions import db
from portal.forms import parse_id
from portal.models.bookings import Booking
from portal.models.catalogue import Course, WorkshopSession
from portal.models.people import Site, StaffMember
from portal.models.vocab import BookingStatus, CompletionRule, SessionStatus
from portal.services import audit, staff_access
from portal.services.audit import Actor
from portal.services.errors import Conflict, NotFound, ValidationFailed
from portal.services.staff_access import Action
from portal.services.workshops import (
    DESCRIPTION_MAX,
    OBJECTIVES_MAX,
    TITLE_MAX,
    changes,
    check_number,
    check_text,
)

#: statuses that record attendance: a session with one of them has happened for someone.
ATTENDANCE = (BookingStatus.PRESENT, BookingStatus.ABSENT, BookingStatus.EXCUSED)


@dataclass
class CourseInput:
    """What a course form sends, as typed."""

    title: str = ""
    description: str = ""
    site: str = ""
    completion_rule: str = CompletionRule.ALL_SESSIONS.value
    min_sessions: str = ""
    grants_attestation: bool = True
    objectives: str = ""

    @classmethod
    def of(cls, course: Course) -> CourseInput:
        return cls(title=course.title, description=course.description, site=str(course.site_id),
                   completion_rule=course.completion_rule.value,
                   min_sessions=str(course.min_sessions_attended or ""),
                   grants_attestation=course.grants_attestation, objectives=course.objectives)


def course_for(staff: StaffMember, course_id: int, action: Action) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("not_found", _("Cette page n'existe pas ou n'existe plus."))
    staff_access.require(staff, action, course.site_id)
    return course


def listing(staff: StaffMember) -> list[Course]:
    """The courses of the sites where the staff member sees sessions, by title."""
    return list(db.session.scalars(
        db.select(Course).where(staff_access.at_sites(staff, Action.SEE_SESSIONS,
                                                      Course.site_id))
        .order_by(Course.title, Course.id)))


def given_sessions(course: Course) -> list[WorkshopSession]:
    """The course's sessions that are not cancelled, by start time."""
    return [s for s in course.sessions if s.status is not SessionStatus.CANCELLED]


def addable_sessions(course: Course) -> list[WorkshopSession]:
    """Upcoming scheduled sessions of the course's site that are in no course."""
    return list(db.session.scalars(
        db.select(WorkshopSession)
        .where(WorkshopSession.site_id == course.site_id, WorkshopSession.course_id.is_(None),
               WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.starts_at > now())
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)))


def _snapshot(course: Course) -> dict[str, Any]:
    return {"title": course.title, "description": course.description,
            "site_id": course.site_id, "completion_rule": course.completion_rule.value,
            "min_sessions_attended": course.min_sessions_attended,
            "grants_attestation": course.grants_attestation, "objectives": course.objectives}


def _check(staff: StaffMember, data: CourseInput, course: Course | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = check_text(errors, "title", data.title, maximum=TITLE_MAX)
    if not title and "title" not in errors:
        errors["title"] = _("Écrivez le titre du parcours.")
    description = check_text(errors, "description", data.description,
                             maximum=DESCRIPTION_MAX, multiline=True)
    objectives = check_text(errors, "objectives", data.objectives, maximum=OBJECTIVES_MAX,
                            multiline=True)
    site_id = parse_id(data.site)
    site = db.session.get(Site, site_id) if site_id is not None else None
    if site is None or not site.is_active:
        errors["site"] = _("Choisissez le lieu du parcours.")
    elif course is not None and site_id != course.site_id and course.sessions:
        errors["site"] = _("Ce parcours a des séances dans son lieu : retirez-les avant de "
                           "changer de lieu.")
    try:
        rule = CompletionRule(data.completion_rule)
    except ValueError:
        rule = CompletionRule.ALL_SESSIONS
        errors["completion_rule"] = _("Choisissez une règle de la liste.")
    minimum = None
    if rule is CompletionRule.THRESHOLD:
        count = len(given_sessions(course)) if course is not None else 0
        if count == 0:
            errors["min_sessions"] = _("Ajoutez d'abord les séances du parcours, puis "
                                       "choisissez combien suivre au minimum.")
        else:
            minimum = check_number(errors, "min_sessions", data.min_sessions, 1, count, ngettext(
                "Écrivez un nombre de séances entre 1 et %(num)d (le nombre de séances du "
                "parcours).",
                "Écrivez un nombre de séances entre 1 et %(num)d (le nombre de séances du "
                "parcours).", count))
    if errors:
        raise ValidationFailed("course_invalid", next(iter(errors.values())), fields=errors)
    staff_access.require(staff, Action.EDIT_CATALOGUE, site_id)  # type: ignore[arg-type]
    return {"title": title, "description": description, "objectives": objectives,
            "site_id": site_id, "completion_rule": rule, "min_sessions_attended": minimum,
            "grants_attestation": bool(data.grants_attestation)}


def create(data: CourseInput, *, actor: Actor) -> Course:
    staff = staff_access.staff_of(actor)
    course = Course(**_check(staff, data, None))
    db.session.add(course)
    db.session.flush()
    audit.record(actor, "course.created", object_type="course", object_id=course.id,
                 site_id=course.site_id, changes=changes({}, _snapshot(course)))
    db.session.commit()
    return course


def update(course: Course, data: CourseInput, *, actor: Actor) -> dict[str, Any]:
    staff = staff_access.staff_of(actor)
    staff_access.require(staff, Action.EDIT_CATALOGUE, course.site_id)
    values = _check(staff, data, course)
    before = _snapshot(course)
    for name, value in values.items():
        setattr(course, name, value)
    changed = changes(before, _snapshot(course))
    if changed:
        audit.record(actor, "course.updated", object_type="course", object_id=course.id,
                     site_id=course.site_id, changes=changed)
    db.session.commit()
    return changed


def add_session(course: Course, session_id: int | None, *, actor: Actor) -> WorkshopSession:
    """Put an upcoming session of the course's site, in no other course, into the course."""
    staff_access.require_actor(actor, Action.EDIT_CATALOGUE, course.site_id)
    session = db.session.get(WorkshopSession, session_id) if session_id is not None else None
    if session is None or session.site_id != course.site_id:
        raise ValidationFailed("course_session_unknown",
                               _("Choisissez une séance à venir de ce lieu."),
                               field="session_id")
    if session.course_id == course.id:
        raise Conflict("course_session_already_in", _("Cette séance fait déjà partie du "
                                                      "parcours."))
    if session.course_id is not None:
        raise Conflict("course_session_in_other_course",
                       _("Cette séance fait déjà partie d'un autre parcours."))
    if session.status is not SessionStatus.SCHEDULED or session.starts_at <= now():
        raise ValidationFailed("course_session_not_upcoming",
                               _("Seule une séance prévue et à venir peut rejoindre un "
                                 "parcours."), field="session_id")
    session.course_id = course.id
    audit.record(actor, "course.session_added", object_type="course", object_id=course.id,
                 site_id=course.site_id, changes={"session_id": {"before": None,
                                                                 "after": session.id}})
    db.session.commit()
    db.session.refresh(course)
    return session


def remove_session(course: Course, session_id: int, *, actor: Actor) -> None:
    """Take a session out of the course; refused for one that happened with attendance (the
    course's attestations rest on it), or when the threshold would exceed what is left."""
    staff_access.require_actor(actor, Action.EDIT_CATALOGUE, course.site_id)
    session = db.session.get(WorkshopSession, session_id)
    if session is None or session.course_id != course.id:
        raise NotFound("not_found", _("Cette séance ne fait pas partie du parcours."))
    attended = db.session.scalar(
        db.select(func.count(Booking.id)).where(Booking.session_id == session.id,
                                                Booking.status.in_(ATTENDANCE))) or 0
    if session.starts_at <= now() and attended:
        raise Conflict("course_session_attended", _(
            "Cette séance a eu lieu et les présences sont notées : elle reste dans le "
            "parcours."))
    left = len([s for s in given_sessions(course) if s.id != session.id])
    minimum = course.min_sessions_attended
    if course.completion_rule is CompletionRule.THRESHOLD and minimum and minimum > left:
        raise Conflict("course_threshold_too_high", ngettext(
            "Le parcours demande de suivre au moins %(min)d séances : il n'en resterait que "
            "%(num)d. Baissez d'abord ce nombre.",
            "Le parcours demande de suivre au moins %(min)d séances : il n'en resterait que "
            "%(num)d. Baissez d'abord ce nombre.", left, min=minimum))
    session.course_id = None
    audit.record(actor, "course.session_removed", object_type="course", object_id=course.id,
                 site_id=course.site_id, changes={"session_id": {"before": session.id,
                                                                 "after": None}})
    db.session.commit()
    db.session.refresh(course)
