"""When the database goes away, people get a clear "try again" page, nothing is half-written,
and the portal recovers by itself (docs/security.md#database-unavailable).

PostgreSQL: a throwaway server of the test's own is stopped in the middle of a run of bookings and
check-ins made over HTTP through a real gunicorn process, then started again: every answer is a
normal one or the 503 page (never a 500), the health check says the database is unavailable, the
same gunicorn process works again once the database is back, and every booking is either whole
(seat counted, journal entry written) or absent. SQLite: a second program holds the write lock past
the busy timeout: the booking answers 503 and writes nothing; once released, it works.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent, Booking, WorkshopSession
from portal.models.vocab import BookingStatus, StaffRole
from portal.services import passwords
from tests.conftest import (
    PASSWORD,
    PG_URL,
    Factory,
    base_config,
    csrf_from,
    migrate_to_head,
)
from tests.live import call, free_port, gunicorn_processes, portal_env
from tests.web.test_headers import assert_security_headers

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
MESSAGE = "La base de données ne répond pas pour le moment"
ACTIVE = (BookingStatus.BOOKED, BookingStatus.PRESENT)


# --- a PostgreSQL server of this test's own -----------------------------------------------------


class OwnPostgres:
    """initdb, pg_ctl start/stop on a free port, in tmp_path (as ``postgres`` when root)."""

    def __init__(self, root: Path) -> None:
        if not PG_BIN:
            pytest.fail("PostgreSQL server binaries are needed (apt-get install postgresql)")
        self.bin = PG_BIN[-1]
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql://portail@127.0.0.1:{self.port}/portail"
        if os.getuid() == 0:
            subprocess.run(["chown", "postgres", str(root)], check=True)
        self._run("initdb", "-D", str(self.data), "-U", "portail", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "portail", "portail")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                  "-c fsync=off -c full_page_writes=off", "start")

    def stop(self) -> None:
        """As in a crash: connections cut at once, nothing waits for the clients."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    # Not under tmp_path: the ``postgres`` user must be able to reach it (pytest's is private).
    root = Path(tempfile.mkdtemp(prefix="portail-faults-pg."))
    try:
        server = OwnPostgres(root)
        try:
            yield server
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- HTTP as a browser and as htmx --------------------------------------------------------------


class Person:
    """One logged-in account over HTTP (its own cookie)."""

    def __init__(self, url: str, identifier: str, password: str, page: str) -> None:
        self.url = url
        self.cookies: dict[str, str] = {}
        body = self._send("GET", "/connexion")[2]
        status, _headers, _body = self._send("POST", "/connexion", {
            "csrf_token": csrf_from(body), "identifier": identifier, "password": password})
        assert status == 303, "could not log in"
        self.csrf = csrf_from(self._send("GET", page)[2])

    def _send(self, method: str, path: str, data: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, Any, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent = {**({"Cookie": cookie} if cookie else {}), **(headers or {})}
        answer = call(self.url, method, path, data=data, headers=sent)
        for value in answer[1].get_all("Set-Cookie") or []:
            name, _, rest = value.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = rest
        return answer

    def post(self, path: str, data: dict[str, str], *, htmx: bool) -> tuple[int, Any, str]:
        if htmx:
            return self._send("POST", path, data, {"HX-Request": "true",
                                                   "X-CSRFToken": self.csrf})
        return self._send("POST", path, {**data, "csrf_token": self.csrf})


def _check_answer(status: int, headers: Any, body: str, *, htmx: bool) -> None:
    """A normal answer, or the clear 503; never a 500 nor a traceback."""
    assert status in (200, 303, 409, 422, 503), (status, body[:500])
    assert "Traceback" not in body and "psycopg" not in body and "sqlite3" not in body
    if status == 503:
        assert MESSAGE in body.replace("&#39;", "'"), body[:500]
        assert headers["Retry-After"]
        if htmx:
            assert headers["HX-Retarget"] == "#flash-area"
            assert body.startswith('<div id="error-message"')
        else:
            assert body.startswith("<!DOCTYPE html>")
            assert "Code de l'erreur : 503" in body.replace("&#39;", "'")


def _health(url: str) -> tuple[int, dict[str, Any]]:
    status, _headers, body = call(url, "GET", "/healthz")
    return status, json.loads(body)


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Any]:
    """Starts one gunicorn process (8 threads) on a database; its log is gunicorn.log."""
    with ExitStack() as stack:
        def start(database_url: str) -> str:
            return stack.enter_context(gunicorn_processes(
                portal_env(database_url, tmp_path), tmp_path / "gunicorn.log", count=1,
                threads=8))[0]

        yield start


