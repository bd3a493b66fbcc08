"""The network view: every site at a glance, for network administrators only.

Today's sessions across every site, the week's (Monday to Sunday, Paris days) per day and per
site, fill rates per site for the week and for the four weeks before it, the sites that have not
recorded activity for :data:`SILENT_DAYS` days, and the cheques taken per site per Paris month
over the last twelve months.

Everything is counted by the database: :func:`overview` runs a fixed number of queries whatever
the number of sites and sessions. Definitions:

- a *seat taken* is a booking that held a seat: booked, present or absent (an absent person
  kept the seat until the session was closed); *seats offered* are the capacities of the
  sessions not cancelled; the *fill rate* is taken / offered;
- *activity* is a session not cancelled that has started, or individual help recorded; a site
  whose last activity is older than :data:`SILENT_DAYS` days (or that has none) is *silent*;
- a cheque is *taken* at the site and in the Paris month of its redemption.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal

from portal import clock
from portal.extensions import db
from portal.models.bookings import Accompaniment, Booking
from portal.models.catalogue import Workshop, WorkshopSession
from portal.models.people import Site, StaffMember
from portal.models.vocab import SEAT_TAKEN, BookingStatus, SessionStatus
from portal.models.vouchers import Cheque
from portal.services import periods
from portal.services.staff_access import require_network_admin

#: a site with no activity for this many days is listed as silent.
SILENT_DAYS = 30
#: the fill rate is also given over this many weeks before the current one.
PAST_WEEKS = 4
#: cheques are counted per month over this many Paris months, the current one included.
CHEQUE_MONTHS = 12



@dataclass(frozen=True)
class Fill:
    """Seats taken out of seats offered."""

    taken: int = 0
    offered: int = 0

    @property
    def percent(self) -> int | None:
        """Rounded to the unit; ``None`` when no seat was offered."""
        return round(100 * self.taken / self.offered) if self.offered else None

    def __add__(self, other: Fill) -> Fill:
        return Fill(self.taken + other.taken, self.offered + other.offered)


@dataclass(frozen=True)
class TodaySession:
    session_id: int
    starts_at: datetime
    site: Site
    workshop: str
    status: SessionStatus
    capacity: int
    booked: int  # seats taken (booked, present or absent)
    waiting: int
    present: int

    @property
    def fill(self) -> Fill:
        offered = 0 if self.status is SessionStatus.CANCELLED else self.capacity
        return Fill(self.booked if offered else 0, offered)


@dataclass(frozen=True)
class WeekRow:
    """One site's week: sessions per day (Monday first) and fill rates."""

    site: Site
    sessions_per_day: list[int]
    week: Fill
    past_weeks: Fill

    @property
    def sessions(self) -> int:
        return sum(self.sessions_per_day)


@dataclass(frozen=True)
class SilentSite:
    site: Site
    last_activity: date | None  # a Paris day; None: never


@dataclass(frozen=True)
class ChequeRow:
    site: Site
    per_month: list[int]

    @property
    def total(self) -> int:
        return sum(self.per_month)


@dataclass(frozen=True)
class NetworkView:
    today: date
    sites: list[Site]
    today_sessions: list[TodaySession]
    week_days: list[date]  # Monday to Sunday
    week_rows: list[WeekRow]
    past_first: date  # the first day of the weeks before this one
    silent_since: date  # activity before this day does not count
    silent: list[SilentSite]
    months: list[date]  # the first day of each month, oldest first
    cheque_rows: list[ChequeRow]

    @property
    def past_last(self) -> date:
        """The Sunday before this week."""
        return self.week_days[0] - timedelta(days=1)

    @property
    def week_sessions_per_day(self) -> list[int]:
        return [sum(row.sessions_per_day[index] for row in self.week_rows)
                for index in range(len(self.week_days))]

    @property
    def week_fill(self) -> Fill:
        return sum((row.week for row in self.week_rows), Fill())

    @property
    def past_fill(self) -> Fill:
        return sum((row.past_weeks for row in self.week_rows), Fill())

    @property
    def cheques_per_month(self) -> list[int]:
        return [sum(row.per_month[index] for row in self.cheque_rows)
                for index in range(len(self.months))]

    @property
    def cheques_total(self) -> int:
        return sum(row.total for row in self.cheque_rows)


