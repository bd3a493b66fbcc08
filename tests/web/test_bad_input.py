"""Hostile or broken input in the beneficiary's screens: a clear answer, never a 500.

Each value here once raised an exception (wapiti and by hand): a newline in ``next``, an id
that is not ASCII digits or too big for the database, a week the calendar cannot reach.
"""

from __future__ import annotations

import pytest

from portal.access import safe_next
from portal.extensions import db
from portal.models import Beneficiary
from tests.conftest import csrf_from, post_form


@pytest.fixture
def site(factory):
    return factory.site(name="Cyberbase de Méricourt")


@pytest.fixture
def person(factory, site, login_as):
    someone = factory.beneficiary(site)
    login_as(someone)
    return someone


# --- ``next``: a newline or a tab would break the Location header or reach another site ------

@pytest.mark.parametrize("target", [
    "/mon-espace/\r\nSet-Cookie: x=1",
    "/mon-espace/\n",
    "/\t/evil.example",  # browsers drop tabs: "//evil.example"
    "/mon-espace/\x0b",
    "/mon-espace/\x85",
    "/" + "a" * 5000,
])
def test_safe_next_refuses_control_characters_and_huge_targets(target):
    assert safe_next(target) is None


def test_safe_next_keeps_an_ordinary_path():
    assert safe_next("/mon-espace/ateliers?q=e-mail") == "/mon-espace/ateliers?q=e-mail"


@pytest.mark.parametrize("target", ["/\r\nX-Injected: 1", "/\n", "/\t/evil.example"])
def test_language_switch_with_a_newline_in_next_goes_home(client, target):
    response = post_form(client, "/langue", {"lang": "en", "next": target}, page="/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_language_switch_with_an_unknown_language_says_so(client):
    response = post_form(client, "/langue", {"lang": "xx", "next": "/accessibilite"}, page="/")
    assert response.status_code == 303 and response.headers["Location"] == "/accessibilite"
    page = client.get("/accessibilite").get_data(as_text=True)
    assert "Cette langue n&#39;est pas proposée." in page


def test_login_with_a_newline_in_next_lands_on_the_persons_space(client, factory, site):
    someone = factory.beneficiary(site)
    response = post_form(client, "/connexion", {
        "identifier": someone.login_id, "password": "un cheval mange des pommes vertes",
        "next": "/mon-espace/\r\nX-Injected: 1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/mon-espace/"


def test_login_page_asked_with_a_newline_in_next_answers(client):
    response = client.get("/connexion?next=/mon-espace/%0d%0aX:1")
    assert response.status_code == 200
    assert 'name="next" type="hidden" value=""' in response.get_data(as_text=True)


def test_an_encoded_newline_in_a_protected_address_sends_to_login_without_breaking(client):
    response = client.get("/mon-espace/ateliers?q=%0d%0a")
    assert response.status_code == 302
    assert "\n" not in response.headers["Location"]


# --- the workshop search: each bad filter is named, the others still apply ------------------

def _find(client, query: str, **headers: str):
    response = client.get(f"/mon-espace/ateliers?{query}", headers=headers)
    return response, response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["²", "9223372036854775808", "99999999999999999999999",
                                   "-1", "1e3", " 12", "abc"])
def test_an_impossible_site_is_named_and_ignored(client, factory, site, person, value):
    factory.session(site, workshop=factory.workshop(title="Créer son adresse e-mail"))
    response, page = _find(client, f"site={value}")
    assert response.status_code == 200
    assert "Ce lieu n&#39;existe pas." in page
    assert "Créer son adresse e-mail" in page  # every site, then


def test_an_unknown_or_closed_site_is_named(client, factory, site, person):
    closed = factory.site(is_active=False)
    for value in (str(closed.id), "123456789"):
        response, page = _find(client, f"site={value}")
        assert response.status_code == 200
        assert "Ce lieu n&#39;existe pas." in page


def test_a_good_site_filters_without_a_message(client, factory, site, person):
    other = factory.site(name="Espace d'Avion")
    factory.session(site, workshop=factory.workshop(title="Ici"))
    factory.session(other, workshop=factory.workshop(title="Là-bas"))
    response, page = _find(client, f"site={other.id}")
    assert response.status_code == 200
    assert "Là-bas" in page and ">Ici<" not in page
    assert "n&#39;existe pas" not in page


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2026-99-99", "demain",
                                   "1999-01-04", "2100-01-04"])
def test_an_impossible_week_is_named_with_the_weeks_allowed(client, factory, site, person,
                                                            frozen_now, value):
    factory.session(site, workshop=factory.workshop(title="Créer son adresse e-mail"))
    response, page = _find(client, f"semaine={value}")
    assert response.status_code == 200
    assert "Choisissez une semaine entre le lundi 23 novembre 2026 et le " in page
    assert "Créer son adresse e-mail" in page


def test_a_week_further_than_the_list_stays_chosen(client, factory, site, person, frozen_now):
    response, page = _find(client, "semaine=2027-03-03")
    assert response.status_code == 200
    assert "Choisissez une semaine" not in page
    assert '<option value="2027-03-01" selected>' in page


@pytest.mark.parametrize(("query", "message"), [
    ("theme=nope", "Ce thème n&#39;existe pas."),
    ("niveau=expert", "Ce niveau n&#39;existe pas."),
])
def test_an_unknown_theme_or_level_is_named(client, person, query, message):
    response, page = _find(client, query)
    assert response.status_code == 200 and message in page


def test_the_messages_come_with_the_results_fragment_too(client, person):
    response, body = _find(client, "site=%C2%B2&niveau=x", **{"HX-Request": "true"})
    assert response.status_code == 200
    assert body.startswith('<section id="session-results"')
    assert "Ce lieu n&#39;existe pas." in body and "Ce niveau n&#39;existe pas." in body


def test_search_text_with_control_characters_or_too_long(client, factory, site, person):
    factory.session(site, workshop=factory.workshop(title="Créer son adresse e-mail"))
    response, page = _find(client, "q=e-mail%07%1b%0a")
    assert response.status_code == 200 and "Créer son adresse e-mail" in page
    response, page = _find(client, "q=" + "a" * 500)
    assert response.status_code == 200
    assert "Votre recherche est trop longue" in page


# --- the profile: a control character is refused with the field named -----------------------

def test_profile_refuses_control_characters_field_by_field(client, person):
    response = post_form(client, "/mon-espace/profil", {
        "phone": "", "email": "", "commune": "Avion\x1b[31m", "postcode": "62\t210",
        "language": "fr"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Le nom de la commune contient un caractère invisible" in page
    assert "Le code postal a 5 chiffres." in page
    db.session.expire_all()
    assert db.session.get(Beneficiary, person.id).commune == ""


def test_profile_with_an_unknown_language_is_refused_not_a_500(client, person):
    page = client.get("/mon-espace/profil").get_data(as_text=True)
    response = client.post("/mon-espace/profil", data={"csrf_token": csrf_from(page),
                                                       "language": "xx"})
    assert response.status_code == 422
