"""The programme of a site: its sessions by week (rooms × days) and by month, with fill rates,
and the printable monthly programme for the notice board.

Reading only, in a fixed number of queries whatever the number of sessions: one for the
sessions with their workshops and waiting lists (and one for the workshops' themes when the
programme is printed). Days are Paris days: a week runs from Monday 00:00 to the next Monday
00:00 in Europe/Paris, whatever the change of time in between.

The printed programme is not a numbered document: it is laid out on demand from the sessions
as they are, and nothing of it is stored.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.orm import defaultload

from portal.clock import PARIS, now
from portal.extensions import db
from portal.formatting import (
    count,
    day_without_year,
    full_date,
    hour,
    long_date,
    month_year,
    upper_first,
)
from portal.models.bookings import Booking
from portal.models.catalogue import Workshop, WorkshopSession
from portal.models.people import Site, StaffMember
from portal.models.vocab import BookingStatus, SessionStatus, Theme
from portal.pdf.documents import programme_pdf
from portal.services import scheduling, staff_access
from portal.services.errors import ValidationFailed
from portal.services.staff_access import Action

#: the printed programme is in French, whatever the language of the screen that asks for it.
DOCUMENT_LOCALE = "fr"


class Paper(StrEnum):
    """The printed programme's paper: A4 for the desk, A3 for the notice board."""

    A4 = "A4"
    A3 = "A3"


@dataclass(frozen=True)
class Entry:
    """One session of the calendar with its fill: ``taken`` of ``capacity`` seats."""

    session: WorkshopSession
    waitlisted: int

    @property
    def taken(self) -> int:
        return self.session.seats_taken

    @property
    def capacity(self) -> int:
        return self.session.capacity

    @property
    def cancelled(self) -> bool:
        return self.session.status is SessionStatus.CANCELLED

    @property
    def room(self) -> str:
        return self.session.room.strip()

    @property
    def changeable(self) -> bool:
        """Still open to an edit (scheduled, not started)."""
        return scheduling.can_change(self.session)

    @property
    def day(self) -> date:
        return self.session.starts_at.astimezone(PARIS).date()


@dataclass(frozen=True)
class Week:
    site: Site
    days: list[date]  # Monday … Sunday
    rooms: list[str]  # every room of the week's sessions, by name ("" last: no room given)
    entries: list[Entry]

    @property
    def start(self) -> date:
        return self.days[0]

    @property
    def previous(self) -> date:
        return self.start - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.start + timedelta(days=7)

    def cell(self, room: str, day: date) -> list[Entry]:
        return [e for e in self.entries if e.room == room and e.day == day]

    def on(self, day: date) -> list[Entry]:
        return [e for e in self.entries if e.day == day]


@dataclass(frozen=True)
class Month:
    site: Site
    first: date
    entries: list[Entry]
    days: list[tuple[date, list[Entry]]] = field(default_factory=list)  # days with sessions

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)


def sites_for(staff: StaffMember) -> list[Site]:
    """The sites whose programme the staff member may see, by name."""
    return staff_access.sites_for(staff, Action.SEE_SESSIONS)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def today() -> date:
    return now().astimezone(PARIS).date()


#: the years a programme may be asked for (a week around year 1 or 9999 cannot be computed).
YEARS = range(2000, 2101)


def parse_day(text: str | None) -> date | None:
    """A day written ``2026-12-07`` (years 2000 to 2100); None for anything else (the caller
    says so and uses today)."""
    value = (text or "").strip()
    if len(value) != 10:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day.year in YEARS else None


def parse_month(text: str | None) -> date | None:
    """The first day of a month written ``2026-12``; None for anything else."""
    value = (text or "").strip()
    if len(value) != 7:
        return None
    return parse_day(value + "-01")


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, PARIS)


def entries_between(site: Site, first: date, last: date, *,
                    themes: bool = False) -> list[Entry]:
    """The site's sessions from ``first`` to ``last`` (Paris days, both included), by start,
    with their waiting lists; cancelled ones included (the calendar says they are).
    ``themes``: their workshops' themes loaded too (in one more statement)."""
    shown = (WorkshopSession.site_id == site.id,
             WorkshopSession.starts_at >= _paris_midnight(first),
             WorkshopSession.starts_at < _paris_midnight(last + timedelta(days=1)))
    # the waiting lists of these sessions only (not of every session ever held)
    waiting = (
        db.select(Booking.session_id, func.count().label("waitlisted"))
        .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
        .where(Booking.status == BookingStatus.WAITLISTED, *shown)
        .group_by(Booking.session_id).subquery())
    statement = (
        db.select(WorkshopSession, waiting.c.waitlisted)
        .outerjoin(waiting, waiting.c.session_id == WorkshopSession.id)
        .where(*shown)
        .order_by(WorkshopSession.starts_at, WorkshopSession.room, WorkshopSession.id))
    if themes:
        statement = statement.options(
            defaultload(WorkshopSession.workshop).selectinload(Workshop.theme_links))
    rows = db.session.execute(statement)
    return [Entry(session, waitlisted or 0) for session, waitlisted in rows.unique()]


