"""Staff catalogue screens: refused forms shown again (422) with what was typed, the preview
as the beneficiary will see it (htmx as one types, and a plain "Aperçu" button), reception
seeing without edit buttons, the beneficiary's page showing paragraphs and lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import AuditEvent, Course, Workshop
from portal.models.vocab import StaffRole
from tests.conftest import csrf_from, login

DESCRIPTION = "Premier paragraphe.\n\nOn verra :\n- l'écran\n• <b>les boutons</b>"


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    client.token = csrf_from(client.get("/equipe/catalogue/ateliers/nouveau").get_data(
        as_text=True)) if staff.roles or staff.is_network_admin else ""
    return client


def fields(site, **changes):
    values = {"title": "Premiers pas", "description": DESCRIPTION, "themes": ["email"],
              "level": "beginner", "equipment": "computer", "duration_minutes": "90",
              "price_cheques": "1", "objectives": "Envoyer un e-mail", "site": str(site.id),
              "intent": "save"}
    values.update(changes)
    return values


@pytest.fixture
def animateur(app, factory, site):
    return signed_in(app, factory.staff(site, StaffRole.ANIMATEUR))


def test_a_workshop_is_saved_and_listed(animateur, site):
    response = animateur.post("/equipe/catalogue/ateliers/nouveau",
                              data={**fields(site), "csrf_token": animateur.token})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/equipe/catalogue")
    workshop = db.session.scalars(db.select(Workshop)).one()
    assert workshop.title == "Premiers pas" and workshop.site_id == site.id
    page = animateur.get("/equipe/catalogue").get_data(as_text=True)
    assert "Premiers pas" in page and f"/equipe/catalogue/ateliers/{workshop.id}" in page


def test_a_refused_form_comes_back_422_with_what_was_typed(animateur, site):
    response = animateur.post("/equipe/catalogue/ateliers/nouveau", data={
        **fields(site, price_cheques="25", themes=[]), "csrf_token": animateur.token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="error-summary"' in page and 'href="#price_cheques"' in page
    assert 'href="#themes"' in page
    assert 'id="price_cheques" name="price_cheques" value="25"' in page
    assert 'aria-invalid="true" aria-describedby="price_cheques-error price_cheques-help"' in page
    assert 'value="Premiers pas"' in page
    assert db.session.scalar(db.select(db.func.count(Workshop.id))) == 0


def _preview(page: str) -> str:
    return page.split('id="preview-body"', 1)[1].split("</section>", 1)[0]


def test_the_plain_preview_button_shows_paragraphs_and_lists_and_saves_nothing(animateur,
                                                                              site):
    response = animateur.post("/equipe/catalogue/ateliers/nouveau", data={
        **fields(site, intent="preview"), "csrf_token": animateur.token})
    assert response.status_code == 200
    preview = _preview(response.get_data(as_text=True))
    assert "<p>Premier paragraphe.</p>" in preview
    assert "<li>l&#39;écran</li><li>&lt;b&gt;les boutons&lt;/b&gt;</li>" in preview
    assert "<li>Envoyer un e-mail</li>" in preview
    assert db.session.scalar(db.select(db.func.count(Workshop.id))) == 0


def test_the_htmx_preview_answers_the_fragment_only(animateur, site):
    response = animateur.post("/equipe/catalogue/ateliers/apercu", data=fields(site),
                              headers={"HX-Request": "true", "X-CSRFToken": animateur.token})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "<html" not in text and "<p>Premier paragraphe.</p>" in text
    assert "<dd>1\xa0h\xa030</dd>" in text and "<dd>1 chèque APTIC</dd>" in text
    odd = animateur.post("/equipe/catalogue/ateliers/apercu",
                         data=fields(site, duration_minutes="9" * 30, price_cheques="-1"),
                         headers={"HX-Request": "true", "X-CSRFToken": animateur.token})
    assert odd.status_code == 200 and "Durée" not in odd.get_data(as_text=True)
    form = animateur.get("/equipe/catalogue/ateliers/nouveau").get_data(as_text=True)
    assert 'data-hx-post="/equipe/catalogue/ateliers/apercu"' in form
    assert 'data-hx-trigger="input delay:400ms"' in form


def test_the_beneficiary_page_renders_the_description_with_the_same_macro(app, factory, site,
                                                                         animateur):
    animateur.post("/equipe/catalogue/ateliers/nouveau",
                   data={**fields(site), "csrf_token": animateur.token})
    workshop = db.session.scalars(db.select(Workshop)).one()
    session = factory.session(site, workshop, starts_in=timedelta(days=3))
    person = factory.beneficiary(site)
    client = app.test_client()
    assert login(client, person.login_id).status_code == 303
    page = _beneficiary_session_page(client, session.id)
    assert "<p>Premier paragraphe.</p>" in page
    assert "<li>&lt;b&gt;les boutons&lt;/b&gt;</li>" in page
    assert "pre-line" not in page.split("session-title", 1)[1].split("facts-list", 1)[0]


def _beneficiary_session_page(client, session_id: int) -> str:
    from flask import url_for
    with client.application.test_request_context():
        url = url_for("me.session_detail", session_id=session_id)
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_edit_is_saved_and_archiving_with_upcoming_sessions_is_refused_in_plain_words(
        animateur, factory, site):
    animateur.post("/equipe/catalogue/ateliers/nouveau",
                   data={**fields(site), "csrf_token": animateur.token})
    workshop = db.session.scalars(db.select(Workshop)).one()
    url = f"/equipe/catalogue/ateliers/{workshop.id}"
    assert animateur.post(url, data={**fields(site, title="Premiers pas (2)"),
                                     "csrf_token": animateur.token}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Workshop, workshop.id).title == "Premiers pas (2)"
    factory.session(site, workshop, starts_in=timedelta(days=3))
    response = animateur.post(f"{url}/archiver", data={"csrf_token": animateur.token})
    assert response.status_code == 422
    assert "1 séance prévue" in response.get_data(as_text=True)
    assert db.session.get(Workshop, workshop.id).is_active


def test_reception_sees_the_catalogue_without_edit_buttons_and_cannot_post(app, factory,
                                                                          site):
    workshop = factory.workshop(title="Atelier du lieu", site_id=site.id)
    client = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    page = client.get("/equipe/catalogue").get_data(as_text=True)
    assert "Atelier du lieu" in page
    assert "archiver" not in page and "Créer un atelier" not in page
    page = client.get(f"/equipe/catalogue/ateliers/{workshop.id}").get_data(as_text=True)
    assert 'action="/equipe/catalogue' not in page and 'name="title"' not in page
    assert "Atelier du lieu" in page  # the preview, as the beneficiary sees it
    response = client.post(f"/equipe/catalogue/ateliers/{workshop.id}",
                           data={**fields(site), "csrf_token": client.token})
    assert response.status_code == 403
    assert db.session.get(Workshop, workshop.id).title == "Atelier du lieu"


def test_another_sites_workshop_is_a_404(app, factory, site):
    elsewhere = factory.site(code="LEN", name="Lens")
    workshop = factory.workshop(title="Ailleurs", site_id=elsewhere.id)
    client = signed_in(app, factory.staff(site, StaffRole.ANIMATEUR))
    assert client.get(f"/equipe/catalogue/ateliers/{workshop.id}").status_code == 404
    assert "Ailleurs" not in client.get("/equipe/catalogue").get_data(as_text=True)


def test_a_course_is_created_then_given_its_sessions(animateur, factory, site):
    response = animateur.post("/equipe/catalogue/parcours/nouveau", data={
        "title": "Parcours e-mail", "site": str(site.id), "completion_rule": "all_sessions",
        "grants_attestation": "1", "csrf_token": animateur.token})
    assert response.status_code == 303
    course = db.session.scalars(db.select(Course)).one()
    session = factory.session(site, starts_in=timedelta(days=4))
    url = f"/equipe/catalogue/parcours/{course.id}"
    assert f'<option value="{session.id}">' in animateur.get(url).get_data(as_text=True)
    response = animateur.post(f"{url}/seances", data={"session_id": str(session.id),
                                                     "csrf_token": animateur.token})
    assert response.status_code == 303
    db.session.expire_all()
    assert session.course_id == course.id
    response = animateur.post(url, data={"title": "Parcours e-mail", "site": str(site.id),
                                         "completion_rule": "threshold", "min_sessions": "2",
                                         "csrf_token": animateur.token})
    assert response.status_code == 422
    assert "entre 1 et 1" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))
                             .where(AuditEvent.action.like("course.%"))) == 2
