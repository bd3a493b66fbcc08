"""Reading the catalogue: upcoming sessions for the public and for beneficiaries' search."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, or_
from sqlalchemy.orm import joinedload, selectinload

from portal.clock import PARIS, now
from portal.extensions import db
from portal.models.catalogue import Course, Workshop, WorkshopSession, WorkshopTheme
from portal.models.vocab import Level, SessionStatus, Theme

MAX_RESULTS = 60


def upcoming_sessions(*, limit: int = 20, site_id: int | None = None) -> list[WorkshopSession]:
    """Scheduled sessions that have not started yet, soonest first."""
    query = (
        db.select(WorkshopSession)
        .options(joinedload(WorkshopSession.workshop), joinedload(WorkshopSession.site))
        .where(WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.starts_at > now())
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
        .limit(limit)
    )
    if site_id is not None:
        query = query.where(WorkshopSession.site_id == site_id)
    return list(db.session.scalars(query).unique())


@dataclass(frozen=True)
class SearchFilters:
    """What a person asked for; every field is optional. Bad values are simply ignored."""

    text: str = ""
    site_id: int | None = None
    theme: Theme | None = None
    level: Level | None = None
    week: date | None = None  # the Monday of the week wanted
    seats_left_only: bool = False

    @classmethod
    def from_args(cls, args: dict[str, str]) -> SearchFilters:
        def pick(enum: type, raw: str | None):  # type: ignore[no-untyped-def]
            try:
                return enum(raw) if raw else None
            except ValueError:
                return None

        site = (args.get("site") or "").strip()
        week = None
        try:
            if args.get("semaine"):
                chosen = date.fromisoformat(args["semaine"])
                week = chosen - timedelta(days=chosen.weekday())
        except ValueError:
            week = None
        return cls(
            text=(args.get("q") or "").strip()[:80],
            site_id=int(site) if site.isdigit() else None,
            theme=pick(Theme, args.get("theme")),
            level=pick(Level, args.get("niveau")),
            week=week,
            seats_left_only=args.get("places") == "1",
        )


@dataclass
class CourseItem:
    """A course shown as one item, with its upcoming sessions."""

    course: Course
    sessions: list[WorkshopSession] = field(default_factory=list)
    is_course = True  # tells templates a course item from a session

    @property
    def starts_at(self) -> datetime:
        return self.sessions[0].starts_at

    @property
    def seats_left(self) -> int:
        return min(s.seats_left for s in self.sessions)


def search(filters: SearchFilters, *, home_site_id: int | None = None,
           limit: int = MAX_RESULTS) -> list[WorkshopSession | CourseItem]:
    """Upcoming sessions matching the filters, the person's usual site first.

    Sessions of a course are grouped into one item placed at its first matching session.
    """
    at = now()
    query = (
        db.select(WorkshopSession)
        .join(WorkshopSession.workshop)
        .options(joinedload(WorkshopSession.workshop), joinedload(WorkshopSession.site),
                 selectinload(WorkshopSession.course))
        .where(WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.starts_at > at, Workshop.is_active.is_(True))
    )
    if filters.text:
        pattern = f"%{_escape_like(filters.text.lower())}%"
        query = query.where(or_(db.func.lower(Workshop.title).like(pattern, escape="\\"),
                                db.func.lower(Workshop.description).like(pattern, escape="\\")))
    if filters.site_id is not None:
        query = query.where(WorkshopSession.site_id == filters.site_id)
    if filters.theme is not None:
        query = query.where(Workshop.id.in_(
            db.select(WorkshopTheme.workshop_id).where(WorkshopTheme.theme == filters.theme)))
    if filters.level is not None:
        query = query.where(Workshop.level == filters.level)
    if filters.week is not None:
        start = datetime.combine(filters.week, time.min, PARIS)
        query = query.where(WorkshopSession.starts_at >= start,
                            WorkshopSession.starts_at < start + timedelta(days=7))
    if filters.seats_left_only:
        query = query.where(WorkshopSession.seats_taken < WorkshopSession.capacity)
    home_first = (case((WorkshopSession.site_id == home_site_id, 0), else_=1)
                  if home_site_id is not None else None)
    order = [WorkshopSession.starts_at, WorkshopSession.id]
    query = query.order_by(*([home_first] if home_first is not None else []), *order)
    sessions = db.session.scalars(query.limit(limit)).unique().all()
    return _group_courses(list(sessions))


def _group_courses(sessions: list[WorkshopSession]) -> list[WorkshopSession | CourseItem]:
    items: list[WorkshopSession | CourseItem] = []
    courses: dict[int, CourseItem] = {}
    for session in sessions:
        if session.course_id is None:
            items.append(session)
            continue
        item = courses.get(session.course_id)
        if item is None:
            item = courses[session.course_id] = CourseItem(session.course)  # type: ignore[arg-type]
            items.append(item)
        item.sessions.append(session)
    return items


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def course_sessions(course: Course) -> list[WorkshopSession]:
    """The scheduled, upcoming sessions of a course."""
    at = now()
    return [s for s in course.sessions if s.status is SessionStatus.SCHEDULED and s.starts_at > at]


def week_choices(weeks: int = 6) -> list[date]:
    """The Mondays of this week and the next ones, for the week filter."""
    today = now().astimezone(PARIS).date()
    monday = today - timedelta(days=today.weekday())
    return [monday + timedelta(weeks=n) for n in range(weeks)]
