"""Weekly series: closure days skipped, the same Paris time across the clock changes, a
preview before anything is written, all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.extensions import db
from portal.models import AuditEvent, WorkshopSession
from portal.services import closures, scheduling
from portal.services.errors import ServiceError
from tests.services.scene import code_of

pytestmark = pytest.mark.usefixtures("frozen")


def series_form(site, workshop, **fields: str) -> dict[str, str]:
    values = {"site_id": str(site.id), "workshop_id": str(workshop.id), "room": "Salle 1",
              "day": "2026-12-01", "start": "14:00", "end": "16:00", "capacity": "8",
              "animator_id": "", "note": "", "until": "2026-12-31", "count": ""}
    values.update(fields)
    return values


def read(site, workshop, actor, weekdays=("1",), **fields):
    return scheduling.read_series(series_form(site, workshop, **fields), list(weekdays),
                                  actor=actor)


def sessions_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(WorkshopSession))


def test_the_preview_lists_each_session_and_each_closed_day_with_its_label(factory, site,
                                                                            actor):
    closures.add(site, first_day=date(2026, 12, 22), last_day=date(2027, 1, 2), label="Noël",
                 actor=actor)
    plan, days, until, count = read(site, factory.workshop(), actor, weekdays=("1", "3"))
    preview = scheduling.preview_series(plan, days, until=until, count=count)
    starts = [p.starts_at.date() for p in preview.sessions]
    assert starts == [date(2026, 12, d) for d in (1, 3, 8, 10, 15, 17)]
    assert preview.skipped == [(date(2026, 12, 22), "Noël"), (date(2026, 12, 24), "Noël"),
                               (date(2026, 12, 29), "Noël"), (date(2026, 12, 31), "Noël")]
    assert sessions_count() == 0  # a preview writes nothing


def test_a_series_is_created_whole_with_one_series_identifier(factory, site, actor):
    plan, days, until, count = read(site, factory.workshop(), actor, until="", count="4")
    created = scheduling.create_series(plan, days, actor=actor, until=until, count=count)
    assert len(created) == 4 and len({s.series_id for s in created}) == 1
    assert [s.starts_at.date() for s in created] == [date(2026, 12, d) for d in (1, 8, 15, 22)]
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="series.scheduled"))
    assert event.details["sessions"] == [s.id for s in created]
    assert len(scheduling.series_of(created[0])) == 4


@pytest.mark.parametrize("first_day", ["2027-03-16", "2027-10-19"])
def test_a_series_stays_at_14_00_in_paris_across_the_clock_change(factory, site, actor,
                                                                 first_day):
    plan, days, until, count = read(site, factory.workshop(), actor, day=first_day,
                                    until="", count="4")
    created = scheduling.create_series(plan, days, actor=actor, until=until, count=count)
    local = [s.starts_at.astimezone(scheduling.PARIS) for s in created]
    assert {(t.hour, t.minute) for t in local} == {(14, 0)}
    assert len({s.starts_at.astimezone(UTC).hour for s in created}) == 2  # UTC moved


def test_one_session_in_the_way_refuses_the_whole_series(factory, site, actor):
    plan, days, until, count = read(site, factory.workshop(), actor)
    preview = scheduling.preview_series(plan, days, until=until, count=count)
    assert preview.clashing == []
    scheduling.schedule(series_form(site, factory.workshop(title="Le courriel"),
                                    day="2026-12-15", start="15:00", end="17:00"), actor=actor)
    preview = scheduling.preview_series(plan, days, until=until, count=count)
    assert [p.starts_at.date() for p in preview.clashing] == [date(2026, 12, 15)]
    with pytest.raises(ServiceError) as error:
        scheduling.create_series(plan, days, actor=actor, until=until, count=count)
    assert error.value.code == "series_conflict" and "Le courriel" in error.value.message
    assert sessions_count() == 1


def test_a_series_is_bounded_and_needs_days_and_an_end(factory, site, actor):
    workshop = factory.workshop()
    plan, days, until, _count = read(site, workshop, actor, weekdays=("0", "1", "2", "3", "4"),
                                    until="2027-06-30")
    assert code_of(lambda: scheduling.preview_series(plan, days, until=until)) == \
        "series_too_long"
    with pytest.raises(ServiceError) as error:
        read(site, workshop, actor, weekdays=(), until="", count="")
    assert set(error.value.details["fields"]) == {"weekdays", "until"}
    with pytest.raises(ServiceError) as error:
        read(site, workshop, actor, until="", count="61")
    assert "count" in error.value.details["fields"]


def test_a_series_starts_on_its_first_date_when_it_is_one_of_the_weekdays(factory, site,
                                                                          actor):
    plan, days, until, count = read(site, factory.workshop(), actor, weekdays=("3",),
                                    day="2026-12-03", until="2026-12-10")
    preview = scheduling.preview_series(plan, days, until=until, count=count)
    assert [p.starts_at for p in preview.sessions] == [
        datetime(2026, 12, 3, 13, 0, tzinfo=UTC), datetime(2026, 12, 10, 13, 0, tzinfo=UTC)]
