"""Wording: never the masculine by default, APTIC explained, French content marked as French in
English pages, dated titles for sessions, an accessibility statement after the RGAA model."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import Course
from portal.models.vocab import BookingStatus, Gender, SocialStatus
from tests.conftest import login, post_form

#: masculine agreements the beneficiary's screens used to make of every person.
MASCULINE = ("Vous êtes inscrit", "vous êtes inscrit", "vous serez prévenu", "d'être prévenu",
             "déjà inscrit", "Vous êtes déconnecté", "vous êtes déconnecté",
             "Vous avez été déconnecté", "Vous allez être déconnecté", "Rester connecté",
             "n&#39;êtes pas satisfait", "n'êtes pas satisfait", "inscrits sur", "inscrit sur")


@pytest.fixture
def site(factory):
    return factory.site(name="Cyberbase de Méricourt", phone="03 21 00 00 00")


def _person(factory, site, client, **fields):
    person = factory.beneficiary(site, **fields)
    login(client, person.login_id)
    return person


@pytest.mark.parametrize(("gender", "status", "shown"), [
    (Gender.FEMALE, SocialStatus.RETIRED, "Retraitée"),
    (Gender.MALE, SocialStatus.RETIRED, "Retraité"),
    (Gender.UNDISCLOSED, SocialStatus.RETIRED, "À la retraite"),
    (Gender.FEMALE, SocialStatus.STUDENT, "Scolarisée"),
    (Gender.UNDISCLOSED, SocialStatus.UNEMPLOYED, "Sans emploi"),
])
def test_the_social_status_agrees_with_the_person(client, factory, site, gender, status, shown):
    _person(factory, site, client, gender=gender, social_status=status)
    page = client.get("/mon-espace/profil").get_data(as_text=True)
    assert re.search(rf"<dt>Situation</dt><dd>{re.escape(shown)}</dd>", page)


@pytest.mark.parametrize(("gender", "shown"), [
    (Gender.FEMALE, "Présente"), (Gender.MALE, "Présent"), (Gender.UNDISCLOSED, "Présence notée"),
])
def test_past_attendance_agrees_with_the_person(client, factory, site, gender, shown):
    person = _person(factory, site, client, gender=gender)
    factory.booking(factory.session(site, starts_in=timedelta(days=-3)), person,
                    status=BookingStatus.PRESENT)
    page = client.get("/mon-espace/").get_data(as_text=True)
    assert f"<strong>{shown}</strong>" in page


def test_no_screen_of_a_woman_speaks_of_her_in_the_masculine(client, factory, site):
    person = _person(factory, site, client, gender=Gender.FEMALE,
                     social_status=SocialStatus.RETIRED)
    booked = factory.session(site, capacity=1)
    booking = factory.booking(booked, person)
    full = factory.session(site, capacity=1, starts_in=timedelta(days=4))
    factory.booking(full, factory.beneficiary(site))
    pages = {url: client.get(url).get_data(as_text=True) for url in (
        "/mon-espace/", f"/mon-espace/seances/{booked.id}", f"/mon-espace/seances/{full.id}",
        f"/mon-espace/?annuler={booking.id}", "/mon-espace/profil",
        "/mon-espace/ateliers", "/mon-espace/documents", "/donnees-personnelles", "/")}
    # The answers of booking again and of a full session too.
    again = post_form(client, f"/mon-espace/seances/{booked.id}/reserver", {},
                      page=f"/mon-espace/seances/{booked.id}")
    pages["again"] = again.get_data(as_text=True)
    refused = post_form(client, f"/mon-espace/seances/{full.id}/reserver", {},
                        page=f"/mon-espace/seances/{full.id}")
    pages["full"] = refused.get_data(as_text=True)
    for name, page in pages.items():
        found = [words for words in MASCULINE if words in page]
        assert not found, f"{name}: {found}"
    assert "Vous avez déjà réservé votre place" in pages["again"]
    assert "nous vous prévenons si une place se libère" in pages["full"]


def test_logged_out_screens_are_neutral(client, factory, site):
    page = client.get("/connexion?fin=deconnexion").get_data(as_text=True)
    assert "Vous êtes déconnecté" not in page and "Déconnexion faite. À bientôt !" in page
    page = client.get("/connexion?fin=inactivite").get_data(as_text=True)
    assert "Votre session a été fermée après un moment sans activité." in page


def test_aptic_is_explained_where_a_beneficiary_first_meets_it(client, factory, site):
    home = client.get("/").get_data(as_text=True)
    assert "Pass Numérique" in home and "10 €" in home
    _person(factory, site, client)
    session = factory.session(site, workshop=factory.workshop(price_cheques=1))
    page = client.get(f"/mon-espace/seances/{session.id}").get_data(as_text=True)
    assert "Qu'est-ce qu'un chèque APTIC ?" in page
    assert "10 €" in page and "CCAS" in page


def test_a_session_page_is_titled_with_its_date(client, factory, site, frozen_now):
    _person(factory, site, client)
    session = factory.session(site, workshop=factory.workshop(title="Bien utiliser son smartphone"),
                              starts_in=timedelta(days=5))
    page = client.get(f"/mon-espace/seances/{session.id}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert title.startswith("Bien utiliser son smartphone – mardi 1er décembre 2026")


def test_a_course_page_is_titled_with_its_first_date(client, factory, site, frozen_now):
    _person(factory, site, client)
    course = Course(site_id=site.id, title="Débuter")
    db.session.add(course)
    db.session.commit()
    for days in (5, 12):
        factory.session(site, starts_in=timedelta(days=days), course_id=course.id)
    page = client.get(f"/mon-espace/parcours/{course.id}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert title.startswith("Débuter – à partir du mardi 1er décembre 2026")


def test_french_content_is_marked_french_in_english_pages(client, factory, site):
    person = _person(factory, site, client)
    course = Course(site_id=site.id, title="Parcours : mes démarches")
    db.session.add(course)
    db.session.commit()
    workshop = factory.workshop(title="Créer son adresse e-mail",
                                description="Pas à pas, à votre rythme.")
    session = factory.session(site, workshop=workshop, room="Salle Ada Lovelace",
                              course_id=course.id)
    factory.booking(session, person)
    post_form(client, "/langue", {"lang": "en", "next": "/"}, page="/")
    page = client.get(f"/mon-espace/seances/{session.id}").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert re.search(r'<h1 id="session-title" lang="fr">Créer son adresse e-mail</h1>', page)
    assert re.search(r'<div class="description lead" lang="fr">\s*<p>Pas à pas', page)
    assert '<span lang="fr">Cyberbase de Méricourt</span>' in page
    assert '<span lang="fr">Salle Ada Lovelace</span>' in page
    home = client.get("/mon-espace/").get_data(as_text=True)
    assert re.search(r'<a [^>]*lang="fr"[^>]*>Créer son adresse e-mail</a>', home)
    found = client.get("/mon-espace/ateliers").get_data(as_text=True)
    assert re.search(r'<a [^>]*lang="fr"[^>]*>Parcours : mes démarches</a>', found)
    public = client.get("/").get_data(as_text=True)
    assert re.search(r'lang="fr"[^>]*>Créer son adresse e-mail<', public)


@pytest.mark.parametrize(("language", "headings"), [
    ("fr", ["État de conformité", "Résultats des tests", "Contenus non accessibles",
            "Non-conformités", "Dérogations pour charge disproportionnée",
            "Contenus non soumis à l'obligation d'accessibilité",
            "Établissement de cette déclaration d'accessibilité",
            "Technologies utilisées pour la réalisation du portail",
            "Environnement de test", "Outils pour évaluer l'accessibilité",
            "Pages du portail ayant fait l'objet de la vérification de conformité",
            "Retour d'information et contact", "Voies de recours"]),
    ("en", ["Compliance status", "Test results", "Non-accessible content",
            "Non-compliance", "Disproportionate burden",
            "Content not subject to the accessibility obligation",
            "Preparation of this accessibility statement",
            "Technologies used to build the portal", "Test environment",
            "Tools used to assess accessibility",
            "Pages of the portal checked for compliance",
            "Feedback and contact", "Remedies"]),
])
def test_the_accessibility_statement_follows_the_rgaa_model(client, language, headings):
    if language == "en":
        post_form(client, "/langue", {"lang": "en", "next": "/"}, page="/")
    page = client.get("/accessibilite").get_data(as_text=True)
    found = [re.sub(r"<[^>]+>", "", h).replace("&#39;", "'")
             for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", page)]
    for heading in headings:
        assert heading in found, (heading, found)
    assert "axe-core" in page and "NVDA" in page and "Chromium" in page
    assert "Défenseur des droits" in page
    assert re.search(r"(établie le|established on) ", page)
