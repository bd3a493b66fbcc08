"""Staff individual help screens: recording without JavaScript (defaults, 422 keeping what was
typed), pre-filled from a person's page, the list and its filters, cheques and the receipt,
edit and delete by the author or an administrator only, the person's history."""

from __future__ import annotations

from datetime import date

import pytest

from portal.clock import today_local
from portal.extensions import db
from portal.models import Accompaniment, Cheque, ChequeProgramme
from portal.models.vocab import StaffRole
from tests.conftest import csrf_from, login


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    client.token = csrf_from(client.get("/equipe/accompagnements/nouveau").get_data(
        as_text=True))
    return client


@pytest.fixture
def reception(app, factory, site):
    staff = factory.staff(site, StaffRole.RECEPTION)
    client = signed_in(app, staff)
    client.staff_id = staff.id
    return client


def fields(site, **changes):
    values = {"site": str(site.id), "day": today_local().isoformat(), "hour": "10:00",
              "duration": "30", "themes": ["email"], "equipment": "computer",
              "place": "on_site", "referred": "0"}
    values.update(changes)
    return values


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": client.token})


def only_help() -> Accompaniment:
    db.session.expire_all()
    return db.session.scalars(db.select(Accompaniment)).one()


def test_the_form_opens_with_sensible_defaults(reception, site):
    page = reception.get("/equipe/accompagnements/nouveau").get_data(as_text=True)
    assert 'name="duration" value="30" checked' in page
    assert 'name="place" value="on_site" checked' in page
    assert 'name="equipment" value="computer" checked' in page
    assert f'value="{today_local().isoformat()}"' in page
    assert page.index('id="themes"') < page.index('id="duration"')  # themes first


def test_help_is_recorded_without_javascript_then_cheques_can_be_taken(reception, site):
    db.session.add(ChequeProgramme(name="APTIC", issuer="Département", operator="APTIC",
                                   number_pattern=r"[0-9]{10}",
                                   validity_end=date(today_local().year + 1, 12, 31)))
    db.session.commit()
    response = post(reception, "/equipe/accompagnements/nouveau", fields(site))
    assert response.status_code == 303
    help_ = only_help()
    assert response.headers["Location"].endswith(f"/equipe/accompagnements/{help_.id}")
    page = reception.get(response.headers["Location"]).get_data(as_text=True)
    assert "Encaisser des chèques" in page and 'name="numbers"' in page
    response = post(reception, f"/equipe/accompagnements/{help_.id}/cheques",
                    {"numbers": "2026620101"})
    assert response.status_code == 303
    page = reception.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imprimer le reçu n° REC-" in page
    cheque = db.session.scalars(db.select(Cheque)).one()
    assert cheque.accompaniment_id == help_.id
    # a used cheque is refused for another help, keeping what was typed
    post(reception, "/equipe/accompagnements/nouveau", fields(site))
    other = db.session.scalars(db.select(Accompaniment).order_by(Accompaniment.id.desc())).first()
    refused = post(reception, f"/equipe/accompagnements/{other.id}/cheques",
                   {"numbers": "2026620101"})
    assert refused.status_code == 422
    assert "déjà pris" in refused.get_data(as_text=True)


