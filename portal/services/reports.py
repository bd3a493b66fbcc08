"""Activity figures of a site or of the whole network for a period (the dashboard and the
printable report for a funder).

Every figure is computed by the database (COUNT / SUM / CASE aggregates grouped in SQL), in a
fixed number of queries whatever the number of rows. Days are Paris days (``periods``).

How the figures are counted (also shown on the dashboard):

- **sessions held**: sessions not cancelled whose start falls in the period and has come
  (a session later this month is not held yet);
- **seats offered**: the sum of their capacities; **seats taken**: their bookings booked,
  present or absent (``vocab.SEAT_TAKEN``: an excused person freed their seat);
- **attendance rate**: present / (present + absent + excused + still "booked" once the
  session is over); **no-show rate**: absent / the same;
- **waiting-list demand**: the places asked for on the waiting list of those sessions, whether
  the person was later given a seat or not (a booking waiting now, or one the audit trail says
  joined the waiting list: a promotion reuses the booking, so its status alone would forget it);
- **accompaniments**, as the national model counts them (docs/domain.md#activities): each
  person present at a session held is one collective accompaniment; each individual help
  recorded in the period is one individual accompaniment;
- **beneficiaries**: the distinct named people present at a session or helped individually
  in the period; *new* when they had no such activity anywhere before the period, else
  *returning*; help given to someone unnamed cannot be told apart and is counted aside;
- **hours**: the length of the sessions held; the duration of the individual help;
- **cheques**: those taken (redeemed) in the period at the site, by programme and by month;
- **breakdowns** of the accompaniments: a collective one takes its workshop's themes,
  equipment, the session's length and "on site"; the person's gender, status, commune and age
  bracket (from the year of birth, at the activity's year). An unnamed individual help uses its
  own fields. An accompaniment with two themes counts once under each.

Access: ``SEE_REPORTS`` at the site (animateur, administrator); the whole network is the
network administrator's; another site is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union,
    union_all,
)

from portal import clock
from portal.extensions import db
from portal.folding import fold
from portal.formatting import month_year
from portal.models.audit import AuditEvent
from portal.models.bookings import Accompaniment, AccompanimentSubtheme, AccompanimentTheme, Booking
from portal.models.catalogue import Workshop, WorkshopSession, WorkshopSubtheme, WorkshopTheme
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.vocab import (
    AGE_BRACKETS,
    SEAT_TAKEN,
    AdminSubtheme,
    BookingStatus,
    Equipment,
    Gender,
    PlaceType,
    SessionStatus,
    SocialStatus,
    Theme,
)
from portal.models.vouchers import Cheque, ChequeProgramme
from portal.services import staff_access
from portal.services.errors import NotAllowed, NotFound
from portal.services.periods import Period
from portal.services.staff_access import Action

#: the duration buckets funders ask for (docs/domain.md#statistics), half-open in minutes:
#: under 30 min, 30 min to 1 h, 1 h to 2 h, 2 h and more.
DURATION_BUCKETS = (("lt30", 0, 30), ("30-60", 30, 60), ("60-120", 60, 120),
                    ("120+", 120, None))
UNDISCLOSED = "undisclosed"


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: its label, how many, and its share of ``total`` (0–1)."""

    key: str
    label: str
    count: int
    total: int
    value_cents: int = 0

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


@dataclass(frozen=True)
class Breakdown:
    name: str
    title: str
    rows: list[Row]

    @property
    def top(self) -> Row | None:
        return max(self.rows, key=lambda r: r.count) if any(r.count for r in self.rows) else None


@dataclass(frozen=True)
class Sessions:
    held: int
    seats_offered: int
    seats_taken: int
    present: int
    absent: int
    excused: int
    booked_after: int
    waitlist_demand: int

    @property
    def expected(self) -> int:
        return self.present + self.absent + self.excused + self.booked_after

    @property
    def attendance_rate(self) -> float | None:
        return self.present / self.expected if self.expected else None

    @property
    def no_show_rate(self) -> float | None:
        return self.absent / self.expected if self.expected else None


@dataclass(frozen=True)
class People:
    distinct: int
    new: int
    unnamed_helps: int

    @property
    def returning(self) -> int:
        return self.distinct - self.new


@dataclass(frozen=True)
class Cheques:
    count: int
    value_cents: int
    by_programme: list[Row]
    by_month: list[Row]


