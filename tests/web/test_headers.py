"""docs/security.md#headers: headers on every response, caching, error pages."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.security import CSP
from tests.conftest import csrf_from
from tests.web.security_headers import assert_security_headers

REQUIRED_CSP = ["default-src 'self'", "script-src 'self'", "object-src 'none'",
                "base-uri 'none'", "frame-ancestors 'none'"]


@pytest.mark.parametrize("url", ["/", "/connexion", "/accessibilite", "/donnees-personnelles",
                                 "/healthz", "/page-inconnue", "/static/css/portal.css"])
def test_every_public_response_has_the_security_headers(client, url):
    with client.get(url) as response:
        assert_security_headers(response, where=url, cacheable=url.startswith("/static/"))


def test_logged_in_pages_errors_and_fragments_have_them_too(client, factory, login_as):
    login_as(factory.beneficiary())
    for response in (client.get("/mon-espace/"), client.get("/equipe/"),
                     client.get("/mon-espace/", headers={"HX-Request": "true"}),
                     client.post("/deconnexion")):
        assert_security_headers(response)


def test_logged_in_pages_are_never_stored(client, factory, login_as):
    login_as(factory.beneficiary())
    response = client.get("/mon-espace/")
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    with client.get("/static/css/portal.css") as response:
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_hsts_only_in_production(client, database_url, monkeypatch):
    from portal import create_app

    assert "Strict-Transport-Security" not in client.get("/").headers
    monkeypatch.setenv("PORTAL_ENV", "production")
    production = create_app({"SECRET_KEY": "p" * 40, "SQLALCHEMY_DATABASE_URI": database_url,
                             "PUBLIC_URL": "https://portail.example.fr"})
    response = production.test_client().get("/healthz", base_url="https://localhost")
    with production.app_context():
        db.engine.dispose()
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_logout_clears_site_data(client, factory, login_as):
    login_as(factory.beneficiary())
    token = csrf_from(client.get("/mon-espace/").get_data(as_text=True))
    response = client.post("/deconnexion", data={"csrf_token": token})
    assert '"cache"' in response.headers["Clear-Site-Data"]
    assert '"storage"' in response.headers["Clear-Site-Data"]


def test_errors_are_generic_pages_without_traceback(app, client):
    @app.route("/boom-test")
    def boom():
        raise RuntimeError("secret internal detail")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    from portal import access

    access.PUBLIC_ENDPOINTS = access.PUBLIC_ENDPOINTS | {"boom"}
    try:
        response = client.get("/boom-test")
        fragment = client.get("/boom-test", headers={"HX-Request": "true"})
    finally:
        access.PUBLIC_ENDPOINTS = access.PUBLIC_ENDPOINTS - {"boom"}
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internal detail" not in text and "Traceback" not in text
    assert "Un problème est survenu" in text
    assert_security_headers(response, where=500)
    assert fragment.status_code == 500 and "secret internal detail" not in fragment.text
    assert_security_headers(fragment, where="500 htmx")


def test_htmx_errors_are_shown_in_the_flash_area(client):
    response = client.get("/page-inconnue", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#flash-area"
    body = response.get_data(as_text=True)
    assert body.startswith('<div id="error-message"') and "<html" not in body


def test_expired_session_on_htmx_request_answers_401_with_redirect(client):
    response = client.get("/mon-espace/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/connexion"


def test_csp_constant_is_strict():
    for directive in REQUIRED_CSP:
        assert directive in CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert "script-src 'self';" in CSP


def test_debug_is_off_by_default(app):
    assert app.debug is False


def test_request_body_size_is_limited(client):
    response = client.post("/connexion", data={"identifier": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_refusals_before_any_view_have_the_headers_too(client):
    """A wrong method (405), a body too large (413), a form without its CSRF token (400),
    plain and htmx: the same headers as any page (the 500 is checked above)."""
    for htmx in ({}, {"HX-Request": "true"}):
        for response, status in (
                (client.get("/deconnexion", headers=htmx), 405),
                (client.post("/connexion", headers=htmx,
                             data={"identifier": "x" * (3 * 1024 * 1024)}), 413),
                (client.post("/connexion", data={"identifier": "x"}, headers=htmx), 400)):
            assert response.status_code == status
            assert_security_headers(response, where=(status, htmx))


@pytest.mark.parametrize("query", ["?%00=1", "?a%00b=1", "?q=%00"])
def test_a_nul_byte_in_a_parameter_s_name_or_value_is_refused(client, query):
    assert client.get("/verifier" + query).status_code == 400
    assert client.post("/connexion", data={"ab\x00": "x"}).status_code == 400
