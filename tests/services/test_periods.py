"""Reporting periods: Paris days and months, parsed from query parameters, grouped by the
database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent
from portal.models.vocab import ActorKind
from portal.services import periods
from portal.services.errors import ValidationFailed


def test_a_month_runs_from_paris_midnight_to_paris_midnight(app):
    november = periods.parse({"periode": "mois", "mois": "2026-11"})
    assert (november.first, november.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert november.utc_start == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert november.utc_end == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    summer = periods.month(date(2026, 7, 14))
    assert summer.utc_start == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(("args", "first", "last"), [
    ({"periode": "trimestre", "trimestre": "2026-1"}, date(2026, 1, 1), date(2026, 3, 31)),
    ({"periode": "trimestre", "trimestre": "2026-4"}, date(2026, 10, 1), date(2026, 12, 31)),
    ({"periode": "annee", "annee": "2025"}, date(2025, 1, 1), date(2025, 12, 31)),
    ({"periode": "dates", "du": "2026-02-10", "au": "2026-03-02"}, date(2026, 2, 10),
     date(2026, 3, 2)),
])
def test_quarters_years_and_days(app, args, first, last):
    period = periods.parse(args)
    assert (period.first, period.last) == (first, last)
    assert periods.parse(period.as_args()) == period


@pytest.mark.parametrize("args", [
    {"periode": "mois", "mois": "2026-13"}, {"periode": "mois", "mois": "novembre"},
    {"periode": "trimestre", "trimestre": "2026-5"}, {"periode": "annee", "annee": "1899"},
    {"periode": "dates", "du": "2026-03-02", "au": "2026-02-10"},
    {"periode": "dates", "du": "2010-01-01", "au": "2026-01-01"},
    {"periode": "dates", "du": "hier"}, {"periode": "semaine"},
])
def test_a_period_that_cannot_be_read_is_refused_in_words(app, args):
    with pytest.raises(ValidationFailed) as refused:
        periods.parse(args)
    assert refused.value.details["fields"]


def test_no_period_is_the_current_month(app, frozen):
    assert periods.parse({}) == periods.month(date(2026, 11, 1))


def test_the_database_puts_each_moment_in_its_paris_month(app, factory):
    site = factory.site()
    quarter = periods.quarter(2026, 4)
    assert quarter.months() == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    moments = [datetime(2026, 10, 31, 22, 59, tzinfo=UTC),  # 23:59 in Paris, 31 October
               datetime(2026, 10, 31, 23, 0, tzinfo=UTC),  # midnight, 1 November
               datetime(2026, 12, 15, 9, 0, tzinfo=UTC)]
    for moment in moments:
        db.session.add(AuditEvent(at=moment, actor_kind=ActorKind.SYSTEM, action="test.period",
                                  site_id=site.id))
    db.session.flush()
    index = quarter.month_index(AuditEvent.at)
    found = db.session.scalars(select(index).where(AuditEvent.action == "test.period")
                               .order_by(AuditEvent.at)).all()
    assert found == [0, 1, 2]


@pytest.mark.parametrize("args", [{"periode": "annee", "annee": "²"},
                                  {"periode": "mois", "mois": "2026-²"},
                                  {"periode": "trimestre", "trimestre": "2026-³"}])
def test_digits_that_are_not_decimal_are_refused_in_words(app, args):
    with pytest.raises(ValidationFailed):
        periods.parse(args)
