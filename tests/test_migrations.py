"""One migration history that builds the whole schema on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from portal import create_app
from portal.extensions import db
from tests.conftest import PG_SERVER_URL, PG_URL, base_config, psycopg_url


def _fresh_postgresql_database() -> Iterator[str]:
    """An empty database of its own, named after this worker's (xdist workers run at once)."""
    assert PG_URL
    admin = create_engine(psycopg_url(PG_SERVER_URL or PG_URL), isolation_level="AUTOCOMMIT")
    base, _, worker_database = PG_URL.rpartition("/")
    name = f"{worker_database}_migrations"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def empty_database(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.sqlite3"
    else:
        yield from _fresh_postgresql_database()


@pytest.fixture
def migrated_app(empty_database):
    app = create_app(base_config(empty_database))
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_upgrade_from_empty_creates_every_table(migrated_app):
    tables = set(inspect(db.engine).get_table_names())
    assert {table.name for table in db.metadata.sorted_tables} <= tables


def test_models_and_migrations_agree(migrated_app):
    result = migrated_app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_downgrade_to_nothing_and_back(migrated_app):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert "audit_event" in inspect(db.engine).get_table_names()


def test_audit_trail_is_append_only_in_the_database(migrated_app):
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_event (at, actor_kind, ip, action, object_type, object_id, "
            "details) VALUES (CURRENT_TIMESTAMP, 'system', '', 'test', '', '', '{}')"))
    for statement in ("UPDATE audit_event SET action = 'changed'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM audit_event")).scalar() == "test"
