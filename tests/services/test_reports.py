"""The figures of the dashboard, asserted one by one on a known dataset (both engines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from portal import clock
from portal.extensions import db
from portal.models import Site
from portal.models.bookings import Accompaniment, AccompanimentSubtheme, AccompanimentTheme
from portal.models.catalogue import WorkshopSubtheme, WorkshopTheme
from portal.models.vocab import (
    AdminSubtheme,
    BookingStatus,
    Equipment,
    Gender,
    PlaceType,
    SessionStatus,
    SocialStatus,
    StaffRole,
    Theme,
)
from portal.models.vouchers import Cheque
from portal.services import periods, reports
from portal.services.audit import Actor, record
from portal.services.errors import NotAllowed, NotFound
from tests.services.scene import programme

pytestmark = pytest.mark.usefixtures("frozen")

OCTOBER = periods.month(date(2026, 10, 1))
Q4 = periods.quarter(2026, 4)


def wall(*fields: int) -> datetime:
    """A Paris wall-clock time, in UTC."""
    return datetime(*fields, tzinfo=clock.PARIS).astimezone(UTC)


@dataclass
class Data:
    a: Site
    b: Site


def _help(site: Site, at: datetime, minutes: int, themes: list[Theme], *,
          person: Any = None, subthemes: tuple[AdminSubtheme, ...] = (),
          **fields: Any) -> Accompaniment:
    help_ = Accompaniment(site_id=site.id, beneficiary_id=person.id if person else None,
                          started_at=at, duration_minutes=minutes, **fields)
    help_.theme_links = [AccompanimentTheme(theme=t) for t in themes]
    help_.subtheme_links = [AccompanimentSubtheme(subtheme=s) for s in subthemes]
    db.session.add(help_)
    db.session.commit()
    return help_


def _cheque(programme_: Any, number: str, site: Site, at: datetime, **paid: int) -> None:
    db.session.add(Cheque(programme_id=programme_.id, number=number,
                          value_cents=programme_.face_value_cents, registered_at=at,
                          redeemed_at=at, site_id=site.id, **paid))
    db.session.commit()


@pytest.fixture
def data(factory) -> Data:
    a = factory.site(code="MER", name="Cyberbase de Méricourt")
    b = factory.site(code="LEN", name="Médiathèque de Lens")
    w1 = factory.workshop(title="Internet", equipment=Equipment.COMPUTER)
    w1.theme_links = [WorkshopTheme(theme=Theme.EMAIL), WorkshopTheme(theme=Theme.BROWSING)]
    w2 = factory.workshop(title="Démarches", equipment=Equipment.PHONE)
    w2.theme_links = [WorkshopTheme(theme=Theme.ADMIN_PROCEDURES)]
    w2.subtheme_links = [WorkshopSubtheme(subtheme=AdminSubtheme.HOUSING)]
    db.session.commit()
    p1 = factory.beneficiary(a, gender=Gender.FEMALE, birth_year=1960, commune="Méricourt",
                             social_status=SocialStatus.RETIRED)
    p2 = factory.beneficiary(a, gender=Gender.MALE, birth_year=2000, commune="Lens",
                             social_status=SocialStatus.EMPLOYED)
    p3 = factory.beneficiary(a)
    p4 = factory.beneficiary(a, gender=Gender.FEMALE, birth_year=2010, commune=" MERICOURT ",
                             social_status=SocialStatus.STUDENT)
    p5, p6 = factory.beneficiary(a), factory.beneficiary(a)
    p7 = factory.beneficiary(b, gender=Gender.MALE, birth_year=1950, commune="Lens",
                             social_status=SocialStatus.RETIRED)

    def session(site: Site, workshop: Any, start: datetime, minutes: int, capacity: int,
                **fields: Any) -> Any:
        return factory.session(site, workshop, starts_at=start,
                               ends_at=start + timedelta(minutes=minutes), capacity=capacity,
                               **fields)

    # site A, October: s1 and s2 held (s2 at 23:30 Paris on the 31st), s3 cancelled;
    # s4 at 00:30 Paris on 1 November; an earlier session in September.
    s1 = session(a, w1, wall(2026, 10, 5, 10, 0), 120, 8)
    s2 = session(a, w2, wall(2026, 10, 31, 23, 30), 60, 4)
    s3 = session(a, w1, wall(2026, 10, 15, 10, 0), 120, 10, status=SessionStatus.CANCELLED)
    s4 = session(a, w1, wall(2026, 11, 1, 0, 30), 60, 8)
    before = session(a, w1, wall(2026, 9, 15, 10, 0), 120, 8)
    s5 = session(b, w1, wall(2026, 10, 10, 14, 0), 120, 6)
    paid1 = factory.booking(s1, p1, BookingStatus.PRESENT)
    factory.booking(s1, p2, BookingStatus.ABSENT)
    factory.booking(s1, p3, BookingStatus.EXCUSED)
    factory.booking(s1, p4, BookingStatus.PRESENT)
    factory.booking(s1, p5, BookingStatus.CANCELLED)
    factory.booking(s1, p6, BookingStatus.BOOKED)
    factory.booking(s2, p1, BookingStatus.PRESENT)
    factory.booking(s2, p2, BookingStatus.PRESENT)
    factory.booking(s2, p3, BookingStatus.WAITLISTED, waitlist_position=1)
    promoted = factory.booking(s2, p4, BookingStatus.BOOKED)
    record(Actor.system(), "booking.waitlisted", object_type="booking", object_id=promoted.id,
           site_id=a.id)
    db.session.commit()
    factory.booking(s3, p1, BookingStatus.CANCELLED)
    paid3 = factory.booking(s4, p1, BookingStatus.PRESENT)
    factory.booking(before, p4, BookingStatus.PRESENT)
    paid4 = factory.booking(s5, p2, BookingStatus.PRESENT)
    factory.booking(s5, p7, BookingStatus.PRESENT)

    h1 = _help(a, wall(2026, 10, 12, 10, 0), 30, [Theme.ADMIN_PROCEDURES], person=p1,
               subthemes=(AdminSubtheme.MONEY,), place_type=PlaceType.HOME,
               equipment=Equipment.PHONE)
    _help(a, wall(2026, 10, 20, 15, 0), 45, [Theme.EMAIL], gender=Gender.MALE,
          age_bracket="40-59", social_status=SocialStatus.UNEMPLOYED, commune="Avion",
          place_type=PlaceType.ON_SITE, equipment=Equipment.COMPUTER)
    _help(b, wall(2026, 10, 22, 9, 0), 90, [Theme.SECURITY], person=p3,
          place_type=PlaceType.REMOTE, equipment=Equipment.TABLET)

    aptic = programme()
    city = programme(name="Pass Ville", face_value_cents=500, number_pattern=r"[0-9]{6}")
    _cheque(aptic, "1000000001", a, wall(2026, 10, 5, 10, 10), booking_id=paid1.id)
    _cheque(aptic, "1000000002", a, wall(2026, 10, 12, 10, 30), accompaniment_id=h1.id)
    _cheque(city, "200003", a, wall(2026, 11, 1, 0, 10), booking_id=paid3.id)
    _cheque(aptic, "1000000004", b, wall(2026, 10, 10, 14, 5), booking_id=paid4.id)
    db.session.add(Cheque(programme_id=aptic.id, number="1000000005", value_cents=1000,
                          site_id=a.id))
    db.session.commit()
    return Data(a, b)


def counts(report: reports.Report, name: str) -> dict[str, int]:
    return {row.key: row.count for row in report.breakdown(name).rows}


def test_every_figure_of_a_site_for_a_month(factory, data):
    admin = factory.staff(data.a, StaffRole.ADMIN)
    report = reports.figures(admin, data.a.id, OCTOBER)
    s = report.sessions
    assert (s.held, s.seats_offered, s.seats_taken) == (2, 12, 7)  # the excused freed a seat
    assert (s.present, s.absent, s.excused, s.booked_after) == (4, 1, 1, 2)
    assert (s.attendance_rate, s.no_show_rate) == (0.5, 0.125)
    assert s.waitlist_demand == 2
    assert (report.collective, report.individual, report.accompaniments) == (4, 2, 6)
    assert (report.people.distinct, report.people.new, report.people.returning) == (3, 2, 1)
    assert report.people.unnamed_helps == 1
    assert (report.workshop_minutes, report.help_minutes) == (180, 75)
    assert (report.cheques.count, report.cheques.value_cents) == (2, 2000)
    assert [(r.label, r.count, r.value_cents) for r in report.cheques.by_programme] == [
        ("APTIC Pas-de-Calais 2026", 2, 2000)]
    assert [r.count for r in report.by_month] == [6]
    assert counts(report, "theme") == {"email": 3, "admin_procedures": 3, "browsing": 2}
    assert counts(report, "subtheme") == {"housing": 2, "money": 1}
    assert counts(report, "duration") == {"120+": 2, "60-120": 2, "30-60": 2}
    assert counts(report, "place") == {"on_site": 5, "home": 1}
    assert counts(report, "equipment") == {"computer": 3, "phone": 3}
    assert counts(report, "gender") == {"female": 4, "male": 2}
    assert counts(report, "age") == {"60-69": 3, "12-17": 1, "25-39": 1, "40-59": 1}
    assert counts(report, "status") == {"retired": 3, "student": 1, "employed": 1,
                                        "unemployed": 1}
    assert counts(report, "commune") == {"Méricourt": 4, "Lens": 1, "Avion": 1}
    assert report.breakdown("theme").rows[0].share == 0.5


def test_every_figure_of_the_network_for_a_month(factory, data):
    admin = factory.staff(is_network_admin=True)
    report = reports.figures(admin, None, OCTOBER)
    s = report.sessions
    assert report.site is None
    assert (s.held, s.seats_offered, s.seats_taken) == (3, 18, 9)
    assert (s.present, s.absent, s.excused, s.booked_after) == (6, 1, 1, 2)
    assert (s.attendance_rate, s.no_show_rate) == (0.6, 0.1)
    assert s.waitlist_demand == 2
    assert (report.collective, report.individual) == (6, 3)
    assert (report.people.distinct, report.people.new, report.people.returning) == (5, 4, 1)
    assert report.people.unnamed_helps == 1
    assert (report.workshop_minutes, report.help_minutes) == (300, 165)
    assert (report.cheques.count, report.cheques.value_cents) == (3, 3000)
    assert counts(report, "theme") == {"email": 5, "browsing": 4, "admin_procedures": 3,
                                       "security": 1}
    assert counts(report, "subtheme") == {"housing": 2, "money": 1}
    assert counts(report, "duration") == {"120+": 4, "60-120": 3, "30-60": 2}
    assert counts(report, "place") == {"on_site": 7, "home": 1, "remote": 1}
    assert counts(report, "equipment") == {"computer": 5, "phone": 3, "tablet": 1}
    assert counts(report, "gender") == {"female": 4, "male": 4, "undisclosed": 1}
    assert counts(report, "age") == {"60-69": 3, "12-17": 1, "25-39": 2, "40-59": 1, "70+": 1,
                                     "undisclosed": 1}
    assert counts(report, "status") == {"retired": 4, "student": 1, "employed": 2,
                                        "unemployed": 1, "undisclosed": 1}
    assert counts(report, "commune") == {"Méricourt": 4, "Lens": 3, "Avion": 1, "": 1}


def test_a_quarter_by_month_puts_23_30_on_the_31st_in_october(factory, data):
    admin = factory.staff(is_network_admin=True)
    report = reports.figures(admin, None, Q4)
    assert [r.count for r in report.by_month] == [9, 1, 0]  # s4 (1 Nov, 00:30) in November
    assert [(r.count, r.value_cents) for r in report.cheques.by_month] == [
        (3, 3000), (1, 500), (0, 0)]
    assert [(r.label, r.count, r.value_cents) for r in report.cheques.by_programme] == [
        ("APTIC Pas-de-Calais 2026", 3, 3000), ("Pass Ville", 1, 500)]
    assert report.sessions.held == 4
    # p1 was present on 1 November too: still one person, new in the quarter.
    assert (report.people.distinct, report.people.new) == (5, 4)


def test_a_month_without_activity_has_no_rate(factory, data):
    admin = factory.staff(data.a, StaffRole.ADMIN)
    report = reports.figures(admin, data.a.id, periods.month(date(2026, 12, 1)))
    assert report.sessions.held == 0
    assert report.sessions.attendance_rate is None
    assert report.accompaniments == 0
    assert all(not b.rows for b in report.breakdowns)


def test_access(factory, data):
    reception = factory.staff(data.a, StaffRole.RECEPTION)
    animateur = factory.staff(data.a, StaffRole.ANIMATEUR)
    with pytest.raises(NotAllowed):
        reports.figures(reception, data.a.id, OCTOBER)
    with pytest.raises(NotFound):
        reports.figures(animateur, data.b.id, OCTOBER)
    with pytest.raises(NotAllowed):
        reports.figures(animateur, None, OCTOBER)
    assert reports.figures(animateur, data.a.id, OCTOBER).sessions.held == 2
    assert [s.code for s in reports.sites_for(animateur)] == ["MER"]
    assert reports.may_see_reports(animateur) and not reports.may_see_reports(reception)


def test_the_number_of_queries_does_not_grow_with_the_data(factory, data, count_queries):
    admin = factory.staff(is_network_admin=True)

    def queries() -> int:
        db.session.expire_all()
        with count_queries() as counter:
            reports.figures(admin, None, Q4)
        return counter.count

    first = queries()
    site = db.session.get(Site, data.a.id)
    for n in range(10):
        session = factory.session(site, starts_at=wall(2026, 10, 1 + n, 9, 0),
                                  ends_at=wall(2026, 10, 1 + n, 10, 0))
        factory.booking(session, factory.beneficiary(site), BookingStatus.PRESENT)
    # every count of the period in one statement, the cheques in another (plus the access check)
    assert queries() == first <= 4


def test_a_session_still_to_come_is_not_held(factory, data):
    """The current month (26 November): the session of the 1st is held, the one of the 28th
    not yet — neither its seats nor its hours count."""
    admin = factory.staff(data.a, StaffRole.ADMIN)
    later = factory.session(data.a, starts_at=wall(2026, 11, 28, 10, 0),
                            ends_at=wall(2026, 11, 28, 12, 0), capacity=10)
    factory.booking(later, factory.beneficiary(data.a), BookingStatus.BOOKED)
    report = reports.figures(admin, data.a.id, periods.month(date(2026, 11, 1)))
    assert (report.sessions.held, report.sessions.seats_offered) == (1, 8)
    assert report.sessions.seats_taken == 1
