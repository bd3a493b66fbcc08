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
    exists,
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

    def collective_acts(self) -> Any:
        """One row per person present at a session held: the collective accompaniments."""
        minutes = _minutes(WorkshopSession.starts_at, WorkshopSession.ends_at)
        year = _year_of(WorkshopSession.starts_at, self.period)
        return (
            select(
                literal("collective").label("kind"),
                Booking.id.label("act_id"),
                Workshop.id.label("workshop_id"),
                WorkshopSession.starts_at.label("at"),
                cast(minutes, Integer).label("minutes"),
                literal(PlaceType.ON_SITE.value).label("place"),
                _text(Workshop.equipment).label("equipment"),
                _text(Beneficiary.gender).label("gender"),
                _age_bracket(Beneficiary.birth_year, year).label("age"),
                _text(Beneficiary.social_status).label("status"),
                func.trim(Beneficiary.commune).label("commune"),
            )
            .select_from(Booking)
            .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
            .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
            .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)
            .where(Booking.status == BookingStatus.PRESENT, *self.held())
        )

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
    sessions = _sessions(q)
    acts = union_all(q.collective_acts(), q.individual_acts()).subquery("acts")
    counts = db.session.execute(
        select(func.sum(case((acts.c.kind == "collective", 1), else_=0)),
               func.sum(case((acts.c.kind == "individual", 1), else_=0)),
               func.sum(case((acts.c.kind == "individual", acts.c.minutes), else_=0)))
    ).one()
    workshop_minutes = db.session.scalar(
        select(func.coalesce(func.sum(_minutes(WorkshopSession.starts_at,
                                               WorkshopSession.ends_at)), 0))
        .where(*q.held()))
    return Report(
        period=period, site=site, sessions=sessions, people=_people(q),
        collective=int(counts[0] or 0), individual=int(counts[1] or 0),
        workshop_minutes=int(workshop_minutes or 0), help_minutes=int(counts[2] or 0),
        cheques=_cheques(q), by_month=_by_month(acts, period),
        breakdowns=_breakdowns(q, acts, int(counts[0] or 0) + int(counts[1] or 0)),
    )


def _sessions(q: _Query) -> Sessions:
    held = db.session.execute(
        select(func.count(WorkshopSession.id), func.coalesce(func.sum(WorkshopSession.capacity), 0))
        .where(*q.held())).one()
    over = WorkshopSession.ends_at <= clock.now()

    def number(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    status = Booking.status
    taken = status.in_(SEAT_TAKEN)
    asked = exists().where(AuditEvent.action == "booking.waitlisted",
                           AuditEvent.object_type == "booking",
                           AuditEvent.object_id == cast(Booking.id, String))
    row = db.session.execute(
        select(number(taken), number(status == BookingStatus.PRESENT),
               number(status == BookingStatus.ABSENT), number(status == BookingStatus.EXCUSED),
               number(and_(status == BookingStatus.BOOKED, over)),
               number(or_(status == BookingStatus.WAITLISTED, asked)))
        .select_from(Booking).join(WorkshopSession, WorkshopSession.id == Booking.session_id)
        .where(*q.held())).one()
    return Sessions(held=int(held[0]), seats_offered=int(held[1]), seats_taken=int(row[0]),
                    present=int(row[1]), absent=int(row[2]), excused=int(row[3]),
                    booked_after=int(row[4]), waitlist_demand=int(row[5]))


def _people(q: _Query) -> People:
    present = (select(Booking.beneficiary_id.label("person"))
               .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
               .where(Booking.status == BookingStatus.PRESENT, *q.held()))
    helped = (select(Accompaniment.beneficiary_id.label("person"))
              .where(Accompaniment.beneficiary_id.is_not(None), *q.helps()))
    people = union(present, helped).subquery("people")
    before_session = (
        select(Booking.id).join(WorkshopSession, WorkshopSession.id == Booking.session_id)
        .where(Booking.beneficiary_id == people.c.person,
               Booking.status == BookingStatus.PRESENT,
               WorkshopSession.status != SessionStatus.CANCELLED,
               WorkshopSession.starts_at < q.start).exists())
    before_help = (select(Accompaniment.id)
                   .where(Accompaniment.beneficiary_id == people.c.person,
                          Accompaniment.started_at < q.start).exists())
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(
            case((or_(before_session, before_help), 0), else_=1)), 0))
        .select_from(people)).one()
    unnamed = db.session.scalar(
        select(func.count(Accompaniment.id))
        .where(Accompaniment.beneficiary_id.is_(None), *q.helps()))
    return People(distinct=int(row[0]), new=int(row[1]), unnamed_helps=int(unnamed or 0))


