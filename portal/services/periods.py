"""The period a report or an export covers: a month, a quarter, a year or chosen days.

Days are Paris days: a session at 00:30 on the 1st of a month belongs to that month although it
is stored in UTC on the day before. :class:`Period` gives the UTC bounds for SQL
(``starts_at >= utc_start AND starts_at < utc_end``) and :meth:`Period.month_index`, a CASE
expression that puts a UTC timestamp in its Paris month, so that figures "by month" are
grouped by the database the same way on SQLite and PostgreSQL.

Query parameters (forms and links): ``periode`` = ``mois`` (``mois=2026-11``), ``trimestre``
(``trimestre=2026-4``), ``annee`` (``annee=2026``) or ``dates`` (``du``/``au``, ISO days).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, case, literal

from portal import clock, formatting
from portal.services.errors import ValidationFailed

#: a custom period longer than this is refused (a network's five years is already a lot).
MAX_DAYS = 5 * 366
FIRST_YEAR = 2000
LAST_YEAR = 2100


class PeriodKind(StrEnum):
    MONTH = "mois"
    QUARTER = "trimestre"
    YEAR = "annee"
    DAYS = "dates"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: date
    last: date  # inclusive

    @property
    def utc_start(self) -> datetime:
        return clock.paris_to_utc(datetime.combine(self.first, time()))

    @property
    def utc_end(self) -> datetime:
        """Exclusive: midnight (Paris) after the last day."""
        return clock.paris_to_utc(datetime.combine(self.last + timedelta(days=1), time()))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def months(self) -> list[date]:
        """The first day of each month the period touches, in order."""
        months, month = [], self.first.replace(day=1)
        while month <= self.last:
            months.append(month)
            month = _next_month(month)
        return months

    def month_index(self, column: Any) -> ColumnElement[int]:
        """The position in :meth:`months` of the Paris month holding ``column`` (a UTC
        timestamp inside the period)."""
        bounds = [clock.paris_to_utc(datetime.combine(_next_month(m), time()))
                  for m in self.months()[:-1]]
        if not bounds:
            return literal(0)
        return case(*((column < bound, index) for index, bound in enumerate(bounds)),
                    else_=len(bounds))

    def label(self, locale: str | None = None) -> str:
        if self.kind is PeriodKind.MONTH:
            return formatting.month_year(self.first, locale)
        if self.kind is PeriodKind.QUARTER:
            return _("%(quarter)s trimestre %(year)s",
                     quarter=_quarter_name((self.first.month - 1) // 3 + 1), year=self.first.year)
        if self.kind is PeriodKind.YEAR:
            return str(self.first.year)
        return _("du %(first)s au %(last)s", first=formatting.date_long(self.first, locale),
                 last=formatting.date_long(self.last, locale))

    def as_args(self) -> dict[str, str]:
        """The query parameters that give this period back to :func:`parse`."""
        if self.kind is PeriodKind.MONTH:
            return {"periode": self.kind.value, "mois": self.first.strftime("%Y-%m")}
        if self.kind is PeriodKind.QUARTER:
            return {"periode": self.kind.value,
                    "trimestre": f"{self.first.year}-{(self.first.month - 1) // 3 + 1}"}
        if self.kind is PeriodKind.YEAR:
            return {"periode": self.kind.value, "annee": str(self.first.year)}
        return {"periode": self.kind.value, "du": self.first.isoformat(),
                "au": self.last.isoformat()}


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _quarter_name(number: int) -> str:
    return {1: _("1er"), 2: _("2e"), 3: _("3e"), 4: _("4e")}[number]


def month(of: date) -> Period:
    first = of.replace(day=1)
    return Period(PeriodKind.MONTH, first, _next_month(first) - timedelta(days=1))


def quarter(year: int, number: int) -> Period:
    first = date(year, 3 * (number - 1) + 1, 1)
    last = _next_month(_next_month(_next_month(first))) - timedelta(days=1)
    return Period(PeriodKind.QUARTER, first, last)


def year(number: int) -> Period:
    return Period(PeriodKind.YEAR, date(number, 1, 1), date(number, 12, 31))


def days(first: date, last: date) -> Period:
    """Chosen days; refused when reversed or longer than :data:`MAX_DAYS`."""
    if last < first:
        raise ValidationFailed("period_reversed", _("La date de fin est avant la date de début."),
                               fields={"au": _("La date de fin est avant la date de début.")})
    if (last - first).days + 1 > MAX_DAYS:
        message = _("Choisissez une période de cinq ans au plus.")
        raise ValidationFailed("period_too_long", message, fields={"au": message})
    return Period(PeriodKind.DAYS, first, last)


def current_month() -> Period:
    return month(clock.today_local())


def _year(text: str) -> int | None:
    return int(text) if text.isdecimal() and FIRST_YEAR <= int(text) <= LAST_YEAR else None


def _day(args: Mapping[str, str], name: str) -> date:
    try:
        value = date.fromisoformat((args.get(name) or "").strip()[:10])
    except ValueError:
        value = None
    if value is None or not FIRST_YEAR <= value.year <= LAST_YEAR:
        message = _("Indiquez une date, par exemple 01/11/2026.")
        raise ValidationFailed("period_day", message, fields={name: message})
    return value


def parse(args: Mapping[str, str]) -> Period:
    """The period asked for by query parameters; the current month when none is asked.

    Raises ``ValidationFailed`` (a message per field) for a period that cannot be read."""
    kind = (args.get("periode") or "").strip()
    if kind in ("", PeriodKind.MONTH.value):
        text = (args.get("mois") or "").strip()
        if not text:
            return current_month()
        parts = text.split("-")
        number = int(parts[1]) if len(parts) == 2 and parts[1].isdecimal() else 0
        if (found := _year(parts[0])) is None or not 1 <= number <= 12:
            message = _("Choisissez un mois, par exemple 2026-11.")
            raise ValidationFailed("period_month", message, fields={"mois": message})
        return month(date(found, number, 1))
    if kind == PeriodKind.QUARTER.value:
        parts = (args.get("trimestre") or "").strip().split("-")
        number = int(parts[1]) if len(parts) == 2 and parts[1].isdecimal() else 0
        if (found := _year(parts[0])) is None or not 1 <= number <= 4:
            message = _("Choisissez un trimestre, par exemple 2026-4.")
            raise ValidationFailed("period_quarter", message, fields={"trimestre": message})
        return quarter(found, number)
    if kind == PeriodKind.YEAR.value:
        if (found := _year((args.get("annee") or "").strip())) is None:
            message = _("Choisissez une année, par exemple 2026.")
            raise ValidationFailed("period_year", message, fields={"annee": message})
        return year(found)
    if kind == PeriodKind.DAYS.value:
        return days(_day(args, "du"), _day(args, "au"))
    message = _("Choisissez un mois, un trimestre, une année ou des dates.")
    raise ValidationFailed("period_kind", message, fields={"periode": message})
