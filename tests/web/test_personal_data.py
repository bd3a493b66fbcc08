"""Personal data screens: the person's data from their staff page (PDF and JSON, no-store,
audited), the anonymisation confirmation (422 keeping what was typed, refusals), the person's
own download from their profile, the privacy page's retention figure == purge's."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, Beneficiary
from portal.models.vocab import StaffRole
from portal.services import personal_data
from tests.conftest import csrf_from, login


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


def signed_in(app, principal, identifier=None):
    client = app.test_client()
    assert login(client, identifier or principal.email).status_code == 303
    page = "/equipe/" if identifier is None else "/mon-espace/profil"
    client.token = csrf_from(client.get(page).get_data(as_text=True))
    return client


@pytest.fixture
def person(factory, site):
    return factory.beneficiary(site, first_name="Hélène", last_name="Durandière",
                               email="helene@example.org")


@pytest.fixture
def admin(app, factory, site):
    return signed_in(app, factory.staff(site, StaffRole.ADMIN))


@pytest.fixture
def reception(app, factory, site):
    return signed_in(app, factory.staff(site, StaffRole.RECEPTION))


def actions(person_id: int) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.object_type == "beneficiary", AuditEvent.object_id == str(person_id))))


def test_reception_sees_neither_the_exports_nor_anonymisation(reception, person):
    """A person's whole data spans every site where they are known: the site's
    administrator answers such a request, not the desk."""
    page = reception.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    assert "/donnees." not in page and "/anonymiser" not in page
    refused = reception.post(f"/equipe/beneficiaires/{person.id}/donnees.json",
                             data={"csrf_token": reception.token})
    assert refused.status_code == 403


def test_staff_page_offers_both_exports_and_the_admin_downloads_json(admin, person):
    page = admin.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    assert f"/equipe/beneficiaires/{person.id}/donnees.json" in page
    assert f"/equipe/beneficiaires/{person.id}/donnees.pdf" in page

    response = admin.post(f"/equipe/beneficiaires/{person.id}/donnees.json",
                          data={"csrf_token": admin.token})

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    assert json.loads(response.data)["contact"]["email"] == "helene@example.org"
    assert "person.data_export" in actions(person.id)


def test_staff_export_as_pdf(admin, person):
    response = admin.post(f"/equipe/beneficiaires/{person.id}/donnees.pdf",
                          data={"csrf_token": admin.token})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_another_sites_person_is_a_404(app, factory, person):
    stranger = signed_in(app, factory.staff(factory.site(), StaffRole.ADMIN))
    for url in (f"/equipe/beneficiaires/{person.id}/donnees.json",
                f"/equipe/beneficiaires/{person.id}/anonymiser"):
        assert stranger.post(url, data={"csrf_token": stranger.token}).status_code == 404


def test_anonymise_needs_a_confirmation_and_keeps_what_was_typed(admin, reception, person):
    url = f"/equipe/beneficiaires/{person.id}/anonymiser"
    assert reception.get(url).status_code == 403
    page = admin.get(url)
    assert page.status_code == 200
    assert "Ce qui est effacé" in page.get_data(as_text=True)

    refused = admin.post(url, data={"csrf_token": admin.token, "first_name": "Hélèn"})

    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'value="Hélèn"' in html and 'aria-invalid="true"' in html
    assert not db.session.get(Beneficiary, person.id).is_anonymised

    done = admin.post(url, data={"csrf_token": admin.token, "confirm": "1"})

    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(Beneficiary, person.id).is_anonymised
    assert "person.anonymise" in actions(person.id)
    assert admin.get(f"/equipe/beneficiaires/{person.id}").status_code == 404


def test_beneficiary_downloads_their_own_data_only(app, factory, site, person):
    factory.beneficiary(site, first_name="Autre", email="autre@example.org")
    me = signed_in(app, person, identifier=person.login_id)
    profile = me.get("/mon-espace/profil").get_data(as_text=True)
    assert "/mon-espace/profil/mes-donnees.json" in profile

    response = me.post("/mon-espace/profil/mes-donnees.json", data={"csrf_token": me.token})

    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.data)
    assert data["identity"]["id"] == person.id and "autre@example.org" not in response.text
    assert "person.data_export" in actions(person.id)
    pdf = me.post("/mon-espace/profil/mes-donnees.pdf", data={"csrf_token": me.token})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert me.post("/mon-espace/profil/mes-donnees.json").status_code == 400


def retention_on_page(client) -> int:
    html = client.get("/donnees-personnelles").get_data(as_text=True)
    return int(re.search(r'id="retention">[^0-9]*([0-9]+) mois', html).group(1))


def test_privacy_page_retention_is_the_one_purge_uses(app, client, factory, site):
    assert retention_on_page(client) == 12
    site.retention_months = 18
    db.session.commit()
    assert retention_on_page(client) == 18
    # The purge anonymises after exactly that many months at that site, not before.
    clock.freeze(clock.now() - timedelta(days=round(18 * 365.25 / 12) + 2))
    old = factory.beneficiary(site)
    clock.freeze(clock.now() + timedelta(days=4))
    younger = factory.beneficiary(site)
    clock.unfreeze()
    assert personal_data.purge(dry_run=True).due == [old.id]
    assert younger.id not in personal_data.purge().anonymised


def test_privacy_page_lists_each_sites_retention_when_they_differ(app, client, factory, site):
    other = factory.site(code="LIE", name="Médiathèque de Liévin")
    other.retention_months = 24
    db.session.commit()
    html = client.get("/donnees-personnelles").get_data(as_text=True)
    shown = dict(re.findall(r'class="retention-site"><span[^>]*>([^<]+)</span> : ([0-9]+) mois',
                            html))
    assert shown == {site.name: "12", "Médiathèque de Liévin": "24"}
    assert "le temps le plus long compte" in html
    # The purge keeps someone known at both sites for the longer of the two.
    clock.freeze(clock.now() - timedelta(days=round(18 * 365.25 / 12)))
    both = factory.beneficiary(site)
    factory.booking(factory.session(other, starts_in=timedelta(days=-1)), both)
    clock.unfreeze()
    assert both.id not in personal_data.purge(dry_run=True).due


def test_purge_command_prints_ids_and_counts_only(app, factory, site):
    clock.freeze(clock.now() - timedelta(days=800))
    old = factory.beneficiary(site, first_name="Gaston")
    clock.unfreeze()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["purge", "--dry-run"])
    assert dry.exit_code == 0 and str(old.id) in dry.output and "Gaston" not in dry.output
    assert not db.session.get(Beneficiary, old.id).is_anonymised
    assert runner.invoke(args=["purge"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Beneficiary, old.id).is_anonymised
    again = runner.invoke(args=["purge"])
    assert again.exit_code == 0 and "0 personne" in again.output


def test_privacy_page_states_how_long_ended_logins_are_kept_as_purge_sessions_does(app, client):
    html = client.get("/donnees-personnelles").get_data(as_text=True)
    days = int(re.search(r'id="sessions-kept">[^0-9]*([0-9]+) jours', html).group(1))
    command = app.cli.commands["purge-sessions"]
    assert days == next(p.default for p in command.params if p.name == "days")
