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
