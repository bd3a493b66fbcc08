"""Reading the catalogue: upcoming sessions for the public and for beneficiaries' search."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from functools import lru_cache
from typing import Any, TypeVar

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Integer, bindparam, case, func
from sqlalchemy.orm import (
    Load,
    QueryableAttribute,
    defaultload,
    joinedload,
    load_only,
    selectinload,
)

from portal import paging
from portal.clock import PARIS, now
from portal.extensions import db
from portal.formatting import long_date
from portal.forms import parse_id
from portal.models.catalogue import Course, Workshop, WorkshopSession, WorkshopTheme
from portal.models.people import Site, StaffMember
from portal.models.vocab import Level, SessionStatus, Theme
from portal.services import search as search_words

E = TypeVar("E", bound=Enum)

MAX_RESULTS = 60


@lru_cache(maxsize=64)
def as_listed(*via: QueryableAttribute[object]) -> tuple[Load, ...]:
    """Loader options for sessions as the read pages show them (``via``: the relationships
    that lead to the sessions, e.g. ``Booking.session``): the workshop and site come joined;
    what no read page shows is not loaded: the workshop's themes and sub-themes, the
    animator's roles (only their name is shown). Built once per ``via`` (options are
    immutable; every read page asks for them)."""
    session = defaultload(*via) if via else None

    def path(attribute: QueryableAttribute[object]) -> Load:
        return (session.defaultload(attribute) if session is not None
                else defaultload(attribute))

    workshop, animator = path(WorkshopSession.workshop), path(WorkshopSession.animator)
    return (workshop.lazyload(Workshop.theme_links), workshop.lazyload(Workshop.subtheme_links),
            animator.lazyload(StaffMember.roles))


@lru_cache(maxsize=2)
def _upcoming_statement(at_site: bool) -> Any:
    """The statement of :func:`upcoming_sessions`, built once (its values bound per call)."""
    query = (
        db.select(WorkshopSession)
        .options(joinedload(WorkshopSession.workshop), joinedload(WorkshopSession.site),
                 *as_listed())
        .where(WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.starts_at > bindparam("after", type_=WorkshopSession.starts_at.type))
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if at_site:
        query = query.where(WorkshopSession.site_id == bindparam("site_id", type_=Integer))
    return query


def upcoming_sessions(*, limit: int = 20, site_id: int | None = None) -> list[WorkshopSession]:
    """Scheduled sessions that have not started yet, soonest first."""
    values: dict[str, Any] = {"after": now(), "limit": limit}
    if site_id is not None:
        values["site_id"] = site_id
    return list(db.session.scalars(_upcoming_statement(site_id is not None), values).unique())


#: the longest search text used (the search field has the same ``maxlength``).
MAX_TEXT_LENGTH = 80
#: how far ahead the week filter reaches (the list offers the first few weeks).
WEEKS_AHEAD = 52
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class FilterProblem:
    """A filter value that could not be used: named to the person, then left out."""

    field: str  # the query parameter: q, site, theme, niveau, semaine
    message: str


@dataclass(frozen=True)
class SearchFilters:
    """What a person asked for; every field is optional. A value that cannot be used is left
    out of the search and named in ``problems``, so the page says why."""

    text: str = ""
    site_id: int | None = None
    theme: Theme | None = None
    level: Level | None = None
    week: date | None = None  # the Monday of the week wanted
    seats_left_only: bool = False
    problems: tuple[FilterProblem, ...] = ()


def read_filters(args: Mapping[str, str]) -> SearchFilters:
    """The search filters of a query string (``q``, ``site``, ``theme``, ``niveau``,
    ``semaine``, ``places``), each checked: a bad value never reaches the database."""
    problems: list[FilterProblem] = []

    def refuse(field_name: str, message: str) -> None:
        problems.append(FilterProblem(field_name, message))

    text = " ".join(_CONTROL.sub(" ", args.get("q") or "").split())
    if len(text) > MAX_TEXT_LENGTH:
        text = text[:MAX_TEXT_LENGTH].rstrip()
        refuse("q", ngettext("Votre recherche est trop longue : seul le premier caractère est "
                             "utilisé.",
                             "Votre recherche est trop longue : seuls les %(num)d premiers "
                             "caractères sont utilisés.", MAX_TEXT_LENGTH))
    site_id = None
    if args.get("site"):
        site_id = _active_site_id(args["site"])
        if site_id is None:
            refuse("site", _("Ce lieu n'existe pas. Les ateliers de tous les lieux sont "
                             "affichés."))
    theme = _member(Theme, args.get("theme"))
    if args.get("theme") and theme is None:
        refuse("theme", _("Ce thème n'existe pas. Les ateliers de tous les thèmes sont "
                          "affichés."))
    level = _member(Level, args.get("niveau"))
    if args.get("niveau") and level is None:
        refuse("niveau", _("Ce niveau n'existe pas. Les ateliers de tous les niveaux sont "
                           "affichés."))
    week = None
    if args.get("semaine"):
        week = _week(args["semaine"])
        if week is None:
            first, last = week_range()
            refuse("semaine", _("Choisissez une semaine entre le %(first)s et le %(last)s. "
                                "Les ateliers de toutes les semaines sont affichés.",
                                first=long_date(first), last=long_date(last)))
    return SearchFilters(text=text, site_id=site_id, theme=theme, level=level, week=week,
                         seats_left_only=args.get("places") == "1", problems=tuple(problems))


def _member(enum: type[E], raw: str | None) -> E | None:
    try:
        return enum(raw) if raw else None
    except ValueError:
        return None


def _active_site_id(raw: str) -> int | None:
    """The id of an active site, or None ("²", 20 digits, an unknown or closed site)."""
    site_id = parse_id(raw)
    if site_id is None:
        return None
    return db.session.scalar(db.select(Site.id).where(Site.id == site_id,
                                                      Site.is_active.is_(True)))


def week_range() -> tuple[date, date]:
    """The first and last Mondays the week filter accepts: this week, a year ahead."""
    today = now().astimezone(PARIS).date()
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(weeks=WEEKS_AHEAD)


def _week(raw: str) -> date | None:
    """The Monday of the week of an ISO date within :func:`week_range`, else None."""
    try:
        chosen = date.fromisoformat(raw)
    except ValueError:
        return None
    first, last = week_range()
    if not first <= chosen < last + timedelta(days=7):
        return None
    return chosen - timedelta(days=chosen.weekday())


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


#: results shown on one page of Find.
PAGE_SIZE = 20


def _matching(filters: SearchFilters, home_site_id: int | None, *columns: Any) -> Any:
    """The statement of the upcoming sessions matching the filters (``columns`` selected),
    the person's usual site first, then soonest first."""
    query = (
        db.select(*columns)
        .join(WorkshopSession.workshop)
        .outerjoin(Course, WorkshopSession.course_id == Course.id)
        .where(WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.starts_at > now(), Workshop.is_active.is_(True))
    )
    for word in search_words.words_of(filters.text):
        themed = (Workshop.id.in_(db.select(WorkshopTheme.workshop_id)
                                  .where(WorkshopTheme.theme.in_(word.themes)))
                  if word.themes else None)
        query = query.where(search_words.matching(word, Workshop.search_text,
                                                  Course.search_text, themed=themed))
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
    return query.order_by(*([home_first] if home_first is not None else []), *order)