def test_a_refused_form_comes_back_422_with_what_was_typed(reception, site):
    response = post(reception, "/equipe/accompagnements/nouveau",
                    fields(site, themes=[], notes="Rappeler lundi", duration="autre",
                           duration_other="2000"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choisissez au moins un thème." in page and "Rappeler lundi" in page
    assert 'value="2000"' in page and 'id="error-summary"' in page
    assert db.session.scalars(db.select(Accompaniment)).all() == []


def test_the_persons_page_prefills_the_form_and_shows_the_history(reception, site, factory):
    person = factory.beneficiary(site, first_name="Lucie", last_name="Carpentier")
    page = reception.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    assert f"/equipe/accompagnements/nouveau?personne={person.id}" in page
    form = reception.get(f"/equipe/accompagnements/nouveau?personne={person.id}")
    assert f'name="person" value="{person.id}" checked' in form.get_data(as_text=True)
    post(reception, "/equipe/accompagnements/nouveau", fields(site, person=str(person.id)))
    help_ = only_help()
    assert help_.beneficiary_id == person.id
    page = reception.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    assert f"/equipe/accompagnements/{help_.id}" in page


def test_a_person_of_another_site_is_not_prefilled(reception, factory):
    stranger = factory.beneficiary(factory.site(), first_name="Inconnue")
    page = reception.get(f"/equipe/accompagnements/nouveau?personne={stranger.id}")
    assert page.status_code == 200 and "Inconnue" not in page.get_data(as_text=True)


def test_the_list_filters_and_totals(reception, site):
    post(reception, "/equipe/accompagnements/nouveau", fields(site, duration="60"))
    post(reception, "/equipe/accompagnements/nouveau",
         fields(site, place="remote", themes=["security"]))
    page = reception.get("/equipe/accompagnements").get_data(as_text=True)
    assert "2 accompagnements" in page and "1\u00a0h\u00a030" in page
    page = reception.get("/equipe/accompagnements?lieu=remote").get_data(as_text=True)
    assert "1 accompagnement" in page
    page = reception.get("/equipe/accompagnements?theme=nope&du=x&page=999")
    assert page.status_code == 200


def test_only_the_author_or_an_administrator_edits_and_deletes(app, reception, site, factory):
    post(reception, "/equipe/accompagnements/nouveau", fields(site))
    help_ = only_help()
    colleague = signed_in(app, factory.staff(site, StaffRole.ANIMATEUR))
    assert colleague.get(f"/equipe/accompagnements/{help_.id}").status_code == 200
    assert colleague.get(f"/equipe/accompagnements/{help_.id}/modifier").status_code == 403
    assert post(colleague, f"/equipe/accompagnements/{help_.id}/supprimer", {}).status_code \
        == 403
    edit = reception.get(f"/equipe/accompagnements/{help_.id}/modifier")
    assert edit.status_code == 200
    response = post(reception, f"/equipe/accompagnements/{help_.id}/modifier",
                    fields(site, duration="90"))
    assert response.status_code == 303
    assert only_help().duration_minutes == 90
    admin = signed_in(app, factory.staff(site, StaffRole.ADMIN))
    confirm = admin.get(f"/equipe/accompagnements/{help_.id}/supprimer")
    assert "Oui, supprimer" in confirm.get_data(as_text=True)
    assert post(admin, f"/equipe/accompagnements/{help_.id}/supprimer", {}).status_code == 303
    assert db.session.scalars(db.select(Accompaniment)).all() == []


def test_deleting_a_paid_help_is_refused_and_says_why(reception, site):
    db.session.add(ChequeProgramme(name="APTIC", issuer="Département", operator="APTIC",
                                   number_pattern=r"[0-9]{10}",
                                   validity_end=date(today_local().year + 1, 12, 31)))
    db.session.commit()
    post(reception, "/equipe/accompagnements/nouveau", fields(site))
    help_ = only_help()
    post(reception, f"/equipe/accompagnements/{help_.id}/cheques", {"numbers": "2026620101"})
    page = reception.get(f"/equipe/accompagnements/{help_.id}/supprimer")
    assert "trace comptable" in page.get_data(as_text=True)
    refused = post(reception, f"/equipe/accompagnements/{help_.id}/supprimer", {})
    assert refused.status_code == 422 and "trace comptable" in refused.get_data(as_text=True)
    assert db.session.scalars(db.select(Accompaniment)).one()


def test_another_sites_help_is_a_404(app, reception, factory):
    elsewhere = factory.site()
    outsider = signed_in(app, factory.staff(elsewhere, StaffRole.ADMIN))
    post(outsider, "/equipe/accompagnements/nouveau", fields(elsewhere))
    help_ = only_help()
    assert reception.get(f"/equipe/accompagnements/{help_.id}").status_code == 404
    assert post(reception, f"/equipe/accompagnements/{help_.id}/cheques",
                {"numbers": "2026620101"}).status_code == 404