def _rooms(entries: list[Entry]) -> list[str]:
    named = sorted({e.room for e in entries if e.room}, key=str.casefold)
    return named + ([""] if any(not e.room for e in entries) else [])


def week(staff: StaffMember, site: Site, day: date) -> Week:
    """The week (Monday to Sunday) holding ``day``: rooms × days."""
    staff_access.require(staff, Action.SEE_SESSIONS, site.id)
    start = monday_of(day)
    days = [start + timedelta(days=n) for n in range(7)]
    entries = entries_between(site, days[0], days[-1])
    return Week(site, days, _rooms(entries), entries)


def month(staff: StaffMember, site: Site, first: date) -> Month:
    """The month starting on ``first``: its days that have sessions, each with its sessions."""
    staff_access.require(staff, Action.SEE_SESSIONS, site.id)
    first = first.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    entries = entries_between(site, first, last)
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_day[entry.day].append(entry)
    return Month(site, first, entries, sorted(by_day.items()))


# --- the printed programme --------------------------------------------------------------------


def _theme_of(workshop: Workshop) -> Theme | None:
    return workshop.themes[0] if workshop.themes else None


def programme_data(site: Site, first: date, paper: Paper,
                   booking_url: Callable[[Workshop], str]) -> dict[str, Any]:
    """What the printed programme shows, as plain data in French: weeks, then themes, then the
    sessions of each (cancelled ones left out), and one booking address per workshop."""
    first = first.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    entries = [e for e in entries_between(site, first, last, themes=True) if not e.cancelled]
    fr = DOCUMENT_LOCALE
    weeks: dict[date, dict[Theme | None, list[dict[str, str]]]] = defaultdict(
        lambda: defaultdict(list))
    workshops: dict[int, Workshop] = {}
    for entry in entries:
        session = entry.session
        workshops.setdefault(session.workshop_id, session.workshop)
        left = session.seats_left
        weeks[monday_of(entry.day)][_theme_of(session.workshop)].append({
            "day": upper_first(day_without_year(session.starts_at, fr)),
            "time": f"{hour(session.starts_at, fr)}–{hour(session.ends_at, fr)}",
            "title": session.workshop.title,
            "room": entry.room,
            "seats": (count(left, "%(num)s place libre", "%(num)s places libres", fr)
                      + " sur " + str(session.capacity)) if left else "Complet",
            "price": _price(session.workshop.price_cheques),
        })
    theme_order = {theme: n for n, theme in enumerate(Theme)}
    month_name = month_year(first, fr)
    title = f"Programme de {month_name} – {site.name}"
    return {
        "doc_title": title, "pdf_title": title, "lang": fr, "paper": paper.value,
        "month": month_name,
        "site": {"name": site.name, "address": site.address,
                 "town": " ".join(p for p in (site.postcode, site.city) if p),
                 "phone": site.phone, "email": site.email},
        "weeks": [{
            "title": _week_title(monday, first, last),
            "themes": [{"label": str(theme.label) if theme else "Autres ateliers",
                        "sessions": sessions}
                       for theme, sessions in sorted(
                           themes.items(),
                           key=lambda item: theme_order.get(item[0], len(theme_order)))],
        } for monday, themes in sorted(weeks.items())],
        "workshops": [{"title": w.title, "price": _price(w.price_cheques),
                       "url": booking_url(w)}
                      for w in sorted(workshops.values(), key=lambda w: w.title.casefold())],
    }


def _price(cheques_count: int) -> str:
    """``Gratuit``, ``1 chèque APTIC``, ``2 chèques APTIC``: the document's own French."""
    if cheques_count == 0:
        return "Gratuit"
    return count(cheques_count, "%(num)s chèque APTIC", "%(num)s chèques APTIC",
                 DOCUMENT_LOCALE)


def _week_title(monday: date, first: date, last: date) -> str:
    """``Semaine du 7 au 13 décembre``, cut to the month: ``du 1er au 6 décembre``."""
    start, end = max(monday, first), min(monday + timedelta(days=6), last)
    fr = DOCUMENT_LOCALE
    return f"Du {long_date(start, fr)} au {full_date(end, fr)}".replace(
        f" {start.year} au", " au")


def print_programme(staff: StaffMember, site: Site, first: date, paper: str,
                    booking_url: Callable[[Workshop], str]) -> bytes:
    """The month's programme as a tagged PDF (A4 or A3); a month without a session is refused
    rather than printed empty."""
    staff_access.require(staff, Action.PRINT_PROGRAMME, site.id)
    try:
        chosen = Paper(paper)
    except ValueError:
        raise ValidationFailed("bad_paper", _("Choisissez le format A4 ou A3."),
                               field="format") from None
    data = programme_data(site, first, chosen, booking_url)
    if not data["weeks"]:
        raise ValidationFailed(
            "empty_programme",
            _("Aucune séance prévue en %(month)s dans ce lieu : il n'y a rien à imprimer.",
              month=month_year(first)), field="mois")
    return programme_pdf(data)