def _loaded(query: Any) -> Any:
    """What a result card shows: the workshop, the site, a course and its number of
    sessions (its sessions read in one query, without their workshops: only counted)."""
    course_sessions = selectinload(WorkshopSession.course).selectinload(Course.sessions)
    return query.options(joinedload(WorkshopSession.workshop), joinedload(WorkshopSession.site),
                         course_sessions.lazyload(WorkshopSession.workshop),
                         course_sessions.lazyload(WorkshopSession.site), *as_listed())


def search(filters: SearchFilters, *, home_site_id: int | None = None,
           limit: int = MAX_RESULTS) -> list[WorkshopSession | CourseItem]:
    """Upcoming sessions matching the filters, the person's usual site first.

    Sessions of a course are grouped into one item placed at its first matching session.
    """
    query = _loaded(_matching(filters, home_site_id, WorkshopSession))
    sessions = db.session.scalars(query.limit(limit)).unique().all()
    return _group_courses(list(sessions))


def _matching_ids(filters: SearchFilters, home_site_id: int | None) -> list[Any]:
    """(id, course id) of the first ``MAX_RESULTS`` matching sessions, in :func:`search`'s
    order. The person's site first is two reads in start order, each served by an index, not
    one sort of every matching session of the year."""
    ids = (WorkshopSession.id, WorkshopSession.course_id)
    if home_site_id is None or filters.site_id is not None:
        return list(db.session.execute(_matching(filters, None, *ids).limit(MAX_RESULTS)))
    home = list(db.session.execute(
        _matching(filters, None, *ids).where(WorkshopSession.site_id == home_site_id)
        .limit(MAX_RESULTS)))
    return home + list(db.session.execute(
        _matching(filters, None, *ids).where(WorkshopSession.site_id != home_site_id)
        .limit(MAX_RESULTS - len(home))))