@dataclass(frozen=True)
class Report:
    period: Period
    site: Site | None  # None: the whole network
    sessions: Sessions
    people: People
    collective: int
    individual: int
    workshop_minutes: int
    help_minutes: int
    cheques: Cheques
    by_month: list[Row]  # accompaniments by Paris month
    breakdowns: list[Breakdown] = field(default_factory=list)

    @property
    def accompaniments(self) -> int:
        return self.collective + self.individual

    @property
    def scope_label(self) -> str:
        return self.site.name if self.site is not None else _("Tout le réseau")

    def breakdown(self, name: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.name == name)


# --- access ----------------------------------------------------------------------------------


def sites_for(staff: StaffMember) -> list[Site]:
    """The sites whose figures the staff member may see (for the form's choice)."""
    return staff_access.sites_for(staff, Action.SEE_REPORTS)


def may_see_reports(staff: StaffMember) -> bool:
    """Whether the staff member sees figures somewhere (the navigation's "Rapports")."""
    sites = staff_access.sites_where(staff, Action.SEE_REPORTS)
    return sites is None or bool(sites)


def scope(staff: StaffMember, site_id: int | None) -> Site | None:
    """The site asked for, checked (a 404 for a site without a role, 403 for a role without
    the action); ``None`` (the network) for the network administrator only."""
    if site_id is None:
        if not staff.is_network_admin:
            raise NotAllowed("network_admin_required",
                             _("Réservé à l'administration du réseau."))
        return None
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound("not_found", _("Cette page n'existe pas ou n'existe plus."))
    staff_access.require(staff, Action.SEE_REPORTS, site.id)
    return site


def site_logo(site: Site | None) -> bytes | None:
    """The site's logo (deferred column) for the printed report; none for the network."""
    return site.logo if site is not None else None


# --- SQL helpers -----------------------------------------------------------------------------


def _minutes(start: Any, end: Any) -> ColumnElement[Any]:
    """Minutes between two UTC timestamps, on SQLite and PostgreSQL."""
    if db.engine.dialect.name == "sqlite":
        return func.round((func.julianday(end) - func.julianday(start)) * 1440)
    return func.round(func.extract("epoch", end - start) / 60)


def _year_of(column: Any, period: Period) -> ColumnElement[Any]:
    """The Paris year of a UTC timestamp inside the period."""
    years = range(period.first.year, period.last.year + 1)
    bounds = [(clock.paris_to_utc(datetime.combine(date(y + 1, 1, 1), time())), y)
              for y in years[:-1]]
    if not bounds:
        return literal(period.first.year)
    return case(*((column < bound, y) for bound, y in bounds), else_=years[-1])


def _age_bracket(birth_year: Any, year: Any) -> ColumnElement[Any]:
    age = year - birth_year
    whens = []
    for low, high, code in AGE_BRACKETS:
        conditions = [c for c in ((age >= low) if low is not None else None,
                                  (age <= high) if high is not None else None) if c is not None]
        whens.append((and_(*conditions), code))
    return case((birth_year.is_(None), UNDISCLOSED), *whens, else_=UNDISCLOSED)


def _duration_bucket(minutes: Any) -> ColumnElement[Any]:
    return case(*((minutes < high, code) for code, _low, high in DURATION_BUCKETS if high),
                else_=DURATION_BUCKETS[-1][0])


def _text(column: Any) -> Any:
    return type_coerce(column, String)


# --- the figures -----------------------------------------------------------------------------


