"""A migration that rebuilds a parent table on SQLite (add a column with a CHECK, drop one)
keeps every row of its children: foreign keys are off while migrations run (a DROP of the old
table would otherwise delete children ON DELETE CASCADE, or be refused by RESTRICT ones) and
checked before the migration commits (migrations/env.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import Course, Site, Workshop
from portal.models.closures import ClosureDay
from tests.conftest import base_config
from tests.test_migrations import PG_URL, _fresh_postgresql_database


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/rebuild.sqlite3"
    else:
        yield from _fresh_postgresql_database()


def _children() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count(Course.id))),
            db.session.scalar(select(func.count(ClosureDay.id))),
            db.session.scalar(select(func.count(Workshop.id)).where(Workshop.site_id.isnot(None))))


def test_rebuilding_the_site_table_keeps_its_courses_closures_and_workshops(database):
    app = create_app(base_config(database))
    with app.app_context():
        upgrade()
        site = Site(code="MER", name="Cyberbase", city="Méricourt")
        db.session.add(site)
        db.session.flush()
        db.session.add_all([
            Course(site_id=site.id, title="Parcours démarches"),
            ClosureDay(site_id=site.id, first_day=date(2026, 12, 24),
                       last_day=date(2026, 12, 26), label="Noël",
                       created_at=datetime(2026, 12, 1).astimezone()),
            Workshop(site_id=site.id, title="Atelier du lieu"),
        ])
        db.session.commit()
        db.session.remove()
        downgrade(revision="0008")  # 0009 drops site.retention_months
        with db.engine.connect() as connection:
            counts = tuple(connection.exec_driver_sql(sql).scalar() for sql in (
                "SELECT count(*) FROM course", "SELECT count(*) FROM closure_day",
                "SELECT count(*) FROM workshop WHERE site_id IS NOT NULL"))
        assert counts == (1, 1, 1)
        upgrade()  # and adds it back with its CHECK
        assert _children() == (1, 1, 1)
        db.session.remove()
        db.engine.dispose()


def test_moving_document_bytes_to_their_own_table_and_back_keeps_every_pdf(database):
    """Migration 0012 moves each stored PDF to ``document_file`` and drops ``document.pdf``;
    its downgrade puts every PDF back, a pending document staying without bytes."""
    from portal.models import Document

    app = create_app(base_config(database))
    with app.app_context():
        upgrade()
        site = Site(code="MER", name="Cyberbase", city="Méricourt")
        db.session.add(site)
        db.session.flush()
        pdfs = [b"%PDF-1.7 first", b"%PDF-1.7 second \x00\xff", None]
        for sequence, pdf in enumerate(pdfs, 1):
            db.session.add(Document(
                kind="certificate", site_id=site.id, year=2026, sequence=sequence,
                number=f"ATT-2026-MER-{sequence:06d}", title="Attestation", snapshot={},
                pdf=pdf, sha256=None if pdf is None else f"{sequence}" * 64,
                issued_at=datetime(2026, 12, 1).astimezone()))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0011")
        with db.engine.connect() as connection:
            back = [row[0] for row in connection.exec_driver_sql(
                "SELECT pdf FROM document ORDER BY sequence")]
        assert [None if pdf is None else bytes(pdf) for pdf in back] == pdfs
        upgrade()
        stored = db.session.scalars(select(Document).order_by(Document.sequence)).all()
        assert [document.pdf for document in stored] == pdfs
        assert [document.is_pending for document in stored] == [False, False, True]
        db.session.remove()
        db.engine.dispose()