@lru_cache(maxsize=1)
def _page_statement() -> Any:
    """The sessions of a page of results with what the cards show (``ids`` bound per
    request): built once."""
    return _loaded(db.select(WorkshopSession)).where(
        WorkshopSession.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class ResultPage:
    """One page of Find: its items (sessions, courses) and where it stands."""

    items: list[WorkshopSession | CourseItem]
    pages: paging.Pages


def search_page(filters: SearchFilters, *, home_site_id: int | None = None,
                page: int = 1) -> ResultPage:
    """The results of :func:`search` (at most ``MAX_RESULTS`` sessions), ``PAGE_SIZE`` items a
    page. Two queries whatever the page: the matching ids (small rows), then the sessions of
    the page with what the cards show."""
    rows = _matching_ids(filters, home_site_id)
    items: list[list[int]] = []  # the session ids of each item, in order
    courses: dict[int, list[int]] = {}
    for session_id, course_id in rows:
        if course_id is None:
            items.append([session_id])
        elif course_id in courses:
            courses[course_id].append(session_id)
        else:
            courses[course_id] = [session_id]
            items.append(courses[course_id])
    pages = paging.pages_of(len(items), PAGE_SIZE, page)
    shown = [i for item in items[pages.offset:pages.offset + PAGE_SIZE] for i in item]
    if not shown:
        return ResultPage([], pages)
    loaded = {s.id: s for s in db.session.scalars(_page_statement(), {"ids": shown}).unique()}
    return ResultPage(_group_courses([loaded[i] for i in shown if i in loaded]), pages)


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


def course_sessions(course: Course) -> list[WorkshopSession]:
    """The scheduled, upcoming sessions of a course."""
    at = now()
    return [s for s in course.sessions if s.status is SessionStatus.SCHEDULED and s.starts_at > at]


def week_choices(weeks: int = 6, chosen: date | None = None) -> list[date]:
    """The Mondays of this week and the next ones, for the week filter, with the week
    chosen if it is further (a link kept from an earlier search)."""
    monday, _last = week_range()
    mondays = [monday + timedelta(weeks=n) for n in range(weeks)]
    if chosen is not None and chosen not in mondays:
        mondays.append(chosen)
    return sorted(mondays)


@dataclass(frozen=True)
class TextBlock:
    """A block of a plain-text description: a paragraph (its lines) or a list (its items)."""

    kind: str  # "paragraph" or "list"
    lines: tuple[str, ...]


_LIST_MARK = re.compile(r"^\s*(?:-|•)\s+")


def description_blocks(text: str | None) -> list[TextBlock]:
    """A description as its staff member typed it, in blocks: a blank line starts a new
    paragraph, lines starting with "- " or "• " form a list. Never HTML: the template escapes
    every line. The beneficiary's pages and the staff preview both show it this way."""
    blocks: list[TextBlock] = []
    kind, lines = "", []  # the block being read

    def flush() -> None:
        nonlocal kind, lines
        if lines:
            blocks.append(TextBlock(kind, tuple(lines)))
        kind, lines = "", []

    for raw in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
            continue
        item = _LIST_MARK.match(raw)
        line_kind = "list" if item else "paragraph"
        if kind and kind != line_kind:
            flush()
        kind = line_kind
        lines.append(raw[item.end():].strip() if item else line)
    flush()
    return blocks


#: sites shown on one page of the home page's "Nous trouver".
SITES_PAGE_SIZE = 12


@lru_cache(maxsize=1)
def _sites_statements() -> tuple[Any, Any]:
    """The two statements of :func:`sites_page`, built once (the page bound per call)."""
    active = Site.is_active.is_(True)
    count = db.select(func.count(Site.id)).where(active)
    page = (db.select(Site).options(load_only(Site.name, Site.description, Site.address,
                                              Site.postcode, Site.city, Site.phone,
                                              Site.opening_hours))
            .where(active).order_by(Site.name, Site.id)
            .limit(bindparam("limit", type_=Integer))
            .offset(bindparam("offset", type_=Integer)))
    return count, page


def sites_page(page: int = 1) -> tuple[list[Site], paging.Pages]:
    """The active sites by name, ``SITES_PAGE_SIZE`` a page, with the columns the home page
    shows of them (two small queries whatever the size of the network)."""
    count, listed = _sites_statements()
    total = db.session.scalar(count) or 0
    pages = paging.pages_of(total, SITES_PAGE_SIZE, page)
    sites = db.session.scalars(listed, {"limit": SITES_PAGE_SIZE, "offset": pages.offset}).all()
    return list(sites), pages
