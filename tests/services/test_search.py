"""Searching the catalogue: case, accents and the usual synonyms, in the database query.

Runs on SQLite and, with ``PORTAL_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.folding import fold
from portal.models import Course, Workshop, WorkshopTheme
from portal.models.vocab import Theme
from portal.services import catalogue


@pytest.fixture
def site(factory):
    return factory.site()


@pytest.fixture
def scheduled(factory, site):
    """Schedule a workshop of the given title (and description) in two days."""

    def _scheduled(title: str, description: str = "", **fields) -> str:
        workshop = factory.workshop(title=title, description=description, **fields)
        factory.session(site, workshop=workshop)
        return title

    return _scheduled


def found(text: str) -> set[str]:
    """The titles found for ``text`` (a course is found by its title)."""
    filters = catalogue.read_filters({"q": text})
    titles = set()
    for item in catalogue.search(filters):
        if getattr(item, "is_course", False):
            titles.add(item.course.title)
        else:
            titles.add(item.workshop.title)
    return titles


def test_fold_ignores_case_accents_ligatures_and_hyphens():
    assert fold("E-Mail") == fold("email") == "email"
    assert fold("DÉMARCHES") == fold("démarches") == "demarches"
    assert fold("Cœur, l'œuf") == "coeur l oeuf"
    assert fold("Ça\u00a0va ?\n") == "ca va"


@pytest.mark.parametrize("typed", ["email", "EMAIL", "e-mail", "E-Mail", "courriel", "mail",
                                   "messagerie", "emails", "Courriels"])
def test_every_way_of_saying_email_finds_the_email_workshop(scheduled, typed):
    email = scheduled("Créer son adresse e-mail")
    scheduled("Broderie numérique")
    assert found(typed) == {email}


@pytest.mark.parametrize("typed", ["demarches", "démarches", "DÉMARCHES", "demarche",
                                   "administratif", "administratives", "impôts", "impots",
                                   "CAF", "ANTS"])
def test_administrative_procedures_are_found_by_their_usual_words(scheduled, typed):
    caf = scheduled("Démarches en ligne : le site de la CAF")
    papers = scheduled("Aide aux papiers administratifs")
    scheduled("Café numérique")  # "caf" is a word of its own, not the start of "café"
    assert found(typed) == {caf, papers}


@pytest.mark.parametrize(("typed", "title"), [
    ("ordinateur", "Premiers pas sur le PC"),
    ("pc", "Premiers pas sur l'ordinateur"),
    ("smartphone", "Bien utiliser son téléphone portable"),
    ("téléphone", "Bien utiliser son smartphone"),
    ("portable", "Bien utiliser son smartphone"),
    ("tablette", "Découvrir l'iPad"),
])
def test_devices_are_found_by_their_other_names(scheduled, typed, title):
    scheduled(title)
    scheduled("Broderie numérique")
    assert found(typed) == {title}


def test_every_word_must_match_and_small_words_are_ignored(scheduled):
    both = scheduled("Lire ses e-mails sur son téléphone")
    scheduled("Créer son adresse e-mail")
    scheduled("Bien utiliser son smartphone")
    assert found("courriel smartphone") == {both}
    assert found("créer une adresse e-mail") == {"Créer son adresse e-mail"}


def test_the_start_of_a_word_finds_it_as_it_is_typed(scheduled):
    title = scheduled("Premiers pas sur l'ordinateur")
    assert found("ordi") == {title}
    assert found("Premiers pas") == {title}


def test_description_and_objectives_are_searched(scheduled):
    title = scheduled("Atelier du mardi", "Apprendre à envoyer un courriel à sa famille.")
    objective = scheduled("Atelier du jeudi", objectives="Prendre rendez-vous sur Doctolib")
    assert found("email") == {title}
    assert found("doctolib") == {objective}
    assert found("rendez-vous") == {objective}


def test_a_theme_finds_the_workshops_it_is_given_to(factory, site):
    workshop = factory.workshop(title="Écrire à ses proches")
    workshop.theme_links.append(WorkshopTheme(theme=Theme.EMAIL))
    db.session.commit()
    factory.session(site, workshop=workshop)
    assert found("courriel") == {"Écrire à ses proches"}


def test_a_course_is_found_by_its_title(factory, site):
    course = Course(site_id=site.id, title="Parcours : mes démarches en ligne")
    db.session.add(course)
    db.session.commit()
    for days in (2, 9):
        factory.session(site, workshop=factory.workshop(title=f"Séance du jour {days}"),
                        starts_in=timedelta(days=days), course_id=course.id)
    assert found("DEMARCHES") == {"Parcours : mes démarches en ligne"}


def test_changing_a_title_changes_what_finds_it(factory, site):
    workshop = factory.workshop(title="Broderie numérique")
    factory.session(site, workshop=workshop)
    assert found("courriel") == set()
    workshop.title = "Le courriel sans peur"
    db.session.commit()
    assert found("email") == {"Le courriel sans peur"}
    assert db.session.get(Workshop, workshop.id).search_text.strip() == "le courriel sans peur"


def test_the_search_runs_in_the_database(app, scheduled):
    scheduled("Créer son adresse e-mail")
    statements: list[str] = []

    def remember(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        found("courriel")
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    searching = [s for s in statements if "search_text" in s]
    assert searching and all("LIKE" in s for s in searching)
    assert "LIMIT" in searching[0]


def test_percent_and_underscore_are_not_wildcards(scheduled):
    scheduled("Créer son adresse e-mail")
    assert found("%") == {"Créer son adresse e-mail"}  # nothing to search: everything
    assert found("e_mail") == {"Créer son adresse e-mail"}  # "e mail": the word "mail"
    assert found("100%") == set()