def _cheques(q: _Query) -> Cheques:
    month = q.period.month_index(Cheque.redeemed_at).label("month")
    conditions = [Cheque.redeemed_at >= q.start, Cheque.redeemed_at < q.end]
    if q.site is not None:
        conditions.append(Cheque.site_id == q.site.id)
    rows = db.session.execute(
        select(ChequeProgramme.id, ChequeProgramme.name, month, func.count(Cheque.id),
               func.sum(Cheque.value_cents))
        .join(ChequeProgramme, ChequeProgramme.id == Cheque.programme_id)
        .where(*conditions)
        .group_by(ChequeProgramme.id, ChequeProgramme.name, month)
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


def _by_month(acts: Any, period: Period) -> list[Row]:
    month = period.month_index(acts.c.at).label("month")
    found = dict(db.session.execute(
        select(month, func.count()).select_from(acts).group_by(month)).all())
    total = sum(found.values())
    return [Row(m.isoformat(), _month_label(m), int(found.get(index, 0)), total)
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


def _grouped(column: Any, source: Any) -> dict[str, int]:
    return {(key if key is not None else ""): int(n)
            for key, n in db.session.execute(
                select(column, func.count()).select_from(source).group_by(column))}


def _breakdowns(q: _Query, acts: Any, total: int) -> list[Breakdown]:
    result: list[Breakdown] = []

    def enum_rows(found: dict[str, int], members: Any) -> list[Row]:
        return [Row(m.value, str(m.label), found.get(m.value, 0), total) for m in members
                if found.get(m.value, 0)]

    def linked(name: str, workshop_column: Any, help_column: Any) -> dict[str, int]:
        """Counts of the accompaniments' themes (or sub-themes): a workshop's for a
        collective one, the help's own for an individual one."""
        links = union_all(
            select(_text(workshop_column).label("key")).join(acts, and_(
                acts.c.kind == "collective",
                acts.c.workshop_id == workshop_column.class_.workshop_id)),
            select(_text(help_column).label("key")).join(acts, and_(
                acts.c.kind == "individual",
                acts.c.act_id == help_column.class_.accompaniment_id)),
        ).subquery(name)
        return _grouped(links.c.key, links)

    result.append(Breakdown("theme", _("Thèmes"), sorted(enum_rows(
        linked("themes", WorkshopTheme.theme, AccompanimentTheme.theme), Theme),
        key=lambda r: -r.count)))
    result.append(Breakdown("subtheme", _("Démarches administratives"), sorted(enum_rows(
        linked("subthemes", WorkshopSubtheme.subtheme, AccompanimentSubtheme.subtheme),
        AdminSubtheme), key=lambda r: -r.count)))
    durations = _grouped(_duration_bucket(acts.c.minutes), acts)
    result.append(Breakdown("duration", _("Durée"), [
        Row(code, _duration_label(code), durations[code], total)
        for code, _low, _high in DURATION_BUCKETS if durations.get(code)]))
    for name, title in (("place", _("Lieu")), ("equipment", _("Matériel")),
                        ("gender", _("Genre"))):
        found = _grouped(getattr(acts.c, name), acts)
        found[UNDISCLOSED] = found.get(UNDISCLOSED, 0) + found.pop("", 0)
        result.append(Breakdown(name, title, enum_rows(found, _LABELS[name])))
    ages = _grouped(acts.c.age, acts)
    ages[UNDISCLOSED] = ages.get(UNDISCLOSED, 0) + ages.pop("", 0)
    result.append(Breakdown("age", _("Âge"), [
        Row(code, age_label(code), ages[code], total)
        for code in (*(c for _low, _high, c in AGE_BRACKETS), UNDISCLOSED) if ages.get(code)]))
    found = _grouped(acts.c.status, acts)
    found[UNDISCLOSED] = found.get(UNDISCLOSED, 0) + found.pop("", 0)
    result.append(Breakdown("status", _("Situation"), enum_rows(found, SocialStatus)))
    communes = _grouped(acts.c.commune, acts)
    unknown = communes.pop("", 0)
    rows = sorted((Row(name, name, n, total) for name, n in _same_town(communes).values()),
                  key=lambda r: (-r.count, r.label))
    if unknown:
        rows.append(Row("", _("Non renseignée"), unknown, total))
    result.append(Breakdown("commune", _("Commune"), rows))
    return result

