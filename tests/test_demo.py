"""The demonstration centre: ``portal.demo.load`` and the ``flask demo`` command."""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import clock, demo
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Beneficiary,
    Booking,
    Cheque,
    ChequeProgramme,
    ClosureDay,
    Course,
    OutboxMessage,
    Site,
    StaffMember,
    Workshop,
    WorkshopSession,
)
from portal.models.vocab import SEAT_HOLDING, BookingStatus, SessionStatus, Theme
from portal.services import passwords
from portal.services.codes import UNAMBIGUOUS_ALPHABET
from tests.conftest import login


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 is slow on purpose; tests that never log in do not need real hashes."""
    monkeypatch.setattr(passwords, "hash_password", lambda password: "not-a-real-hash")


def table_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables}


def sessions() -> list[WorkshopSession]:
    return list(db.session.scalars(select(WorkshopSession)))


def check_invariants(at: datetime) -> None:
    for session in sessions():
        bookings = list(db.session.scalars(select(Booking).filter_by(session_id=session.id)))
        assert session.seats_taken == sum(b.status in SEAT_HOLDING for b in bookings)
        assert session.seats_taken <= session.capacity
        positions = sorted(b.waitlist_position for b in bookings
                           if b.status is BookingStatus.WAITLISTED)
        assert positions == list(range(1, len(positions) + 1))
        local_start = clock.local(session.starts_at)
        assert local_start.weekday() != 6, "the centre is closed on Sundays"
        assert (local_start.hour, local_start.minute) in {(9, 30), (14, 0)}
        if local_start.date() < clock.local(at).date():
            assert session.status in (SessionStatus.CLOSED, SessionStatus.CANCELLED)
        else:  # today's sessions wait for the team to close them after check-in
            assert session.status in (SessionStatus.SCHEDULED, SessionStatus.CANCELLED)
        if session.status is SessionStatus.CLOSED:
            assert session.closed_at is not None and session.closed_at <= at
        for booking in bookings:
            assert booking.created_at <= at
            if booking.status is BookingStatus.PRESENT:
                assert booking.checked_in_at is not None and booking.checked_in_by_id
            if session.status is SessionStatus.CANCELLED:
                assert booking.status is BookingStatus.CANCELLED
            elif session.starts_at > at:
                assert booking.status in (BookingStatus.BOOKED, BookingStatus.WAITLISTED,
                                          BookingStatus.CANCELLED)


def test_demo_builds_the_mericourt_centre(app: Flask, fast_hashing: None) -> None:
    demo.load()

    site = db.session.scalar(select(Site).filter_by(code="MER"))
    assert site is not None and site.name == "Cyberbase de Méricourt"
    assert site.aptic_accreditation and site.signatory_name
    assert (site.cancellation_deadline_minutes, site.idle_timeout_minutes) == (120, 20)
    staff = list(db.session.scalars(select(StaffMember)))
    assert len(staff) == 4
    assert sum(s.is_network_admin for s in staff) == 1
    assert Counter(r.role.value for s in staff for r in s.roles) == {"animateur": 2,
                                                                     "reception": 1}
    people = list(db.session.scalars(select(Beneficiary)))
    assert len(people) == 20
    assert all(p.home_site_id == site.id and p.created_by_id for p in people)
    assert any(p.has_no_phone for p in people) and any(not p.email for p in people)
    assert any(p.password_hash is None and p.first_login_code_hash is None for p in people)
    assert len({p.login_id for p in people}) == 20
    assert db.session.scalar(select(func.count()).select_from(Course)) == 2

    workshops = list(db.session.scalars(select(Workshop)))
    assert len(workshops) == 13
    for workshop in workshops:
        assert workshop.objective_list and workshop.description and workshop.themes
        if workshop.subthemes:
            assert Theme.ADMIN_PROCEDURES in workshop.themes

    programme = db.session.scalar(select(ChequeProgramme))
    assert programme is not None
    cheques = list(db.session.scalars(select(Cheque)))
    assert len(cheques) == 30
    assert all(re.fullmatch(programme.number_pattern, c.number) for c in cheques)
    redeemed = [c for c in cheques if c.is_redeemed]
    assert 10 <= len(redeemed) <= 20
    for cheque in redeemed:
        booking = db.session.get(Booking, cheque.booking_id)
        assert booking is not None and booking.status is BookingStatus.PRESENT
        assert cheque.site_id == site.id and cheque.redeemed_by_id and cheque.receipt_id is None
    assert db.session.scalar(
        select(func.count()).select_from(AuditEvent).filter_by(action="demo.loaded")) == 1


def test_loading_twice_changes_nothing(app: Flask, fast_hashing: None) -> None:
    demo.load()
    before = table_counts()
    demo.load()
    assert table_counts() == before
    assert before["workshop_session"] > 0 and before["booking"] > 0


@pytest.mark.parametrize("at", [
    None,  # the real clock
    datetime(2026, 3, 29, 9, 0, tzinfo=UTC),  # Sunday, the day clocks go forward
    datetime(2026, 11, 26, 9, 0, tzinfo=UTC),  # Thursday 10:00 in Paris, a session under way
])
def test_sessions_and_bookings_are_consistent(app: Flask, fast_hashing: None,
                                              at: datetime | None) -> None:
    if at is not None:
        clock.freeze(at)
    demo.load()
    check_invariants(clock.now())


def test_a_future_session_is_full_with_a_waiting_list(app: Flask, fast_hashing: None) -> None:
    demo.load()
    full = [s for s in sessions()
            if s.starts_at > clock.now() and s.status is SessionStatus.SCHEDULED and s.is_full]
    assert full
    waiting = db.session.scalars(
        select(Booking.waitlist_position)
        .where(Booking.session_id.in_([s.id for s in full]),
               Booking.status == BookingStatus.WAITLISTED)
    ).all()
    assert sorted(waiting) == [1, 2, 3]
    cancelled = [s for s in sessions()
                 if s.starts_at > clock.now() and s.status is SessionStatus.CANCELLED]
    assert cancelled and all(s.cancelled_reason for s in cancelled)


def test_demo_accounts_follow_the_rules(app: Flask) -> None:
    for account in demo.DEMO_ACCOUNTS:
        if not account.first_login:
            passwords.check_policy(account.secret, personal=tuple(account.name.split()))
        if not account.is_staff:
            assert len(account.identifier) == 6
            assert set(account.identifier) <= set(UNAMBIGUOUS_ALPHABET)
    assert len(demo.KEVIN_FIRST_LOGIN_CODE) == 8
    assert set(demo.KEVIN_FIRST_LOGIN_CODE) <= set(UNAMBIGUOUS_ALPHABET)

    lines: list[str] = []
    demo.print_accounts(lines.append, "http://127.0.0.1:5000/")
    printed = "\n".join(lines)
    assert "Ouvrez http://127.0.0.1:5000/ " in printed
    for account in demo.DEMO_ACCOUNTS:
        assert account.shown_identifier in printed and account.shown_secret in printed


def test_the_printed_logins_work(app: Flask) -> None:
    demo.load()
    accounts = {a.identifier: a for a in demo.DEMO_ACCOUNTS}

    def log_in(identifier: str, secret: str) -> tuple[int, str, FlaskClient]:
        client = app.test_client()
        with app.app_context():  # a fresh ``g``: Flask-Login caches the user there
            response = login(client, identifier, secret)
        return response.status_code, response.headers.get("Location", ""), client

    martine = accounts[demo.MARTINE_LOGIN_ID]
    status, location, client = log_in(martine.shown_identifier, martine.secret)
    assert (status, location) == (303, "/mon-espace/")
    with app.app_context():
        page = client.get(location).get_data(as_text=True)
    assert "Bonjour Martine" in page

    kevin = accounts[demo.KEVIN_LOGIN_ID]
    status, location, _ = log_in(kevin.shown_identifier, kevin.shown_secret)
    assert status == 303 and location.endswith("/premiere-connexion")

    for account in (a for a in demo.DEMO_ACCOUNTS if a.is_staff):
        status, _, _ = log_in(account.identifier, account.secret)
        assert status == 303, account.identifier


def test_cli_loads_the_demo_then_leaves_it_alone(app: Flask, fast_hashing: None) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "MAR-762" in result.output and "http://127.0.0.1:5000" in result.output
    before = table_counts()

    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0
    assert "déjà des données" in result.output
    assert table_counts() == before


def test_cli_prints_the_address_the_portal_is_served_on(
        app: Flask, fast_hashing: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`PORT=8000 make run` sets PORTAL_PUBLIC_URL: the demo prints it, documents use it."""
    app.config["PUBLIC_URL"] = "http://127.0.0.1:8000"
    monkeypatch.setenv("PORT", "5000")  # the address comes from the configuration only
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Ouvrez http://127.0.0.1:8000/ " in result.output
    assert "5000" not in result.output