# --- PostgreSQL stopped and started during a run -----------------------------------------------


PEOPLE = 6
SESSIONS = 8


def _pg_scene(app: Flask, factory: Factory) -> tuple[str, list[str], list[int], int, list[int]]:
    site = factory.site()
    staff = factory.staff(site, StaffRole.ANIMATEUR)
    people = [factory.beneficiary(site) for _ in range(PEOPLE)]
    walk_ins = [factory.beneficiary(site).id for _ in range(PEOPLE)]
    workshop = factory.workshop()
    sessions = [factory.session(site, workshop, starts_in=timedelta(days=2, hours=3 * n),
                                capacity=PEOPLE).id for n in range(SESSIONS)]
    today = factory.session(site, workshop, starts_in=timedelta(minutes=-1),
                            capacity=PEOPLE * 2).id
    return staff.email, [p.login_id for p in people], sessions, today, walk_ins


def test_postgresql_stopped_and_started_during_a_run(own_postgres, gunicorn, tmp_path):
    migrate_to_head(own_postgres.url)
    app = create_app(base_config(own_postgres.url))
    with app.app_context():
        factory = Factory(passwords.hash_password(PASSWORD))
        email, logins, sessions, today, walk_ins = _pg_scene(app, factory)
        db.session.remove()
        db.engine.dispose()

    url = gunicorn(own_postgres.url)
    staff = Person(url, email, PASSWORD, f"/equipe/seances/{today}/pointage")
    people = [Person(url, login, PASSWORD, "/mon-espace/") for login in logins]
    answers: list[tuple[int, str]] = []
    booked: set[tuple[str, int]] = set()  # told "done": must be in the database afterwards
    stop = threading.Event()
    failures: list[BaseException] = []

    def book(index: int, person: Person) -> None:
        try:
            round_ = 0
            while not stop.is_set():
                session = sessions[(index + round_) % SESSIONS]
                htmx = (index + round_) % 2 == 0
                status, headers, body = person.post(
                    f"/mon-espace/seances/{session}/reserver", {}, htmx=htmx)
                _check_answer(status, headers, body, htmx=htmx)
                answers.append((status, "booking"))
                if htmx and status == 200 and "C&#39;est fait" in body:
                    booked.add((logins[index], session))
                round_ += 1
                time.sleep(0.02)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    def check_in() -> None:
        try:
            for person_id in walk_ins * 50:
                if stop.is_set():
                    return
                status, headers, body = staff.post(
                    f"/equipe/seances/{today}/pointage/ajout", {"person_id": str(person_id)},
                    htmx=True)
                _check_answer(status, headers, body, htmx=True)
                answers.append((status, "check-in"))
                time.sleep(0.05)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=book, args=(i, p)) for i, p in enumerate(people)]
    threads.append(threading.Thread(target=check_in))
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        own_postgres.stop()
        down_at = len(answers)
        time.sleep(1.5)
        status, health = _health(url)
        assert status == 503 and health["database"] == "unavailable", health
        assert health["status"] == "error"
        unavailable = [a for a in answers[down_at:] if a[0] == 503]
        own_postgres.start()
        recovered = False
        for _ in range(100):  # the same gunicorn process, not restarted
            if _health(url)[0] == 200:
                recovered = True
                break
            time.sleep(0.1)
        assert recovered, "the portal did not recover by itself"
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not failures, failures[0]
    assert unavailable, "no request met the stopped database"
    assert _health(url) == (200, {"status": "ok", "database": "ok", "rate_limits": "memory"})
    after = len(answers)
    # Working again: a booking and a page answer normally through the same process.
    status, _headers, body = people[0]._send("GET", "/mon-espace/")
    assert status == 200 and "Mes ateliers" in body
    assert all(a[0] != 500 for a in answers) and after > down_at
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "database unavailable" in log and "Traceback" not in log, log[-3000:]

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        for session_id in [*sessions, today]:
            session = db.session.get(WorkshopSession, session_id)
            active = db.session.scalar(select(func.count(Booking.id)).where(
                Booking.session_id == session_id, Booking.status.in_(ACTIVE)))
            assert session.seats_taken == active, session_id
        bookings = db.session.scalars(select(Booking)).all()
        journal = {(e.action, e.object_id) for e in db.session.scalars(select(AuditEvent))}
        for booking in bookings:
            action = "checkin.walk_in" if booking.session_id == today else "booking.created"
            assert (action, str(booking.id)) in journal, booking.id
        created = [a for a, _ in journal if a in ("booking.created", "checkin.walk_in")]
        assert len(created) == len(bookings)  # no journal entry of a booking rolled back
        kept = {(b.beneficiary.login_id, b.session_id) for b in bookings}
        assert booked <= kept, booked - kept
        db.session.remove()
        db.engine.dispose()


