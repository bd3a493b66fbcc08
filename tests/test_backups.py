"""Backups are consistent copies, and a restore brings the data back (docs/security.md#backups)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from portal.clock import today_local
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Beneficiary,
    Booking,
    Cheque,
    ChequeProgramme,
    Document,
    DocumentCounter,
    Site,
    StaffMember,
    WorkshopSession,
)
from portal.models.vocab import BookingStatus, Language, StaffRole
from portal.services import backups, bookings, vouchers
from portal.services.audit import Actor

PG = bool(os.environ.get("PORTAL_TEST_DATABASE_URL"))


def test_backup_then_restore_brings_the_data_back(app, factory, tmp_path):
    factory.site(code="MER", name="Cyberbase de Méricourt")
    runner = app.test_cli_runner()
    backup_file = tmp_path / "backups" / "portal.dump"
    result = runner.invoke(args=["backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert backup_file.stat().st_size > 0

    factory.site(code="AVI", name="Médiathèque d'Avion")  # after the backup
    if PG:
        if shutil.which("pg_restore") is None:
            pytest.fail("pg_restore is needed to test PostgreSQL restores")
        import subprocess

        from sqlalchemy.engine import make_url

        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        db.session.remove()
        db.engine.dispose()
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner",
                        f"--host={url.host}", f"--port={url.port}",
                        f"--username={url.username}", f"--dbname={url.database}",
                        str(backup_file)], check=True)
    else:
        db.session.remove()
        db.engine.dispose()
        result = runner.invoke(args=["restore", "--yes", str(backup_file)])
        assert result.exit_code == 0, result.output
    codes = set(db.session.scalars(db.select(Site.code)))
    assert codes == {"MER"}


# --- a backup taken while people book and cheques are taken ----------------------------------


def _restored_url(app, tmp_path) -> Iterator[str]:
    """An empty database to restore into: a new SQLite file, or a new PostgreSQL database in
    the test's own server (dropped afterwards)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"{url.database}_restored_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _writers(app, stop, sessions, people, present, actor_id, failures, prefix):
    """Two writers: one books people into the coming sessions, one takes a cheque for each
    person present (each with its numbered receipt, rendered for real)."""

    def book() -> None:
        with app.app_context():
            actor = Actor.of(db.session.get(StaffMember, actor_id))
            try:
                for person_id in people:
                    for session_id in sessions:
                        if stop.is_set():
                            return
                        bookings.book(db.session.get(WorkshopSession, session_id),
                                      db.session.get(Beneficiary, person_id), actor=actor)
                        db.session.commit()
            except BaseException as error:
                failures.append(error)
            finally:
                db.session.remove()

    def take_cheques() -> None:
        with app.app_context():
            actor = Actor.of(db.session.get(StaffMember, actor_id))
            try:
                for n, booking_id in enumerate(present):
                    if stop.is_set():
                        return
                    vouchers.redeem_cheques(db.session.get(Booking, booking_id),
                                            f"{prefix}{n:04d}", actor=actor)
            except BaseException as error:
                failures.append(error)
            finally:
                db.session.remove()

    return [threading.Thread(target=book), threading.Thread(target=take_cheques)]


def _consistency(database_url: str, booked_in: list[int]) -> dict[str, int]:
    """Check the invariants of a database; return its counts (bookings: in ``booked_in``)."""
    engine = create_engine(make_url(database_url))
    try:
        with engine.connect() as connection:
            for session_id, seats in connection.execute(
                    select(WorkshopSession.id, WorkshopSession.seats_taken)):
                active = connection.scalar(select(func.count(Booking.id)).where(
                    Booking.session_id == session_id,
                    Booking.status.in_([BookingStatus.BOOKED, BookingStatus.PRESENT])))
                assert seats == active, (session_id, seats, active)
            numbers = connection.scalars(select(Cheque.number)).all()
            assert len(numbers) == len(set(numbers))  # one redemption per cheque
            assert connection.scalar(select(func.count(Cheque.id)).where(
                Cheque.redeemed_at.is_(None) | Cheque.booking_id.is_(None))) == 0
            series: dict[tuple[int, str, int], list[int]] = {}
            for site_id, kind, year, sequence in connection.execute(
                    select(Document.site_id, Document.kind, Document.year, Document.sequence)):
                series.setdefault((site_id, kind, year), []).append(sequence)
            for key, sequences in series.items():
                assert sorted(sequences) == list(range(1, len(sequences) + 1)), key
                last = connection.scalar(select(DocumentCounter.last_value).where(
                    DocumentCounter.site_id == key[0], DocumentCounter.kind == key[1],
                    DocumentCounter.year == key[2]))
                assert last == len(sequences), key  # counter and documents move together
            created = set(connection.scalars(select(AuditEvent.object_id).where(
                AuditEvent.action == "booking.created")))
            online = {str(i) for i in connection.scalars(select(Booking.id).where(
                Booking.session_id.in_(booked_in)))}
            assert created == online  # every booking with its journal entry, no orphan
            return {"bookings": len(online), "cheques": len(numbers),
                    "documents": sum(len(s) for s in series.values())}
    finally:
        engine.dispose()


