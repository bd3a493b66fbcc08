"""Migration 0003 fills the folded search text of the workshops and courses already there."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from portal.models import Course, Site, Workshop
from tests.conftest import base_config
from tests.test_migrations import PG_URL, _fresh_postgresql_database


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/search.sqlite3"
    else:
        yield from _fresh_postgresql_database()


def test_existing_workshops_and_courses_become_searchable(database):
    app = create_app(base_config(database))
    with app.app_context():
        upgrade()
        site = Site(code="MER", name="Cyberbase", city="Méricourt")
        db.session.add(site)
        db.session.flush()
        db.session.add_all([
            Workshop(title="Créer son adresse E-MAIL", description="Pas à pas.",
                     objectives="Écrire à sa fille"),
            Course(site_id=site.id, title="Parcours : DÉMARCHES en ligne"),
        ])
        db.session.commit()
        db.session.remove()
        downgrade(revision="0003")
        upgrade()
        with db.engine.connect() as connection:
            workshop = connection.execute(text("SELECT search_text FROM workshop")).scalar()
            course = connection.execute(text("SELECT search_text FROM course")).scalar()
        assert workshop == " creer son adresse email pas a pas ecrire a sa fille "
        assert course == " parcours demarches en ligne "
        db.session.remove()
        db.engine.dispose()


def test_existing_people_become_searchable_by_migration_0006(database):
    from portal.models import Beneficiary

    app = create_app(base_config(database))
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO beneficiary (first_name, last_name, phone, has_no_phone, email, "
                "gender, social_status, login_id, staff_notes, is_active, preferred_language, "
                "commune, postcode, "
                "created_at) VALUES ('Hélène', 'Durand', '+33 6 12 34 56 78', false, "
                "'H.Durand@example.org', 'female', 'retired', 'ABCDEF', '', true, 'fr', '', '', "
                "CURRENT_TIMESTAMP)"))
        upgrade()
        with db.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT search_text, search_key FROM beneficiary")).one()
        assert row.search_text == " helene durand h durand example org 0612345678 "
        assert row.search_key == " elan duran "
        person = db.session.scalar(db.select(Beneficiary))
        person.last_name = "Durant"
        db.session.commit()
        assert person.search_key == " elan duran " and " durant " in person.search_text
        db.session.remove()
        db.engine.dispose()