def _utc(day: date) -> datetime:
    """Midnight of a Paris day, in UTC."""
    return clock.paris_to_utc(datetime.combine(day, time()))


def day_index(column: Any, first: date, days: int) -> ColumnElement[int]:
    """SQL: the number of Paris days between ``first`` and the day holding ``column`` (a UTC
    timestamp inside the ``days`` days from ``first``)."""
    bounds = [_utc(first + timedelta(days=number)) for number in range(1, days)]
    if not bounds:
        return literal(0)
    return case(*((column < bound, index) for index, bound in enumerate(bounds)),
                else_=len(bounds))


def _booking_counts(*sessions: Any) -> Any:
    """Seats taken, people waiting and people present per session, as a subquery;
    ``sessions``: conditions on ``WorkshopSession`` bounding the sessions counted (never every
    session ever held: a department's million bookings on each opening otherwise)."""
    return (
        db.select(
            Booking.session_id,
            func.sum(case((Booking.status.in_(SEAT_TAKEN), 1), else_=0)).label("taken"),
            func.sum(case((Booking.status == BookingStatus.WAITLISTED, 1), else_=0)).label(
                "waiting"),
            func.sum(case((Booking.status == BookingStatus.PRESENT, 1), else_=0)).label(
                "present"),
        )
        .where(Booking.session_id.in_(db.select(WorkshopSession.id).where(*sessions)))
        .group_by(Booking.session_id)
        .subquery()
    )


def _today(sites: dict[int, Site], today: date) -> list[TodaySession]:
    shown = (WorkshopSession.starts_at >= _utc(today),
             WorkshopSession.starts_at < _utc(today + timedelta(days=1)),
             WorkshopSession.site_id.in_(list(sites)))
    counts = _booking_counts(*shown)
    query = (
        db.select(WorkshopSession.id, WorkshopSession.starts_at, WorkshopSession.site_id,
                  Workshop.title, WorkshopSession.status, WorkshopSession.capacity,
                  func.coalesce(counts.c.taken, 0), func.coalesce(counts.c.waiting, 0),
                  func.coalesce(counts.c.present, 0))
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .outerjoin(counts, counts.c.session_id == WorkshopSession.id)
        .where(*shown)
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
    )
    return [TodaySession(session_id, starts_at, sites[site_id], title, status, capacity,
                         int(taken), int(waiting), int(present))
            for (session_id, starts_at, site_id, title, status, capacity, taken, waiting,
                 present) in db.session.execute(query)]


def _fills(first: date, days: int, *, per_day: bool) -> dict[tuple[int, int], tuple[int, Fill]]:
    """(site, day index or 0) → (sessions not cancelled, fill) over ``days`` days."""
    shown = (WorkshopSession.starts_at >= _utc(first),
             WorkshopSession.starts_at < _utc(first + timedelta(days=days)),
             WorkshopSession.status != SessionStatus.CANCELLED)
    counts = _booking_counts(*shown)
    index = day_index(WorkshopSession.starts_at, first, days) if per_day else literal(0)
    # Each session with its day, then grouped outside: PostgreSQL would not match a CASE with
    # bound parameters in GROUP BY to the same CASE in the SELECT.
    rows = (
        db.select(WorkshopSession.site_id.label("site_id"), index.label("day"),
                  WorkshopSession.capacity.label("offered"),
                  func.coalesce(counts.c.taken, 0).label("taken"))
        .outerjoin(counts, counts.c.session_id == WorkshopSession.id)
        .where(*shown)
        .subquery()
    )
    query = (db.select(rows.c.site_id, rows.c.day, func.count(), func.sum(rows.c.offered),
                       func.sum(rows.c.taken))
             .group_by(rows.c.site_id, rows.c.day))
    return {(site_id, int(day)): (int(number), Fill(int(taken or 0), int(offered or 0)))
            for site_id, day, number, offered, taken in db.session.execute(query)}