def test_make_run_passes_its_port_to_the_portal() -> None:
    """The Makefile serves on PORT and gives the same address to the demo and the portal."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).parents[1]
    env = {k: v for k, v in os.environ.items()
           if k not in ("PORT", "PORTAL_PUBLIC_URL", "MAKEFLAGS", "MAKELEVEL")}
    plan = subprocess.run(["make", "--dry-run", "--always-make", "run", "PORT=8123"], cwd=root,
                          env=env, capture_output=True, text=True, check=True).stdout
    lines = plan.splitlines()
    demo_line = next(line for line in lines if " demo " in line)
    serve_line = next(line for line in lines if " run " in line and "flask" in line)
    for line in (demo_line, serve_line):
        assert "PORTAL_PUBLIC_URL=http://127.0.0.1:8123" in line
    assert "--port 8123" in serve_line


def test_cli_refuses_production(app: Flask, fast_hashing: None) -> None:
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "refusées en production" in result.output
    assert db.session.scalar(select(func.count()).select_from(Site)) == 0


def test_martine_waits_to_be_checked_in_on_a_weekday(app: Flask, fast_hashing: None) -> None:
    """The README's check-in walk-through: today's last session has Martine booked."""
    clock.freeze(datetime(2026, 11, 26, 16, 30, tzinfo=UTC))  # a Thursday, after both sessions
    demo.load()
    today = clock.local(clock.now()).date()
    sessions = [s for s in db.session.scalars(select(WorkshopSession))
                if clock.local(s.starts_at).date() == today and s.course_id is None
                and s.status is SessionStatus.SCHEDULED]
    assert sessions, "today's sessions stay open until the team closes them"
    last = max(sessions, key=lambda s: s.starts_at)
    martine = db.session.scalar(select(Beneficiary).filter_by(login_id=demo.MARTINE_LOGIN_ID))
    booking = db.session.scalar(select(Booking).filter_by(session_id=last.id,
                                                          beneficiary_id=martine.id))
    assert booking is not None and booking.status is BookingStatus.BOOKED
    check_invariants(clock.now())


def test_the_programme_is_built_by_the_team_through_the_services(
        app: Flask, fast_hashing: None) -> None:
    """Workshops, courses, the closure day, series and sessions all leave the audit trail a
    real centre leaves: written by the site's animateurs, before the first session."""
    clock.freeze(datetime(2026, 11, 24, 13, 30, tzinfo=UTC))  # a Tuesday; 11 November inside
    demo.load()

    site = db.session.scalar(select(Site).filter_by(code="MER"))
    animateurs = {s.id for s in db.session.scalars(select(StaffMember))
                  if any(r.role.value == "animateur" for r in s.roles)}
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    first_session = min(s.starts_at for s in sessions())

    def by_action(action: str) -> list[AuditEvent]:
        return [e for e in events if e.action == action]

    built = [e for e in events if e.action.split(".")[0] in ("workshop", "course", "closure",
                                                           "session", "series")
             and e.action != "session.cancelled"]
    assert built and all(e.actor_kind.value == "staff" and e.actor_id in animateurs
                         and e.site_id == site.id and e.at < first_session for e in built)
    assert {int(e.object_id) for e in by_action("workshop.created")} == {
        w.id for w in db.session.scalars(select(Workshop))}
    assert len(by_action("course.created")) == 2
    assert len(by_action("course.session_added")) == 8
    assert [e.details["changes"]["completion_rule"]["after"]
            for e in by_action("course.updated")] == ["threshold"]

    # The closure day: Armistice, a Wednesday, skipped by the Wednesday morning series.
    closure = db.session.scalar(select(ClosureDay))
    assert (closure.first_day, closure.last_day) == (date(2026, 11, 11), date(2026, 11, 11))
    assert closure.label == "Armistice du 11 novembre 1918"
    assert by_action("closure.added")[0].at < first_session
    assert not [s for s in sessions() if clock.local(s.starts_at).date() == closure.first_day]
    series = by_action("series.scheduled")
    assert len(series) == 3
    assert [e.details["skipped"] for e in series if e.details["weekdays"] == [2]] == [
        ["2026-11-11"]]

    # Every session came from a series or from "session.scheduled"; regular ones share a
    # series identifier, one per weekly series.
    from_series = {i for e in series for i in e.details["sessions"]}
    single = {int(e.object_id) for e in by_action("session.scheduled")}
    assert from_series.isdisjoint(single)
    assert from_series | single == {s.id for s in sessions()}
    for session in sessions():
        assert (session.series_id is not None) == (session.id in from_series)
        assert session.created_at < first_session
    assert len({s.series_id for s in sessions() if s.series_id}) == 3

    # The two cancelled sessions were cancelled through the service: everyone was told.
    cancelled = [s for s in sessions() if s.status is SessionStatus.CANCELLED]
    assert len(cancelled) == 2
    assert {int(e.object_id) for e in by_action("session.cancelled")} == {
        s.id for s in cancelled}
    for session in cancelled:
        assert session.cancelled_by_id in animateurs and session.seats_taken == 0
        assert session.cancelled_at < session.starts_at
    reachable = {b.beneficiary_id for b in db.session.scalars(
        select(Booking).where(Booking.session_id.in_([s.id for s in cancelled])))
        if b.beneficiary.email or b.beneficiary.phone}
    told = db.session.scalars(select(OutboxMessage.beneficiary_id)
                              .filter_by(topic="session_cancelled")).all()
    assert reachable and sorted(told) == sorted(reachable)


@pytest.mark.parametrize("at", [None, datetime(2026, 11, 24, 13, 30, tzinfo=UTC)],
                         ids=["running", "frozen"])
def test_loading_leaves_the_clock_as_it_was(app: Flask, fast_hashing: None,
                                            at: datetime | None) -> None:
    if at is not None:
        clock.freeze(at)
    demo.load()
    assert clock.frozen() == at  # running again (None), or still at the same moment


def test_a_holiday_is_closed_else_an_exceptional_day(app: Flask) -> None:
    assert demo.easter(2026) == date(2026, 4, 5) and demo.easter(2027) == date(2027, 3, 28)
    # 24 November 2026: Armistice (a Wednesday, a series' day) is in the window.
    assert demo._closure_day(date(2026, 11, 24)) == (date(2026, 11, 11),
                                                     "Armistice du 11 novembre 1918")
    # 20 September 2026: no public holiday between 21 August and 11 October.
    day, label = demo._closure_day(date(2026, 9, 20))
    assert label == "Fermeture exceptionnelle"
    assert day < date(2026, 9, 20) and day.weekday() in demo.SERIES_WEEKDAYS