def test_a_backup_taken_during_writes_restores_to_a_consistent_state(app, factory, tmp_path):
    site = factory.site(code="MER")
    staff = factory.staff(site, StaffRole.ANIMATEUR)
    workshop = factory.workshop(price_cheques=1)
    sessions = [factory.session(site, workshop, starts_in=timedelta(days=2, hours=3 * n),
                                capacity=300).id for n in range(5)]  # 5: the most per person
    crowd = [Beneficiary(first_name="Prénom", last_name=f"Nom{n}", login_id=f"BK{n:04d}",
                         home_site_id=site.id, preferred_language=Language.FR)
             for n in range(250)]  # more bookings than the writers make during the test
    db.session.add_all(crowd)
    db.session.commit()
    people = [person.id for person in crowd]
    today = factory.session(site, workshop, starts_in=timedelta(minutes=-10), capacity=40)
    present = [factory.booking(today, factory.beneficiary(site),
                               status=BookingStatus.PRESENT).id for _ in range(40)]
    db.session.add(ChequeProgramme(name="APTIC", issuer="Département", operator="APTIC",
                                   number_pattern=r"[0-9]{10}",
                                   validity_end=date(today_local().year + 1, 12, 31)))
    db.session.commit()
    url, staff_id = app.config["SQLALCHEMY_DATABASE_URI"], staff.id
    db.session.remove()

    stop, failures = threading.Event(), []
    threads = _writers(app, stop, sessions, people, present, staff_id, failures, "620726")
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: bool(failures) or (_counts(url)["bookings"] >= 10
                                             and _counts(url)["cheques"] >= 1))
        assert not failures, failures[0]
        backup_file = backups.backup(url, tmp_path / "during-writes.dump")
        at_backup = _counts(url)
        _wait_for(lambda: _counts(url)["bookings"] > at_backup["bookings"] or bool(failures))
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)
    assert not failures, failures[0]
    final = _consistency(url, sessions)

    for restored in _restored_url(app, tmp_path):
        backups.restore(backup_file, restored)
        copy = _consistency(restored, sessions)
    assert 10 <= copy["bookings"] < final["bookings"], (copy, final)  # taken mid-way
    assert 1 <= copy["cheques"] <= final["cheques"]


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(make_url(url))
    try:
        with engine.connect() as connection:
            return {"bookings": connection.scalar(select(func.count(AuditEvent.id)).where(
                        AuditEvent.action == "booking.created")),
                    "cheques": connection.scalar(select(func.count(Cheque.id)))}
    finally:
        engine.dispose()


def _wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the writers made no progress"
        time.sleep(0.05)


# --- restore refuses what is not a portal backup -----------------------------------------------


def test_restore_refuses_a_file_that_is_not_a_portal_backup(app, factory, tmp_path):
    factory.site(code="MER", name="Cyberbase de Méricourt")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    good = backups.backup(url, tmp_path / "good.dump")
    factory.site(code="AVI", name="Médiathèque d'Avion")  # after the backup: must stay

    random_bytes = tmp_path / "random.dump"
    random_bytes.write_bytes(os.urandom(64 * 1024))
    other_app = tmp_path / "notes.sqlite3"
    with closing(sqlite3.connect(other_app)) as connection, connection:
        connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
        connection.execute("INSERT INTO note (body) VALUES ('courses')")
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    newer = tmp_path / "newer.dump"
    _backup_of_a_newer_portal(url, newer)

    cases = {random_bytes: "n'est pas une sauvegarde du portail",
             other_app: "n'est pas une sauvegarde du portail",
             truncated: "incomplète ou abîmée",
             newer: "version plus récente du portail"}
    db.session.remove()
    db.engine.dispose()
    runner = app.test_cli_runner()
    for path, message in cases.items():
        result = runner.invoke(args=["restore", "--yes", str(path)])
        assert result.exit_code == 1, (path.name, result.output)
        assert message in result.output and "rien n'a été changé" in result.output, (
            path.name, result.output)
        assert "Traceback" not in result.output
        assert set(db.session.scalars(db.select(Site.code))) == {"MER", "AVI"}, path.name
        db.session.remove()

    db.engine.dispose()
    result = runner.invoke(args=["restore", "--yes", str(good)])
    assert result.exit_code == 0, result.output
    assert set(db.session.scalars(db.select(Site.code))) == {"MER"}


def _backup_of_a_newer_portal(url: str, destination: Path) -> None:
    """A real backup whose schema version this portal does not know."""
    engine = create_engine(make_url(url))
    try:
        with engine.begin() as connection:
            current = connection.scalar(text("SELECT version_num FROM alembic_version"))
            connection.execute(text("UPDATE alembic_version SET version_num = '0042_future'"))
        try:
            backups.backup(url, destination)
        finally:
            with engine.begin() as connection:
                connection.execute(text("UPDATE alembic_version SET version_num = :v"),
                                   {"v": current})
    finally:
        engine.dispose()
