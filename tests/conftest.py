"""Test fixtures: a per-test application on a real database, factories, logging in.

SQLite (default): the schema is migrated once into a template file, copied for each test.
PostgreSQL (``PORTAL_TEST_DATABASE_URL``): migrated once, tables truncated after each test.
CSRF protection stays ON: forms are posted with the token read from the page.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from portal import clock, create_app
from portal.extensions import db
from portal.models import (
    Beneficiary,
    Booking,
    Site,
    StaffMember,
    StaffSiteRole,
    Workshop,
    WorkshopSession,
)
from portal.models.vocab import BookingStatus, Language, StaffRole
from portal.services import passwords
from tests.results import pytest_addoption, pytest_configure  # noqa: F401  (hooks: --results-file)


def _database_of_this_worker(url: str | None) -> str | None:
    """Each pytest-xdist worker gets its own PostgreSQL database next to the one given."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base, _, name = url.rpartition("/")
    return f"{base}/{name}_{worker}"


#: the database given to the run (created by scripts/with-postgres), and this worker's own.
PG_SERVER_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
PG_URL = _database_of_this_worker(PG_SERVER_URL)
if PG_URL:
    # Modules and subprocesses reading the variable get this worker's database too.
    os.environ["PORTAL_TEST_DATABASE_URL"] = PG_URL
PASSWORD = "un cheval mange des pommes vertes"
SECRET = "test-secret-key-" + "x" * 40


def base_config(database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }


def migrate_to_head(database_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def ensure_postgresql_database(url: str) -> None:
    """Create this worker's database on the server, from a connection to the run's database."""
    assert PG_SERVER_URL
    name = url.rpartition("/")[2]
    admin = create_engine(psycopg_url(PG_SERVER_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                   {"name": name})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def reset_postgresql(url: str) -> None:
    ensure_postgresql_database(url)
    engine = create_engine(psycopg_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a SQLite file to copy, or the PostgreSQL URL itself."""
    if PG_URL:
        reset_postgresql(PG_URL)
        migrate_to_head(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "portal.sqlite3"
    migrate_to_head(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> str:
    if PG_URL:
        return PG_URL
    path = tmp_path / "portal.sqlite3"
    shutil.copyfile(template_database, path)
    return f"sqlite:///{path}"


def truncate_all(app: Flask) -> None:
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app_config(database_url: str) -> dict[str, Any]:
    """Override in a test module to change the configuration of ``app``."""
    return base_config(database_url)


class IsolatedClient(FlaskClient):
    """Each request gets its own application context, as in production.

    Tests keep an application context open for factories and assertions; without this,
    Flask would reuse it for requests and share ``g`` (and the database session) across them.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def close_app(application: Flask, context: Any) -> None:
    """End a test application: its unit of work, its context, the frozen clock, its data."""
    db.session.remove()
    context.pop()
    clock.unfreeze()
    if PG_URL:
        truncate_all(application)
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(app_config)
    application.test_client_class = IsolatedClient
    context = application.app_context()
    context.push()
    try:
        yield application
    finally:
        close_app(application, context)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- forms and logging in ---------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                   r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def post_form(client: FlaskClient, url: str, data: dict[str, Any], *, page: str | None = None,
              **kwargs: Any) -> Any:
    """Post a form the way a browser does: read the page first for its CSRF token."""
    response = client.get(page or url)
    token = csrf_from(response.get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def login(client: FlaskClient, identifier: str, password: str = PASSWORD) -> Any:
    return post_form(client, "/connexion", {"identifier": identifier, "password": password})


@pytest.fixture
def login_as(client: FlaskClient) -> Any:
    def _login(principal: StaffMember | Beneficiary, password: str = PASSWORD) -> Any:
        identifier = principal.email if isinstance(principal, StaffMember) else principal.login_id
        response = login(client, identifier, password)
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return response

    return _login


# --- factories -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def password_hash() -> str:
    return passwords.hash_password(PASSWORD)


class Factory:
    """Builds rows directly (fixtures set the scene; services are what tests exercise)."""

    def __init__(self, password_hash: str) -> None:
        self.password_hash = password_hash
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def site(self, **fields: Any) -> Site:
        n = self._next()
        values = {"code": f"S{chr(64 + n % 26 or 26)}{chr(65 + n // 26)}", "name": f"Lieu {n}",
                  "city": "Méricourt", "phone": "03 21 00 00 00"}
        values.update(fields)
        site = Site(**values)
        db.session.add(site)
        db.session.commit()
        return site

    def staff(self, site: Site | None = None, role: StaffRole = StaffRole.ANIMATEUR,
              **fields: Any) -> StaffMember:
        n = self._next()
        values = {"email": f"staff{n}@example.org", "full_name": f"Agent {n}",
                  "password_hash": self.password_hash}
        values.update(fields)
        staff = StaffMember(**values)
        if site is not None:
            staff.roles.append(StaffSiteRole(site_id=site.id, role=role))
        db.session.add(staff)
        db.session.commit()
        return staff

    def beneficiary(self, site: Site | None = None, **fields: Any) -> Beneficiary:
        n = self._next()
        values = {"first_name": f"Prénom{n}", "last_name": f"Nom{n}",
                  "login_id": f"B{n:05d}"[-6:].replace("0", "A").replace("1", "B"),
                  "password_hash": self.password_hash, "home_site_id": site.id if site else None,
                  "preferred_language": Language.FR}
        values.update(fields)
        person = Beneficiary(**values)
        db.session.add(person)
        db.session.commit()
        return person

    def workshop(self, **fields: Any) -> Workshop:
        n = self._next()
        values = {"title": f"Atelier {n}", "duration_minutes": 120, "price_cheques": 1}
        values.update(fields)
        workshop = Workshop(**values)
        db.session.add(workshop)
        db.session.commit()
        return workshop

    def session(self, site: Site, workshop: Workshop | None = None,
                starts_in: timedelta = timedelta(days=2), **fields: Any) -> WorkshopSession:
        start = clock.now().replace(microsecond=0) + starts_in
        values = {"site_id": site.id, "workshop_id": (workshop or self.workshop()).id,
                  "starts_at": start, "ends_at": start + timedelta(hours=2), "capacity": 8,
                  "room": "Salle 1"}
        values.update(fields)
        session = WorkshopSession(**values)
        db.session.add(session)
        db.session.commit()
        return session

    def booking(self, session: WorkshopSession, person: Beneficiary,
                status: BookingStatus = BookingStatus.BOOKED, **fields: Any) -> Booking:
        n = self._next()
        values = {"session_id": session.id, "beneficiary_id": person.id, "status": status,
                  "code": f"BK{n:06d}"}
        values.update(fields)
        booking = Booking(**values)
        if status in (BookingStatus.BOOKED, BookingStatus.PRESENT):
            session.seats_taken += 1
        db.session.add(booking)
        db.session.commit()
        return booking


@pytest.fixture
def factory(app: Flask, password_hash: str) -> Factory:
    return Factory(password_hash)


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    when = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    clock.freeze(when)
    yield when
    clock.unfreeze()


class QueryCounter:
    """Counts the SQL statements run while it is active (per request, per page)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.count += 1


@pytest.fixture
def count_queries(app: Flask) -> Any:
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return counting
