"""docs/security.md#public-allow-list and #csrf: every route needs a login unless it is on the
public allow-list; no state change on GET; CSRF on every state change, login included."""

from __future__ import annotations

import re

import pytest

from portal.access import PUBLIC_ENDPOINTS
from tests.conftest import PASSWORD


def concrete_url(rule) -> str:
    url = rule.rule
    for argument in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{argument}>", "1", url)
    return url


def all_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_every_non_public_route_needs_a_login(app, client):
    checked = 0
    for rule in all_rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(concrete_url(rule), method=method)
            # Anonymous: redirected to the login page (or refused by CSRF before any change).
            assert response.status_code in (302, 400), (rule.rule, method, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/connexion")
            checked += 1
    assert checked >= 3


def test_htmx_fragments_need_a_login_too(app, client):
    for rule in all_rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in rule.methods:
            continue
        response = client.get(concrete_url(rule), headers={"HX-Request": "true"})
        assert response.status_code == 401, rule.rule


def test_public_allow_list_is_small_and_known(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert PUBLIC_ENDPOINTS <= endpoints
    assert PUBLIC_ENDPOINTS == {
        "static", "public.home", "public.accessibility", "public.privacy", "public.healthz",
        "public.set_language", "auth.login", "auth.first_login", "calendar_feed.feed",
        "public.verify", "public.verify_form",
        "auth.invitation", "auth.invitation_code",  # a colleague's invitation (its token)
    }


def test_beneficiaries_cannot_open_staff_screens(client, factory, login_as):
    login_as(factory.beneficiary())
    assert client.get("/equipe/").status_code == 403


def test_staff_cannot_open_the_beneficiary_space(client, factory, login_as):
    login_as(factory.staff(factory.site()))
    assert client.get("/mon-espace/").status_code == 403


def test_no_route_changes_state_on_get(app):
    for rule in all_rules(app):
        if "GET" in rule.methods:
            assert not any(word in rule.endpoint for word in ("logout", "delete", "cancel",
                                                              "set_language", "keep_alive")), rule


@pytest.mark.parametrize("url", ["/connexion", "/deconnexion", "/langue", "/session/prolonger",
                                 "/mot-de-passe", "/premiere-connexion"])
def test_state_changes_without_csrf_token_are_refused(client, factory, url):
    person = factory.beneficiary()
    response = client.post(url, data={"identifier": person.login_id, "password": PASSWORD})
    assert response.status_code in (400, 302)
    if url == "/connexion":
        assert response.status_code == 400
        assert client.get("/mon-espace/").status_code == 302  # not logged in


def test_login_with_csrf_token_from_another_session_is_refused(app, client, factory):
    person = factory.beneficiary()
    other = app.test_client()
    page = other.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/connexion", data={"identifier": person.login_id,
                                               "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400


def test_open_redirects_after_login_are_ignored(client, factory):
    from tests.conftest import post_form

    person = factory.beneficiary()
    for target in ("https://evil.example", "//evil.example", "/\\evil.example"):
        response = post_form(client, "/connexion", {"identifier": person.login_id,
                                                    "password": PASSWORD, "next": target})
        assert response.headers["Location"] == "/mon-espace/", target
        client.post("/deconnexion")  # CSRF-refused: clear the cookie jar instead
        client.delete_cookie("portail_session")


# --- logged in: the login guard no longer answers first ------------------------------------------


@pytest.fixture
def one_of_each(factory, frozen_now):
    """Row 1 of each kind a route names, so that a route that acts would act on something:
    a session of today that started ten minutes ago, a booking of it, the person booked."""
    from datetime import timedelta

    site = factory.site()
    person = factory.beneficiary(site)
    session = factory.session(site, factory.workshop(grants_attestation=True),
                              starts_in=timedelta(minutes=-10))
    factory.booking(session, person)
    return site, person


def _audience(factory, login_as, site, person, audience):
    from portal.models.vocab import StaffRole

    if audience == "staff":
        login_as(factory.staff(site, role=StaffRole.ADMIN))
        return "staff."
    login_as(person)
    return "me."


def _snapshot():
    """Every row of every table but the login sessions and the (append-only) audit trail."""
    from portal.extensions import db

    db.session.expire_all()
    return {table.name: sorted(map(tuple, db.session.execute(table.select()).all()), key=repr)
            for table in db.metadata.sorted_tables
            if table.name not in ("login_session", "audit_event")}


@pytest.mark.parametrize("audience", ["staff", "beneficiary"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_logged_in_posts_without_csrf_token_are_refused(app, client, factory, login_as,
                                                        one_of_each, audience, htmx):
    prefix = _audience(factory, login_as, *one_of_each, audience)
    before = _snapshot()
    checked = 0
    for rule in all_rules(app):
        if "POST" not in rule.methods or not rule.endpoint.startswith(prefix):
            continue
        response = client.post(concrete_url(rule), data={"action": "present", "code": "B"},
                               headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code == 400, (rule.rule, response.status_code)
        checked += 1
    assert checked >= 5
    assert _snapshot() == before


@pytest.mark.parametrize("audience", ["staff", "beneficiary"])
def test_logged_in_gets_change_nothing(app, client, factory, login_as, one_of_each, audience):
    prefix = _audience(factory, login_as, *one_of_each, audience)
    before = _snapshot()
    checked = 0
    for rule in all_rules(app):
        if "GET" not in rule.methods or not rule.endpoint.startswith(prefix):
            continue
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(concrete_url(rule), headers=headers)
            assert response.status_code < 500, (rule.rule, response.status_code)
        checked += 1
    assert checked >= 5
    assert _snapshot() == before