def _week(sites: list[Site], monday: date) -> list[WeekRow]:
    week = _fills(monday, 7, per_day=True)
    past = _fills(monday - timedelta(weeks=PAST_WEEKS), 7 * PAST_WEEKS, per_day=False)
    rows = []
    for site in sites:
        days = [week.get((site.id, index), (0, Fill())) for index in range(7)]
        rows.append(WeekRow(site, [number for number, _fill in days],
                            sum((fill for _number, fill in days), Fill()),
                            past.get((site.id, 0), (0, Fill()))[1]))
    return rows


def _silent(sites: list[Site], since: date, at: datetime) -> list[SilentSite]:
    """Sites without a session held or help recorded since ``since`` (a Paris day)."""
    last: dict[int, datetime] = {}
    # Each site's latest session held and latest help, looked up per site from the latest
    # backwards (by site), not every session and help ever recorded grouped by site.
    held = (db.select(WorkshopSession.starts_at)
            .where(WorkshopSession.site_id == Site.id,
                   WorkshopSession.status != SessionStatus.CANCELLED,
                   WorkshopSession.starts_at <= at)
            .order_by(WorkshopSession.starts_at.desc()).limit(1).scalar_subquery())
    helped = (db.select(Accompaniment.started_at)
              .where(Accompaniment.site_id == Site.id, Accompaniment.started_at <= at)
              .order_by(Accompaniment.started_at.desc()).limit(1).scalar_subquery())
    for site_id, *moments in db.session.execute(
            db.select(Site.id, held, helped).where(Site.id.in_([site.id for site in sites]))):
        found = [moment for moment in map(_aware, moments) if moment is not None]
        if found:
            last[site_id] = max(found)
    start = _utc(since)
    silent = [SilentSite(site, clock.local(last[site.id]).date() if site.id in last else None)
              for site in sites if site.id not in last or last[site.id] < start]
    return sorted(silent, key=lambda row: (row.last_activity or date.min, row.site.name))


def _aware(moment: Any) -> datetime | None:
    """``max()`` of a UTC column comes back as a string or a naive value on SQLite."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _cheques(sites: list[Site], today: date) -> tuple[list[date], list[ChequeRow]]:
    first = today.replace(day=1)
    for _step in range(CHEQUE_MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    period = periods.days(first, periods.month(today).last)
    rows = (
        db.select(Cheque.site_id.label("site_id"),
                  period.month_index(Cheque.redeemed_at).label("month"))
        .where(Cheque.redeemed_at >= period.utc_start, Cheque.redeemed_at < period.utc_end,
               Cheque.site_id.is_not(None))
        .subquery()
    )
    query = (db.select(rows.c.site_id, rows.c.month, func.count())
             .group_by(rows.c.site_id, rows.c.month))
    found: dict[int, dict[int, int]] = defaultdict(dict)
    for site_id, month, number in db.session.execute(query):
        found[site_id][int(month)] = int(number)
    months = period.months()
    return months, [ChequeRow(site, [found[site.id].get(index, 0) for index in range(len(months))])
                    for site in sites]


def overview(staff: StaffMember) -> NetworkView:
    """The network view; anyone but a network administrator is refused (a 403)."""
    require_network_admin(staff)
    at = clock.now()
    today = clock.today_local()
    monday = today - timedelta(days=today.weekday())
    sites = list(db.session.scalars(
        db.select(Site).where(Site.is_active.is_(True)).order_by(Site.name, Site.id)))
    by_id = {site.id: site for site in sites}
    since = today - timedelta(days=SILENT_DAYS)
    months, cheque_rows = _cheques(sites, today)
    return NetworkView(
        today=today, sites=sites, today_sessions=_today(by_id, today),
        week_days=[monday + timedelta(days=number) for number in range(7)],
        week_rows=_week(sites, monday), past_first=monday - timedelta(weeks=PAST_WEEKS),
        silent_since=since, silent=_silent(sites, since, at), months=months,
        cheque_rows=cheque_rows)