class _Query:
    """The scoped selections shared by the figures."""

    def __init__(self, site: Site | None, period: Period) -> None:
        self.site, self.period = site, period
        self.start, self.end = period.utc_start, period.utc_end

    def held(self) -> list[ColumnElement[bool]]:
        conditions = [WorkshopSession.status != SessionStatus.CANCELLED,
                      WorkshopSession.starts_at >= self.start,
                      WorkshopSession.starts_at < self.end,
                      WorkshopSession.starts_at < clock.now()]  # held: begun already
        if self.site is not None:
            conditions.append(WorkshopSession.site_id == self.site.id)
        return conditions

    def helps(self) -> list[ColumnElement[bool]]:
        conditions = [Accompaniment.started_at >= self.start, Accompaniment.started_at < self.end]
        if self.site is not None:
            conditions.append(Accompaniment.site_id == self.site.id)
        return conditions

    def present(self) -> list[ColumnElement[bool]]:
        """The bookings that are collective accompaniments: present at a session held."""
        return [Booking.status == BookingStatus.PRESENT, *self.held()]

    def individual_acts(self) -> Any:
        """One row per individual help; an unnamed one with its own attributes."""
        named = Accompaniment.beneficiary_id.is_not(None)
        year = _year_of(Accompaniment.started_at, self.period)

        def either(own: Any, person: Any) -> ColumnElement[Any]:
            return case((named, _text(person)), else_=_text(own))

        return (
            select(
                literal("individual").label("kind"),
                Accompaniment.id.label("act_id"),
                Accompaniment.beneficiary_id.label("person"),
                literal(None, Integer).label("workshop_id"),
                Accompaniment.started_at.label("at"),
                Accompaniment.duration_minutes.label("minutes"),
                _text(Accompaniment.place_type).label("place"),
                _text(Accompaniment.equipment).label("equipment"),
                either(Accompaniment.gender, Beneficiary.gender).label("gender"),
                case((named, _age_bracket(Beneficiary.birth_year, year)),
                     else_=Accompaniment.age_bracket).label("age"),
                either(Accompaniment.social_status, Beneficiary.social_status).label("status"),
                case((named, func.trim(Beneficiary.commune)),
                     else_=func.trim(Accompaniment.commune)).label("commune"),
            )
            .select_from(Accompaniment)
            .outerjoin(Beneficiary, Beneficiary.id == Accompaniment.beneficiary_id)
            .where(*self.helps())
        )


def figures(staff: StaffMember, scope_site_id: int | None, period: Period) -> Report:
    """The report of a site (or of the network, ``None``) for the period."""
    site = scope(staff, scope_site_id)
    return compute(site, period)


def compute(site: Site | None, period: Period) -> Report:
    """The figures, without access checks (callers checked them with :func:`scope`)."""
    q = _Query(site, period)
    tally = _tally(q)
    collective = tally.count("kind", "collective")
    individual = tally.count("kind", "individual")

    def seats(key: str) -> int:
        return tally.count("seats", key)

    sessions = Sessions(
        held=tally.count("held", ""), seats_offered=tally.minutes("capacity", ""),
        seats_taken=sum(seats(status.value) for status in SEAT_TAKEN),
        present=seats(BookingStatus.PRESENT.value), absent=seats(BookingStatus.ABSENT.value),
        excused=seats(BookingStatus.EXCUSED.value), booked_after=seats("booked_after"),
        waitlist_demand=seats(BookingStatus.WAITLISTED.value) + seats("asked"))
    return Report(
        period=period, site=site, sessions=sessions,
        people=People(distinct=tally.total("people"), new=tally.count("people", "new"),
                      unnamed_helps=tally.count("unnamed", "")),
        collective=collective, individual=individual,
        workshop_minutes=tally.minutes("held", ""),
        help_minutes=tally.minutes("kind", "individual"),
        cheques=_cheques(q), by_month=_by_month(tally, period),
        breakdowns=_breakdowns(tally, collective + individual),
    )


class _Tally:
    """Every count of the period, from one statement (:func:`_tally`): for each dimension
    (``kind``, ``month``, ``theme``, ``gender``, ``seats``…), how many under each key, and a
    sum that goes with it (minutes, or seats offered)."""

    def __init__(self, rows: Any) -> None:
        self._counts: dict[str, dict[str, int]] = {}
        self._minutes: dict[tuple[str, str], int] = {}
        for dimension, key, number, minutes in rows:
            found = self._counts.setdefault(dimension, {})
            key = key if key is not None else ""
            found[key] = found.get(key, 0) + int(number)
            self._minutes[dimension, key] = (self._minutes.get((dimension, key), 0)
                                             + int(minutes or 0))

    def of(self, dimension: str) -> dict[str, int]:
        return dict(self._counts.get(dimension, {}))

    def count(self, dimension: str, key: str) -> int:
        return self._counts.get(dimension, {}).get(key, 0)

    def total(self, dimension: str) -> int:
        return sum(self._counts.get(dimension, {}).values())

    def minutes(self, dimension: str, key: str) -> int:
        return self._minutes.get((dimension, key), 0)


