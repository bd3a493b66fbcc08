"""The benchmark data generator (``flask bench-data``) builds a network whose counts match its
plan and whose rows keep every rule of the portal, where people and staff can log in and the
main pages answer; it refuses to touch a database that is not empty or is production."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, time, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from portal import benchdata, clock
from portal.benchdata.network import PLACEHOLDER_SHA256
from portal.extensions import db
from portal.folding import person_search_key, person_search_text
from portal.models import (
    Accompaniment,
    Beneficiary,
    Booking,
    Cheque,
    ChequeProgramme,
    Document,
    DocumentCounter,
    DocumentFile,
    Site,
    StaffMember,
    StaffSiteRole,
    Workshop,
    WorkshopSession,
)
from portal.models.vocab import SEAT_HOLDING, BookingStatus, SessionStatus, StaffRole
from tests.conftest import login

SCALE = 0.002


def table_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables}


def count(model: type, *where: object) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["bench-data", "--scale", str(SCALE), *args])
    return result.exit_code, result.output


def paris_midnight() -> datetime:
    """The start of today in Paris, in UTC."""
    return clock.paris_to_utc(datetime.combine(clock.local(clock.now()).date(), time()))


def check_counts(plan: benchdata.Plan) -> None:
    assert count(Site) == plan.sites
    assert count(Beneficiary) == plan.beneficiaries
    assert count(WorkshopSession) == plan.sessions
    assert count(Booking) == plan.bookings
    assert count(Accompaniment) == plan.accompaniments
    assert count(StaffMember) == plan.staff
    assert count(StaffMember, StaffMember.is_network_admin) == 2
    assert count(Cheque, Cheque.redeemed_at.is_(None)) == plan.cheques_unused
    for role in StaffRole:
        assert count(StaffSiteRole, StaffSiteRole.role == role) == plan.sites * (
            2 if role is StaffRole.ANIMATEUR else 1)
    assert count(Workshop) > 0 and count(Document) > 0


def check_sessions() -> None:
    at = clock.now()
    holding = (select(func.count()).where(Booking.session_id == WorkshopSession.id,
                                          Booking.status.in_(SEAT_HOLDING))
               .scalar_subquery())
    assert count(WorkshopSession, WorkshopSession.seats_taken != holding) == 0
    assert count(WorkshopSession, WorkshopSession.seats_taken > WorkshopSession.capacity) == 0
    waiting = (select(Booking.session_id, func.count(), func.min(Booking.waitlist_position),
                      func.max(Booking.waitlist_position),
                      func.count(func.distinct(Booking.waitlist_position)))
               .where(Booking.status == BookingStatus.WAITLISTED).group_by(Booking.session_id))
    lists = db.session.execute(waiting).all()
    assert lists, "some upcoming sessions are full and have a waiting list"
    for session_id, n, low, high, distinct in lists:
        assert (low, high, distinct) == (1, n, n)
        session = db.session.get(WorkshopSession, session_id)
        assert session and session.status is SessionStatus.SCHEDULED
        assert session.seats_taken == session.capacity
    # nobody holds more upcoming bookings than a site allows (the booking rule)
    upcoming = (select(func.count()).select_from(Booking).join(WorkshopSession)
                .where(WorkshopSession.starts_at > at,
                       WorkshopSession.status == SessionStatus.SCHEDULED,
                       Booking.status.in_((BookingStatus.BOOKED, BookingStatus.WAITLISTED)))
                .group_by(Booking.beneficiary_id).subquery())
    most = db.session.scalar(select(func.max(upcoming.c[0])))
    assert most and most <= db.session.scalar(select(func.min(Site.max_upcoming_bookings)))
    statuses = dict(db.session.execute(select(Booking.status, func.count())
                                       .group_by(Booking.status)).tuples().all())
    assert all(statuses.get(status) for status in BookingStatus), statuses
    # closed: nobody booked or waiting any more; cancelled: everyone cancelled
    assert count(Booking, Booking.session_id == WorkshopSession.id,
                 WorkshopSession.status == SessionStatus.CLOSED,
                 Booking.status.in_((BookingStatus.BOOKED, BookingStatus.WAITLISTED))) == 0
    assert count(Booking, Booking.session_id == WorkshopSession.id,
                 WorkshopSession.status == SessionStatus.CANCELLED,
                 Booking.status != BookingStatus.CANCELLED) == 0
    assert count(WorkshopSession, WorkshopSession.status == SessionStatus.CLOSED,
                 WorkshopSession.closed_at > at) == 0
    assert count(Booking, Booking.status == BookingStatus.PRESENT,
                 (Booking.checked_in_at.is_(None)) | (Booking.checked_in_by_id.is_(None))) == 0
    assert count(Booking, Booking.created_at > at) == 0
    assert count(Booking, Booking.session_id == WorkshopSession.id,
                 WorkshopSession.starts_at > at, Booking.status.in_(
                     (BookingStatus.PRESENT, BookingStatus.ABSENT, BookingStatus.EXCUSED))) == 0
    assert count(Booking, Booking.beneficiary_id == Beneficiary.id,
                 Booking.created_at < Beneficiary.created_at) == 0
    # today's sessions at several sites, both past and upcoming ones around them
    today = clock.local(at).date()
    start = paris_midnight()
    sites_today = db.session.scalar(
        select(func.count(func.distinct(WorkshopSession.site_id)))
        .where(WorkshopSession.starts_at >= start,
               WorkshopSession.starts_at < start + timedelta(days=1)))
    assert sites_today and sites_today >= 2, today
    assert count(WorkshopSession, WorkshopSession.starts_at > at) > 0
    assert count(WorkshopSession, WorkshopSession.status == SessionStatus.CLOSED) > 0


def check_cheques() -> None:
    redeemed = db.session.execute(
        select(Cheque, ChequeProgramme).join(ChequeProgramme)
        .where(Cheque.redeemed_at.is_not(None))).tuples().all()
    assert redeemed
    for cheque, programme in redeemed:
        assert (cheque.booking_id is None) != (cheque.accompaniment_id is None)
        assert cheque.redeemed_at and cheque.registered_at <= cheque.redeemed_at
        assert clock.local(cheque.redeemed_at).date() <= programme.accepted_until
        assert cheque.receipt_id is not None and re.fullmatch(programme.number_pattern,
                                                              cheque.number)
    # a booking paid in cheques: its person was present, and paid the workshop's price
    paid = db.session.execute(
        select(Booking.status, Workshop.price_cheques, func.count(Cheque.id))
        .join(Cheque, Cheque.booking_id == Booking.id)
        .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .group_by(Booking.id, Booking.status, Workshop.price_cheques)).tuples().all()
    assert paid and all(status is BookingStatus.PRESENT and price == n
                        for status, price, n in paid)


def check_documents() -> None:
    series = db.session.execute(
        select(Document.site_id, Document.kind, Document.year, func.count(),
               func.min(Document.sequence), func.max(Document.sequence))
        .group_by(Document.site_id, Document.kind, Document.year)).tuples().all()
    counters = {(c.site_id, c.kind, c.year): c.last_value
                for c in db.session.scalars(select(DocumentCounter))}
    assert len(series) == len(counters)
    for site_id, kind, year, n, low, high in series:
        assert (low, high) == (1, n) and counters[(site_id, kind, year)] == n
    pdf = db.session.scalar(select(DocumentFile.pdf).limit(1))
    assert pdf and pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == \
        PLACEHOLDER_SHA256
    assert count(Document, Document.sha256 != PLACEHOLDER_SHA256) == 0
    assert count(Document, Document.kind == "certificate",
                 Document.verification_code.is_(None)) == 0


def check_people() -> None:
    for person in db.session.scalars(select(Beneficiary)
                                     .options(db.undefer(Beneficiary.search_text))):
        assert person.search_text == person_search_text(person.first_name, person.last_name,
                                                        person.email, person.phone)
        assert person.search_key == person_search_key(person.first_name, person.last_name)
    latest = (select(func.max(Booking.status_changed_at))
              .where(Booking.beneficiary_id == Beneficiary.id).scalar_subquery())
    assert count(Beneficiary, latest.is_not(None), Beneficiary.last_activity_at.is_(None)) == 0
    assert count(Beneficiary, Beneficiary.last_activity_at < latest) == 0


def test_generates_a_consistent_network_where_people_log_in(app: Flask,
                                                            client: FlaskClient) -> None:
    app.config["ENV_NAME"] = "production"
    code, output = run(app)
    assert code != 0 and "production" in output
    assert set(table_counts().values()) == {0}, "nothing written in production"
    app.config["ENV_NAME"] = "test"

    code, output = run(app, "--seed", "7")
    assert code == 0, output
    assert benchdata.BENCH_PASSWORD in output and "Administrateur du réseau : " in output
    db.session.remove()
    check_counts(benchdata.plan_for(SCALE))
    check_sessions()
    check_cheques()
    check_documents()
    check_people()
    if db.engine.dialect.name == "postgresql":  # the planner knows the generated tables' sizes
        assert db.session.scalar(text("SELECT reltuples FROM pg_class "
                                      "WHERE relname = 'booking'")) > 0

    before = table_counts()
    code, output = run(app)
    assert code != 0 and "vide" in output
    assert table_counts() == before, "nothing written in a database that is not empty"

    # a person with a password logs in through the real login page and sees the home page
    person = db.session.scalar(select(Beneficiary).where(Beneficiary.password_hash.is_not(None))
                               .order_by(Beneficiary.id).limit(1))
    assert person is not None
    assert login(client, person.login_id, benchdata.BENCH_PASSWORD).status_code == 303
    assert client.get("/").status_code == 200
    assert client.get("/mon-espace/").status_code == 200
    assert client.get("/mon-espace/ateliers").status_code == 200

    # a site administrator: the week's sessions and the check-in of a session of today
    staff_client = app.test_client()
    midnight = paris_midnight()
    session = db.session.scalar(
        select(WorkshopSession).where(WorkshopSession.starts_at >= midnight,
                                      WorkshopSession.starts_at < midnight + timedelta(days=1),
                                      WorkshopSession.status == SessionStatus.SCHEDULED,
                                      WorkshopSession.seats_taken > 0)
        .order_by(WorkshopSession.starts_at).limit(1))
    assert session is not None
    admin = db.session.scalar(select(StaffMember).join(StaffSiteRole).where(
        StaffSiteRole.site_id == session.site_id, StaffSiteRole.role == StaffRole.ADMIN))
    assert admin is not None
    assert login(staff_client, admin.email, benchdata.BENCH_PASSWORD).status_code == 303
    for url in ("/equipe/", f"/equipe/seances/{session.id}/pointage",
                f"/equipe/seances/{session.id}/pointage/liste"):
        response = staff_client.get(url)
        assert response.status_code == 200, url
    roster = staff_client.get(f"/equipe/seances/{session.id}/pointage").get_data(as_text=True)
    some = db.session.scalar(select(Beneficiary).join(Booking).where(
        Booking.session_id == session.id, Booking.status.in_(SEAT_HOLDING)).limit(1))
    assert some is not None and some.first_name in roster

    # the portal writes after the generated rows (PostgreSQL's sequences follow the ids given)
    site = Site(code="ZZZ", name="Nouveau lieu")
    db.session.add(site)
    db.session.flush()
    newcomer = Beneficiary(first_name="Zoé", login_id="ZZZZZZ", home_site_id=site.id)
    db.session.add(newcomer)
    db.session.commit()
    assert newcomer.id > person.id and newcomer.search_key.strip()