# --- SQLite locked past the busy timeout ---------------------------------------------------------


@pytest.fixture
def app_config(database_url: str) -> dict[str, Any]:
    return {**base_config(database_url), "SQLITE_BUSY_TIMEOUT_MS": 300}


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's write lock (the PostgreSQL test runs anyway)")
def test_sqlite_locked_past_the_busy_timeout(app, client, factory, login_as):
    site = factory.site()
    person = factory.beneficiary(site)
    session = factory.session(site, capacity=4)
    login_as(person)
    page = f"/mon-espace/seances/{session.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    db.session.remove()

    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        for htmx in (False, True):
            started = time.monotonic()
            response = client.post(f"{page}/reserver", data={"csrf_token": token},
                                   headers={"HX-Request": "true"} if htmx else {})
            _check_answer(response.status_code, response.headers,
                          response.get_data(as_text=True), htmx=htmx)
            assert response.status_code == 503
            assert time.monotonic() - started < 5  # the configured timeout, not 15 s
            assert_security_headers(response)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert db.session.scalar(select(func.count(Booking.id))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events
    assert db.session.get(WorkshopSession, session.id).seats_taken == 0
    response = client.post(f"{page}/reserver", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(WorkshopSession, session.id).seats_taken == 1
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 300


def test_only_an_unreachable_database_is_a_503():
    """A wrong query or a broken constraint is a bug (500), not a database that went away."""
    import psycopg
    from sqlalchemy import exc

    from portal.views.errors import database_unavailable

    def wrapped(error: Exception, cls: type = exc.OperationalError) -> Exception:
        return cls("SELECT 1", {}, error)

    unavailable = [wrapped(sqlite3.OperationalError("database is locked")),
                   wrapped(sqlite3.OperationalError("unable to open database file")),
                   wrapped(psycopg.OperationalError("connection failed: Connection refused")),
                   wrapped(psycopg.errors.AdminShutdown()),
                   exc.TimeoutError("QueuePool limit reached")]
    bugs = [wrapped(sqlite3.OperationalError("no such table: booking")),
            wrapped(sqlite3.IntegrityError("UNIQUE constraint failed"), exc.IntegrityError),
            wrapped(psycopg.errors.SerializationFailure()),
            wrapped(psycopg.errors.UndefinedTable(), exc.ProgrammingError),
            RuntimeError("database is locked")]
    assert [database_unavailable(e) for e in unavailable] == [True] * len(unavailable)
    assert [database_unavailable(e) for e in bugs] == [False] * len(bugs)