def _tally(q: _Query) -> _Tally:
    """Counts the period under every dimension, in one statement.

    At a department's scale (a million bookings) reading the bookings is the cost, so they are
    read twice and narrowly, never once per figure: counted per session and status (the
    sessions' figures; a session's workshop gives the themes, sub-themes, equipment, length
    and month of its collective accompaniments) and, for those present, per person and year
    (the person gives the gender, situation, commune and age bracket). The individual help,
    a few rows a day, is taken whole (``individual_acts``). The people are the distinct named
    persons of both, *new* when they had no activity anywhere before the period."""
    def status_count(status: BookingStatus) -> Any:
        return func.sum(case((Booking.status == status, 1), else_=0)).label(status.value)

    per_session = (
        select(Booking.session_id.label("session_id"),
               *(status_count(status) for status in (
                   BookingStatus.PRESENT, BookingStatus.ABSENT, BookingStatus.EXCUSED,
                   BookingStatus.BOOKED, BookingStatus.WAITLISTED)))
        .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
        .where(Booking.status != BookingStatus.CANCELLED, *q.held())
        .group_by(Booking.session_id)
        .cte("per_session").prefix_with("MATERIALIZED"))
    year = _year_of(WorkshopSession.starts_at, q.period)
    per_person = (
        select(Booking.beneficiary_id.label("person"), year.label("year"),
               func.count().label("number"))
        .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
        .where(*q.present()).group_by(Booking.beneficiary_id, year)
        .cte("per_person").prefix_with("MATERIALIZED"))
    helps = q.individual_acts().cte("helps").prefix_with("MATERIALIZED")
    zero = literal(0)

    def part(dimension: str, key: Any, source: Any, *where: Any, number: Any = None,
             minutes: Any = zero) -> Any:
        """How many under each ``key`` (a column; a string or None for one fixed key)."""
        fixed = key is None or isinstance(key, str)
        found = (select(literal(dimension).label("dimension"),
                        (literal(key) if fixed else cast(key, String)).label("key"),
                        func.coalesce(number if number is not None else func.count(), 0)
                        .label("number"),
                        func.sum(minutes).label("minutes"))
                 .select_from(source).where(*where))
        return found if fixed else found.group_by(key)

    session_minutes = cast(_minutes(WorkshopSession.starts_at, WorkshopSession.ends_at), Integer)
    # what the figures need of each session with someone present, worked out once per session
    facts = (
        select(per_session.c.present, WorkshopSession.workshop_id,
               q.period.month_index(WorkshopSession.starts_at).label("month"),
               _duration_bucket(session_minutes).label("duration"),
               _text(Workshop.equipment).label("equipment"))
        .select_from(per_session)
        .join(WorkshopSession, WorkshopSession.id == per_session.c.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(per_session.c.present > 0)
        .cte("facts").prefix_with("MATERIALIZED"))
    present = facts.c.present

    def both(dimension: str, collective_key: Any, collective_source: Any,
             help_key: Any, help_source: Any = helps) -> list[Any]:
        return [part(dimension, collective_key, collective_source, number=func.sum(present)),
                part(dimension, help_key, help_source)]

    def linked(dimension: str, workshop_column: Any, help_column: Any) -> list[Any]:
        """A workshop's themes (or sub-themes) for its collective accompaniments, the help's
        own for an individual one."""
        workshop_link, help_link = workshop_column.class_, help_column.class_
        return both(
            dimension, workshop_column,
            facts.join(workshop_link, workshop_link.workshop_id == facts.c.workshop_id),
            help_column, helps.join(help_link, help_link.accompaniment_id == helps.c.act_id))

    # the persons' attributes, counted once: a few thousand combinations, not every person
    age = _age_bracket(Beneficiary.birth_year, per_person.c.year)
    profiles = (
        select(_text(Beneficiary.gender).label("gender"),
               _text(Beneficiary.social_status).label("status"),
               func.trim(Beneficiary.commune).label("commune"), age.label("age"),
               func.sum(per_person.c.number).label("number"))
        .join(Beneficiary, Beneficiary.id == per_person.c.person)
        .group_by(Beneficiary.gender, Beneficiary.social_status,
                  func.trim(Beneficiary.commune), age)
        .cte("profiles").prefix_with("MATERIALIZED"))
    person_parts = [
        part(name, getattr(source.c, name), source,
             number=func.sum(source.c.number) if source is profiles else None)
        for name in ("gender", "status", "commune", "age") for source in (profiles, helps)]
    named = union(select(per_person.c.person.label("person")),
                  select(helps.c.person).where(helps.c.person.is_not(None))).subquery("named")
    newness = (select(case((_had_activity_before(q, named.c.person), "returning"),
                           else_="new").label("newness"))
               .select_from(named).subquery("newness"))
    # seats: the bookings of the sessions held, by status; "asked": those not waiting now that
    # joined a waiting list (a promotion reuses the booking: its status alone would forget it)
    seat_parts = [
        *(part("seats", status.value, per_session, number=func.sum(getattr(per_session.c,
                                                                           status.value)))
          for status in (BookingStatus.PRESENT, BookingStatus.ABSENT, BookingStatus.EXCUSED,
                         BookingStatus.BOOKED, BookingStatus.WAITLISTED)),
        part("seats", "booked_after",
             per_session.join(WorkshopSession, WorkshopSession.id == per_session.c.session_id),
             WorkshopSession.ends_at <= clock.now(), number=func.sum(per_session.c.booked)),
        part("seats", "asked", Booking.__table__.join(
            WorkshopSession, WorkshopSession.id == Booking.session_id),
            Booking.status.not_in((BookingStatus.WAITLISTED, BookingStatus.CANCELLED)),
            Booking.id.in_(select(cast(AuditEvent.object_id, Integer))
                           .where(AuditEvent.action == "booking.waitlisted",
                                  AuditEvent.object_type == "booking")), *q.held()),
        part("held", "", WorkshopSession.__table__, *q.held(), minutes=session_minutes),
        part("capacity", "", WorkshopSession.__table__, *q.held(),
             minutes=WorkshopSession.capacity),
    ]
    statement = union_all(
        part("kind", "collective", facts, number=func.sum(present)),
        part("kind", "individual", helps, minutes=helps.c.minutes),
        *both("month", facts.c.month, facts, q.period.month_index(helps.c.at)),
        *linked("theme", WorkshopTheme.theme, AccompanimentTheme.theme),
        *linked("subtheme", WorkshopSubtheme.subtheme, AccompanimentSubtheme.subtheme),
        *both("duration", facts.c.duration, facts, _duration_bucket(helps.c.minutes)),
        *both("place", PlaceType.ON_SITE.value, facts, helps.c.place),
        *both("equipment", facts.c.equipment, facts, helps.c.equipment),
        *person_parts,
        part("people", newness.c.newness, newness),
        part("unnamed", None, helps, helps.c.person.is_(None)),
        *seat_parts,
    )
    return _Tally(db.session.execute(statement))


def _had_activity_before(q: _Query, person: Any) -> ColumnElement[bool]:
    """Whether the person was present at a session or helped anywhere before the period.

    For the whole network the period's people are most of the people: everyone's past is
    read once, as a set. For a site, a few hundred people: each one's own past is looked up
    (by person), never the network's whole history."""
    if q.site is None:
        return person.in_(union(
            select(Booking.beneficiary_id)
            .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
            .where(Booking.status == BookingStatus.PRESENT,
                   WorkshopSession.status != SessionStatus.CANCELLED,
                   WorkshopSession.starts_at < q.start),
            select(Accompaniment.beneficiary_id)
            .where(Accompaniment.beneficiary_id.is_not(None),
                   Accompaniment.started_at < q.start)))
    before_session = (
        select(Booking.id).join(WorkshopSession, WorkshopSession.id == Booking.session_id)
        .where(Booking.beneficiary_id == person, Booking.status == BookingStatus.PRESENT,
               WorkshopSession.status != SessionStatus.CANCELLED,
               WorkshopSession.starts_at < q.start).exists())
    before_help = (select(Accompaniment.id)
                   .where(Accompaniment.beneficiary_id == person,
                          Accompaniment.started_at < q.start).exists())
    return or_(before_session, before_help)


def _cheques(q: _Query) -> Cheques:
    month = q.period.month_index(Cheque.redeemed_at).label("month")
    conditions = [Cheque.redeemed_at >= q.start, Cheque.redeemed_at < q.end]
    if q.site is not None:
        conditions.append(Cheque.site_id == q.site.id)
    # grouped on the cheques' own narrow columns first, the programmes' names joined after
    grouped = (select(Cheque.programme_id, month, func.count(Cheque.id).label("number"),
                      func.sum(Cheque.value_cents).label("cents"))
               .where(*conditions).group_by(Cheque.programme_id, month).subquery("grouped"))
    rows = db.session.execute(
        select(ChequeProgramme.id, ChequeProgramme.name, grouped.c.month, grouped.c.number,
               grouped.c.cents)
        .join(grouped, grouped.c.programme_id == ChequeProgramme.id)
        .order_by(ChequeProgramme.name, ChequeProgramme.id)).all()
    total = sum(int(r[3]) for r in rows)
    programmes: dict[int, list[Any]] = {}
    months = q.period.months()
    by_month = [[0, 0] for _month in months]
    for programme_id, name, index, number, cents in rows:  # the grouped rows, a handful
        entry = programmes.setdefault(programme_id, [name, 0, 0])
        entry[1] += int(number)
        entry[2] += int(cents)
        by_month[int(index)][0] += int(number)
        by_month[int(index)][1] += int(cents)
    return Cheques(
        count=total, value_cents=sum(e[2] for e in programmes.values()),
        by_programme=[Row(str(pid), name, n, total, cents)
                      for pid, (name, n, cents) in programmes.items()],
        by_month=[Row(m.isoformat(), _month_label(m), n, total, cents)
                  for m, (n, cents) in zip(months, by_month, strict=True)])


def _month_label(month: date) -> str:
    return month_year(month)


def _by_month(tally: _Tally, period: Period) -> list[Row]:
    found = tally.of("month")
    total = sum(found.values())
    return [Row(m.isoformat(), _month_label(m), found.get(str(index), 0), total)
            for index, m in enumerate(period.months())]


_LABELS: dict[str, Any] = {
    "gender": Gender, "status": SocialStatus, "place": PlaceType, "equipment": Equipment,
}


def age_label(code: str) -> str:
    """An age bracket's code (``60-69``, ``<12``, ``80+``) in words."""
    if code == UNDISCLOSED:
        return _("Non communiqué")
    if code.startswith("<"):
        return _("moins de %(age)s ans", age=code[1:])
    if code.endswith("+"):
        return _("%(age)s ans et plus", age=code[:-1])
    return _("%(low)s à %(high)s ans", low=code.split("-")[0], high=code.split("-")[1])


def _duration_label(code: str) -> str:
    return {"lt30": _("moins de 30 min"), "30-60": _("de 30 min à 1 h"),
            "60-120": _("de 1 h à 2 h"), "120+": _("2 h et plus")}[code]


def _same_town(counts: dict[str, int]) -> dict[str, tuple[str, int]]:
    """The database's counts per spelling of a commune ("Méricourt", "MERICOURT") put
    together under their folded name, shown as their most frequent spelling. A handful of
    grouped rows, not the accompaniments themselves."""
    towns: dict[str, dict[str, int]] = {}
    for spelling, count in counts.items():
        towns.setdefault(fold(spelling), {})[spelling] = count
    return {key: (max(spellings, key=lambda name: (spellings[name], name)),
                  sum(spellings.values())) for key, spellings in towns.items()}


def _breakdowns(tally: _Tally, total: int) -> list[Breakdown]:
    result: list[Breakdown] = []

    def enum_rows(found: dict[str, int], members: Any) -> list[Row]:
        return [Row(m.value, str(m.label), found.get(m.value, 0), total) for m in members
                if found.get(m.value, 0)]

    def disclosed(name: str) -> dict[str, int]:
        """The counts of a dimension, an empty value counted as not disclosed."""
        found = tally.of(name)
        found[UNDISCLOSED] = found.get(UNDISCLOSED, 0) + found.pop("", 0)
        return found

    result.append(Breakdown("theme", _("Thèmes"), sorted(
        enum_rows(tally.of("theme"), Theme), key=lambda r: -r.count)))
    result.append(Breakdown("subtheme", _("Démarches administratives"), sorted(
        enum_rows(tally.of("subtheme"), AdminSubtheme), key=lambda r: -r.count)))
    durations = tally.of("duration")
    result.append(Breakdown("duration", _("Durée"), [
        Row(code, _duration_label(code), durations[code], total)
        for code, _low, _high in DURATION_BUCKETS if durations.get(code)]))
    for name, title in (("place", _("Lieu")), ("equipment", _("Matériel")),
                        ("gender", _("Genre"))):
        result.append(Breakdown(name, title, enum_rows(disclosed(name), _LABELS[name])))
    ages = disclosed("age")
    result.append(Breakdown("age", _("Âge"), [
        Row(code, age_label(code), ages[code], total)
        for code in (*(c for _low, _high, c in AGE_BRACKETS), UNDISCLOSED) if ages.get(code)]))
    result.append(Breakdown("status", _("Situation"), enum_rows(disclosed("status"),
                                                                  SocialStatus)))
    communes = tally.of("commune")
    unknown = communes.pop("", 0)
    rows = sorted((Row(name, name, n, total) for name, n in _same_town(communes).values()),
                  key=lambda r: (-r.count, r.label))
    if unknown:
        rows.append(Row("", _("Non renseignée"), unknown, total))
    result.append(Breakdown("commune", _("Commune"), rows))
    return result
