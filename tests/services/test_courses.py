"""Courses (``services/courses.py``): checked facts, the completion rule against the number of
sessions, sessions added from the course's site and in no other course, removal refused once a
session happened with attendance, the audit, who may act where."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import AuditEvent, Course, StaffSiteRole
from portal.models.vocab import BookingStatus, CompletionRule, SessionStatus, StaffRole
from portal.services import courses
from portal.services.audit import Actor
from portal.services.courses import CourseInput
from portal.services.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.services.staff_access import Action

pytestmark = pytest.mark.usefixtures("frozen")


def form(where, **changes) -> CourseInput:
    values = {"title": "Parcours e-mail", "description": "Trois séances.",
              "site": str(where.id), "objectives": "Écrire un e-mail"}
    values.update(changes)
    return CourseInput(**values)


def actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def course(site, actor) -> Course:
    return courses.create(form(site), actor=actor)


def test_a_course_is_created_and_audited(course, site):
    assert course.site_id == site.id
    assert course.completion_rule is CompletionRule.ALL_SESSIONS
    (event,) = db.session.scalars(db.select(AuditEvent))
    assert event.action == "course.created"
    assert event.details["changes"]["title"]["after"] == "Parcours e-mail"


def test_bad_fields_are_named(site, actor):
    with pytest.raises(ValidationFailed) as failure:
        courses.create(form(site, title="", site="9999", completion_rule="some",
                            objectives="\x00"), actor=actor)
    assert set(failure.value.details["fields"]) == {"title", "site", "completion_rule",
                                                    "objectives"}
    assert db.session.scalar(db.select(db.func.count(Course.id))) == 0


def test_the_threshold_lies_between_one_and_the_number_of_sessions(course, site, actor,
                                                                   factory):
    threshold = {"completion_rule": "threshold", "min_sessions": "1"}
    with pytest.raises(ValidationFailed) as failure:  # no sessions yet
        courses.update(course, form(site, **threshold), actor=actor)
    assert list(failure.value.details["fields"]) == ["min_sessions"]
    for days in (3, 10):
        courses.add_session(course, factory.session(site, starts_in=timedelta(days=days)).id,
                            actor=actor)
    for bad in ("0", "3", "deux"):
        with pytest.raises(ValidationFailed):
            courses.update(course, form(site, completion_rule="threshold", min_sessions=bad),
                           actor=actor)
    changed = courses.update(course, form(site, completion_rule="threshold",
                                          min_sessions="2"), actor=actor)
    assert changed == {"completion_rule": {"before": "all_sessions", "after": "threshold"},
                       "min_sessions_attended": {"before": None, "after": 2}}
    first = course.sessions[0]
    with pytest.raises(Conflict) as refused:  # 2 needed, 1 would be left
        courses.remove_session(course, first.id, actor=actor)
    assert refused.value.code == "course_threshold_too_high"


def test_sessions_are_added_from_the_site_in_no_other_course_ordered_by_start(
        course, site, actor, factory):
    later = factory.session(site, starts_in=timedelta(days=10))
    sooner = factory.session(site, starts_in=timedelta(days=3))
    elsewhere = factory.session(factory.site(code="LEN", name="Lens"),
                                starts_in=timedelta(days=3))
    past = factory.session(site, starts_in=timedelta(days=-3))
    cancelled = factory.session(site, starts_in=timedelta(days=5),
                                status=SessionStatus.CANCELLED)
    other = Course(site_id=site.id, title="Autre parcours")
    db.session.add(other)
    db.session.commit()
    taken = factory.session(site, starts_in=timedelta(days=6), course_id=other.id)
    assert courses.addable_sessions(course) == [sooner, later]
    courses.add_session(course, later.id, actor=actor)
    courses.add_session(course, sooner.id, actor=actor)
    assert course.sessions == [sooner, later]
    for session_id, code in ((elsewhere.id, "course_session_unknown"),
                             (None, "course_session_unknown"),
                             (past.id, "course_session_not_upcoming"),
                             (cancelled.id, "course_session_not_upcoming"),
                             (taken.id, "course_session_in_other_course"),
                             (sooner.id, "course_session_already_in")):
        with pytest.raises((ValidationFailed, Conflict)) as refused:
            courses.add_session(course, session_id, actor=actor)
        assert refused.value.code == code
    assert actions().count("course.session_added") == 2


def test_a_session_that_happened_with_attendance_stays(course, site, actor, factory):
    upcoming = factory.session(site, starts_in=timedelta(days=3))
    courses.add_session(course, upcoming.id, actor=actor)
    held = factory.session(site, starts_in=timedelta(days=-2), course_id=course.id)
    factory.booking(held, factory.beneficiary(site), status=BookingStatus.PRESENT)
    held_empty = factory.session(site, starts_in=timedelta(days=-1), course_id=course.id)
    db.session.refresh(course)
    with pytest.raises(Conflict) as refused:
        courses.remove_session(course, held.id, actor=actor)
    assert refused.value.code == "course_session_attended"
    courses.remove_session(course, held_empty.id, actor=actor)
    courses.remove_session(course, upcoming.id, actor=actor)
    assert course.sessions == [held]
    with pytest.raises(NotFound):
        courses.remove_session(course, upcoming.id, actor=actor)
    assert actions().count("course.session_removed") == 2


def test_reception_sees_and_a_role_elsewhere_does_not_count(course, site, factory):
    other_site = factory.site(code="LEN", name="Lens")
    staff = factory.staff(site, StaffRole.RECEPTION)
    staff.roles.append(StaffSiteRole(site_id=other_site.id, role=StaffRole.ANIMATEUR))
    db.session.commit()
    assert courses.course_for(staff, course.id, Action.SEE_SESSIONS) is course
    with pytest.raises(NotAllowed):
        courses.course_for(staff, course.id, Action.EDIT_CATALOGUE)
    with pytest.raises(NotAllowed):
        courses.update(course, form(site, title="Autre"), actor=Actor.of(staff))
    with pytest.raises(NotAllowed):
        courses.create(form(site), actor=Actor.of(staff))
    mine = courses.create(form(other_site), actor=Actor.of(staff))
    stranger = factory.staff(factory.site(code="ARR", name="Arras"))
    with pytest.raises(NotFound):
        courses.course_for(stranger, mine.id, Action.SEE_SESSIONS)
    assert {c.id for c in courses.listing(staff)} == {course.id, mine.id}
    assert courses.listing(stranger) == []
