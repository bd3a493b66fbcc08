"""The network view on a known dataset over three sites: one active, one silent for 40 days,
one never active. The clock is frozen on Thursday 26 November 2026, 14:00 Paris; the week runs
from Monday 23 to Sunday 29 November."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import Accompaniment, Booking, Cheque
from portal.models.vocab import BookingStatus, SessionStatus, StaffRole
from portal.services import network
from portal.services.errors import NotAllowed
from tests.services.scene import programme

pytestmark = pytest.mark.usefixtures("frozen")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def session_at(factory, site, start: datetime, *, capacity: int = 8, present: int = 0,
               booked: int = 0, absent: int = 0, excused: int = 0, waiting: int = 0,
               status: SessionStatus = SessionStatus.SCHEDULED, title: str = ""):
    workshop = factory.workshop(title=title or "Atelier")
    session = factory.session(site, workshop, starts_at=start, ends_at=start + timedelta(hours=2),
                              capacity=capacity, status=status)
    marks = ([BookingStatus.PRESENT] * present + [BookingStatus.BOOKED] * booked
             + [BookingStatus.ABSENT] * absent + [BookingStatus.EXCUSED] * excused)
    for mark in marks:
        factory.booking(session, factory.beneficiary(site), status=mark)
    for position in range(1, waiting + 1):
        factory.booking(session, factory.beneficiary(site), status=BookingStatus.WAITLISTED,
                        waitlist_position=position)
    return session


def cheque(aptic, site, booking, number: str, redeemed_at: datetime | None) -> None:
    db.session.add(Cheque(programme_id=aptic.id, number=number, value_cents=1000,
                          registered_at=redeemed_at or utc(2026, 1, 1), redeemed_at=redeemed_at,
                          site_id=site.id if redeemed_at else None,
                          booking_id=booking.id if redeemed_at else None))
    db.session.commit()


@pytest.fixture
def scene(factory):
    active = factory.site(code="ARR", name="Arras Médiathèque")
    quiet = factory.site(code="BET", name="Béthune Cyberbase")
    never = factory.site(code="CAL", name="Calais EPN")
    # Today at the active site: 10:00 Paris, and a cancelled one at 18:00.
    morning = session_at(factory, active, utc(2026, 11, 26, 9, 0), present=3, booked=1,
                         absent=1, excused=1, waiting=2, title="Premiers pas sur tablette")
    session_at(factory, active, utc(2026, 11, 26, 17, 0), capacity=10, booked=0,
               status=SessionStatus.CANCELLED, title="Messagerie")
    # The rest of the week: Monday, and Sunday 23:30 Paris (22:30 UTC, still Sunday).
    session_at(factory, active, utc(2026, 11, 23, 9, 0), capacity=10, present=4,
               status=SessionStatus.CLOSED)
    session_at(factory, active, utc(2026, 11, 29, 22, 30), capacity=4, booked=2)
    # Monday 30 November 00:30 Paris is next week.
    session_at(factory, active, utc(2026, 11, 29, 23, 30), capacity=4, booked=1)
    # The four weeks before: 26 October → 22 November (Sunday 23:30 Paris is still in them).
    session_at(factory, active, utc(2026, 11, 16, 9, 0), capacity=10, present=5,
               status=SessionStatus.CLOSED)
    session_at(factory, active, utc(2026, 11, 22, 22, 30), capacity=6, present=2,
               status=SessionStatus.CLOSED)
    session_at(factory, active, utc(2026, 10, 25, 22, 59), capacity=6, present=6,
               status=SessionStatus.CLOSED)  # 23:59 Paris on 25 October: before them
    # The quiet site: a session held 40 days ago, help 45 days ago, then only a cancelled
    # session and one to come.
    held = session_at(factory, quiet, utc(2026, 10, 17, 8, 0), present=2,
                      status=SessionStatus.CLOSED)
    db.session.add(Accompaniment(site_id=quiet.id, started_at=utc(2026, 10, 12, 9, 0),
                                 duration_minutes=30))
    db.session.commit()
    session_at(factory, quiet, utc(2026, 11, 16, 9, 0), status=SessionStatus.CANCELLED)
    session_at(factory, quiet, utc(2026, 12, 3, 9, 0), booked=1)
    # Cheques: at Paris month boundaries for the active site, in June for the quiet one.
    aptic = programme()
    booking = db.session.scalars(
        db.select(Booking).where(Booking.session_id == morning.id)).first()
    cheque(aptic, active, booking, "2026000001", utc(2026, 10, 31, 22, 30))  # 31 Oct, 23:30
    cheque(aptic, active, booking, "2026000002", utc(2026, 10, 31, 23, 0))  # 1 Nov, 00:00
    cheque(aptic, active, booking, "2026000003", utc(2025, 11, 30, 23, 30))  # 1 Dec 2025
    cheque(aptic, active, booking, "2026000004", utc(2025, 11, 30, 22, 0))  # 30 Nov 2025
    cheque(aptic, active, booking, "2026000005", None)  # registered, not taken
    quiet_booking = db.session.scalars(
        db.select(Booking).where(Booking.session_id == held.id)).first()
    cheque(aptic, quiet, quiet_booking, "2026000006", utc(2026, 6, 10, 9, 0))
    cheque(aptic, quiet, quiet_booking, "2026000007", utc(2026, 6, 30, 21, 59))
    return {"active": active, "quiet": quiet, "never": never, "morning": morning}


@pytest.fixture
def reseau(factory):
    return factory.staff(is_network_admin=True, full_name="Réseau")


def test_todays_sessions_across_the_network(scene, reseau):
    view = network.overview(reseau)
    assert view.today == date(2026, 11, 26)
    rows = [(row.site.code, row.workshop, row.status, row.capacity, row.booked, row.waiting,
             row.present, row.fill.percent) for row in view.today_sessions]
    assert rows == [
        ("ARR", "Premiers pas sur tablette", SessionStatus.SCHEDULED, 8, 5, 2, 3, 62),
        ("ARR", "Messagerie", SessionStatus.CANCELLED, 10, 0, 0, 0, None),
    ]
    assert view.today_sessions[0].session_id == scene["morning"].id


def test_the_week_per_day_and_per_site_with_fill_rates(scene, reseau):
    view = network.overview(reseau)
    assert view.week_days[0] == date(2026, 11, 23) and view.week_days[-1] == date(2026, 11, 29)
    rows = {row.site.code: row for row in view.week_rows}
    assert [row.site.code for row in view.week_rows] == ["ARR", "BET", "CAL"]
    assert rows["ARR"].sessions_per_day == [1, 0, 0, 1, 0, 0, 1]
    assert rows["ARR"].week == network.Fill(taken=4 + 5 + 2, offered=10 + 8 + 4)
    assert rows["ARR"].week.percent == 50
    assert (view.past_first, view.past_last) == (date(2026, 10, 26), date(2026, 11, 22))
    assert rows["ARR"].past_weeks == network.Fill(taken=5 + 2, offered=10 + 6)
    assert rows["ARR"].past_weeks.percent == 44
    assert rows["BET"].sessions_per_day == [0] * 7
    assert rows["BET"].week.percent is None and rows["BET"].past_weeks.percent is None
    assert rows["CAL"].sessions == 0
    assert view.week_sessions_per_day == [1, 0, 0, 1, 0, 0, 1]
    assert view.week_fill == network.Fill(11, 22)


def test_sites_without_activity_for_thirty_days(scene, reseau):
    view = network.overview(reseau)
    assert view.silent_since == date(2026, 10, 27)
    assert [(row.site.code, row.last_activity) for row in view.silent] == [
        ("CAL", None), ("BET", date(2026, 10, 17))]


def test_help_alone_counts_as_activity(scene, reseau):
    db.session.add(Accompaniment(site_id=scene["quiet"].id, started_at=utc(2026, 11, 20, 9, 0),
                                 duration_minutes=30))
    db.session.commit()
    assert [row.site.code for row in network.overview(reseau).silent] == ["CAL"]


def test_cheques_per_site_per_paris_month(scene, reseau):
    view = network.overview(reseau)
    assert view.months[0] == date(2025, 12, 1) and view.months[-1] == date(2026, 11, 1)
    assert len(view.months) == 12
    rows = {row.site.code: row.per_month for row in view.cheque_rows}
    assert rows["ARR"] == [1] + [0] * 9 + [1, 1]
    assert rows["BET"] == [0] * 6 + [2] + [0] * 5
    assert rows["CAL"] == [0] * 12
    assert view.cheques_per_month == [1] + [0] * 5 + [2] + [0] * 3 + [1, 1]
    assert view.cheques_total == 5


def test_a_bounded_number_of_queries_whatever_the_network_size(scene, reseau, factory,
                                                               count_queries):
    db.session.expire_all()
    with count_queries() as small:
        network.overview(reseau)
    for number in range(4):
        site = factory.site(name=f"Lieu en plus {number}")
        session_at(factory, site, utc(2026, 11, 26, 12, 0), booked=2, waiting=1)
        session_at(factory, site, utc(2026, 11, 2, 12, 0), present=1,
                   status=SessionStatus.CLOSED)
    db.session.expire_all()
    with count_queries() as large:
        view = network.overview(reseau)
    assert len(view.sites) == 7 and len(view.today_sessions) == 6
    # seven of the view, and the staff member reloaded after expire_all (with their roles)
    assert large.count == small.count <= 9


def test_the_bookings_counted_are_those_of_the_sessions_shown(scene, reseau):
    """Today's sessions and the weeks' fill read the bookings of their own sessions, never
    those of every session ever held (a department's million bookings on each opening)."""
    statements: list[str] = []

    def keep(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        network.overview(reseau)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    counting = [s for s in statements if "FROM booking" in s and "GROUP BY booking.session_id"
                in s]
    assert len(counting) == 3, statements
    for statement in counting:
        counted = statement.split("FROM booking", 1)[1].split("GROUP BY booking.session_id")[0]
        assert "workshop_session.starts_at >=" in counted, statement


@pytest.mark.parametrize("role", [StaffRole.ADMIN, StaffRole.ANIMATEUR, StaffRole.RECEPTION])
def test_only_network_administrators_see_it(scene, factory, role):
    staff = factory.staff(scene["active"], role)
    with pytest.raises(NotAllowed) as refused:
        network.overview(staff)
    assert refused.value.code == "network_admin_required"
