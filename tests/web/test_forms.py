"""Refused forms: every problem of a submission at once, each tied to its field, and a summary
(links to the fields) that takes the focus; no browser pop-up (``novalidate``)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import Beneficiary
from portal.services import accounts
from portal.services.audit import Actor
from tests.conftest import PASSWORD, post_form


def summary_links(page: str) -> list[tuple[str, str]]:
    """(href, text) of the links of the error summary."""
    match = re.search(r'<div id="error-summary"[^>]*>(.*?)</div>', page, re.S)
    assert match, "no error summary"
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', match.group(1))


def field_tag(page: str, name: str) -> str:
    match = re.search(rf'<(?:input|select)[^>]*\bname="{name}"[^>]*>', page)
    assert match, f"no field {name}"
    return match.group(0)


def assert_tied(page: str, name: str, field_id: str | None = None) -> None:
    """The field says it is invalid and is described by its error message."""
    tag = field_tag(page, name)
    field_id = field_id or name
    assert 'aria-invalid="true"' in tag, tag
    described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
    assert f"{field_id}-error" in described, tag
    assert f'id="{field_id}-error"' in page


def test_summary_takes_the_focus_once(client):
    response = post_form(client, "/connexion", {"identifier": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = re.search(r'<div id="error-summary"[^>]*>', page).group(0)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "autofocus" in summary
    assert page.count("autofocus") == 1  # not on the identifier field too
    assert summary_links(page) == [("#identifier", "Écrivez votre identifiant."),
                                   ("#password", "Écrivez votre mot de passe.")]
    assert_tied(page, "identifier")
    assert_tied(page, "password")
    assert re.search(r'<form [^>]*action="/connexion"[^>]*novalidate', page)


def test_a_refused_login_is_in_the_summary_without_a_field(client, factory):
    person = factory.beneficiary(factory.site())
    response = post_form(client, "/connexion", {"identifier": person.login_id,
                                                 "password": "ce n'est pas le bon"})
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    links = summary_links(page)
    assert len(links) == 1 and links[0][0] == "#identifier"
    assert 'aria-invalid="true"' not in page  # which of the two is wrong is not told


def test_a_fresh_login_page_has_no_summary_and_focuses_the_first_field(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert "error-summary" not in page and 'aria-invalid' not in page
    assert re.search(r'<input[^>]*autofocus[^>]*name="identifier"|'
                     r'<input[^>]*name="identifier"[^>]*autofocus', page)


@pytest.fixture
def newcomer(client, factory):
    """A person whose card code was accepted: the first-login page is open to them."""
    person = factory.beneficiary(factory.site(), password_hash=None)
    code = accounts.issue_first_login_code(person, validity=timedelta(days=1),
                                           actor=Actor.system())
    response = post_form(client, "/connexion", {"identifier": person.login_id,
                                                 "password": code})
    assert response.headers["Location"] == "/premiere-connexion"
    return person


def test_first_login_shows_every_problem_at_once(client, newcomer):
    response = post_form(client, "/premiere-connexion",
                         {"new_password": "court", "confirmation": "autre"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert summary_links(page) == [
        ("#new_password", "Le mot de passe doit avoir au moins 12 caractères."),
        ("#confirmation", "Les deux mots de passe ne sont pas identiques."),
    ]
    assert_tied(page, "new_password")
    assert_tied(page, "confirmation")


def test_first_login_with_empty_fields_names_both(client, newcomer):
    response = post_form(client, "/premiere-connexion", {"new_password": "",
                                                         "confirmation": ""})
    assert summary_links(response.get_data(as_text=True)) == [
        ("#new_password", "Choisissez un mot de passe."),
        ("#confirmation", "Écrivez le mot de passe une deuxième fois."),
    ]


def test_password_change_shows_every_problem_at_once(client, factory, login_as):
    person = factory.beneficiary(factory.site())
    login_as(person)
    response = post_form(client, "/mot-de-passe", {
        "current_password": "ce n'est pas le bon", "new_password": "court",
        "confirmation": "autre"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert summary_links(page) == [
        ("#current_password", "Le mot de passe actuel n&#39;est pas le bon."),
        ("#new_password", "Le mot de passe doit avoir au moins 12 caractères."),
        ("#confirmation", "Les deux mots de passe ne sont pas identiques."),
    ]
    for name in ("current_password", "new_password", "confirmation"):
        assert_tied(page, name)


def test_password_change_still_works(client, factory, login_as):
    person = factory.beneficiary(factory.site())
    login_as(person)
    new = "les mouettes volent sur le port"
    response = post_form(client, "/mot-de-passe", {
        "current_password": PASSWORD, "new_password": new, "confirmation": new})
    assert response.status_code == 303


def test_profile_shows_every_problem_at_once(client, factory, login_as):
    person = factory.beneficiary(factory.site())
    login_as(person)
    response = post_form(client, "/mon-espace/profil", {
        "phone": "pas un numéro", "email": "pas une adresse", "postcode": "6221",
        "language": "fr"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert [href for href, _text in summary_links(page)] == ["#phone", "#email", "#postcode"]
    for name in ("phone", "email", "postcode"):
        assert_tied(page, name)
    assert re.search(r'<form [^>]*action="/mon-espace/profil"[^>]*novalidate', page)
    assert db.session.get(Beneficiary, person.id).phone == ""
