"""The desk over HTTP: a person's page offers only what the staff member may do for them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import Beneficiary, Booking
from portal.models.vocab import BookingStatus, StaffRole
from tests.conftest import csrf_from, login


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    return client


def cancel_buttons(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'action="/equipe/reservations/(\d+)/annuler"', page)}


def test_a_booking_of_a_session_already_started_offers_no_cancel_button(app, factory, site,
                                                                          frozen_now):
    staff = factory.staff(site)
    person = factory.beneficiary(site)
    started = factory.booking(factory.session(site, starts_in=timedelta(minutes=-10)), person)
    later = factory.booking(factory.session(site, starts_in=timedelta(hours=1)), person)
    client = signed_in(app, staff)
    page = client.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    assert cancel_buttons(page) == {later.id}
    # The route refuses it too, and changes nothing.
    response = client.post(f"/equipe/reservations/{started.id}/annuler",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Booking, started.id).status is BookingStatus.BOOKED


def test_a_small_site_is_offered_its_own_sessions(app, factory, site, frozen_now):
    small = factory.site(code="PET", name="Petit lieu")
    staff = factory.staff(small, StaffRole.RECEPTION)
    for hours in range(1, 95):
        factory.session(site, starts_in=timedelta(hours=hours))
    ours = factory.session(small, factory.workshop(title="Atelier du petit lieu"),
                           starts_in=timedelta(days=6))
    person = factory.beneficiary(small)
    page = signed_in(app, staff).get(f"/equipe/beneficiaires/{person.id}").get_data(
        as_text=True)
    assert re.findall(r'<option value="(\d+)">', page.split('id="session_id"')[1]
                      .split("</select>")[0]) == [str(ours.id)]


# --- registering, editing, resetting access ------------------------------------------------------


def test_register_keeps_the_input_on_a_refusal_then_shows_the_card_first(app, factory, site):
    client = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    page = client.get("/equipe/beneficiaires/nouveau").get_data(as_text=True)
    refused = client.post("/equipe/beneficiaires/nouveau", data={
        "csrf_token": csrf_from(page), "first_name": "Marie", "last_name": "Curie",
        "postcode": "626", "site": str(site.id)})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'value="Curie"' in body and 'aria-invalid="true"' in body and "5 chiffres" in body
    saved = client.post("/equipe/beneficiaires/nouveau", data={
        "csrf_token": csrf_from(page), "first_name": "Marie", "last_name": "Curie",
        "postcode": "62680", "site": str(site.id)})
    assert saved.status_code == 303
    person = db.session.scalar(db.select(Beneficiary).filter_by(last_name="Curie"))
    shown = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Imprimer sa carte d'accès maintenant" in shown
    assert f'action="/equipe/beneficiaires/{person.id}/carte"' in shown


def test_register_shows_the_likely_duplicates_then_saves_on_confirmation(app, factory, site):
    twin = factory.beneficiary(site, first_name="Hélène", last_name="Durand")
    client = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    page = client.get("/equipe/beneficiaires/nouveau").get_data(as_text=True)
    fields = {"csrf_token": csrf_from(page), "first_name": "Helene", "last_name": "Durant",
              "site": str(site.id)}
    step = client.post("/equipe/beneficiaires/nouveau", data=fields)
    body = step.get_data(as_text=True)
    assert step.status_code == 200 and f'href="/equipe/beneficiaires/{twin.id}"' in body
    assert "Ce n'est pas la même personne : enregistrer" in body
    assert db.session.scalar(db.select(db.func.count(Beneficiary.id))) == 1
    saved = client.post("/equipe/beneficiaires/nouveau", data={**fields, "confirmed": "1"})
    assert saved.status_code == 303
    assert db.session.scalar(db.select(db.func.count(Beneficiary.id))) == 2


def test_edit_keeps_the_input_and_saves(app, factory, site):
    person = factory.beneficiary(site, first_name="Marie")
    client = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    page = client.get(f"/equipe/beneficiaires/{person.id}/modifier").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "first_name": "Marie", "email": "marie@",
            "site": str(site.id), "staff_notes": "Préfère le matin"}
    refused = client.post(f"/equipe/beneficiaires/{person.id}/modifier", data=data)
    assert refused.status_code == 422 and "Préfère le matin" in refused.get_data(as_text=True)
    saved = client.post(f"/equipe/beneficiaires/{person.id}/modifier",
                        data={**data, "email": "marie@example.org"})
    assert saved.status_code == 303
    db.session.expire_all()
    person = db.session.get(Beneficiary, person.id)
    assert (person.email, person.staff_notes) == ("marie@example.org", "Préfère le matin")


def test_reset_access_answers_with_the_card_button(app, factory, site):
    person = factory.beneficiary(site)
    client = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    page = client.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    answer = client.post(f"/equipe/beneficiaires/{person.id}/acces",
                         data={"csrf_token": csrf_from(page)})
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Imprimer sa carte d'accès maintenant" in shown
    db.session.expire_all()
    assert db.session.get(Beneficiary, person.id).password_hash is None


def test_merge_search_compare_confirm_then_the_old_page_leads_to_the_kept_one(app, factory,
                                                                             site):
    kept = factory.beneficiary(site, first_name="Hélène", last_name="Durand")
    other = factory.beneficiary(site, first_name="Helene", last_name="Durant", birth_year=1950)
    client = signed_in(app, factory.staff(site, StaffRole.ANIMATEUR))
    url = f"/equipe/beneficiaires/{kept.id}/fusionner"
    found = client.get(url, query_string={"q": "durant"}).get_data(as_text=True)
    assert f"autre={other.id}" in found and f"autre={kept.id}" not in found
    compare = client.get(url, query_string={"autre": other.id}).get_data(as_text=True)
    assert 'name="keep_birth_year" value="other"' in compare
    merged = client.post(url, data={"csrf_token": csrf_from(compare), "other_id": other.id,
                                    "keep_birth_year": "other"})
    assert merged.status_code == 303
    db.session.expire_all()
    assert db.session.get(Beneficiary, kept.id).birth_year == 1950
    old = client.get(f"/equipe/beneficiaires/{other.id}")
    assert old.status_code == 302 and old.headers["Location"].endswith(
        f"/equipe/beneficiaires/{kept.id}")
    page = client.get(old.headers["Location"]).get_data(as_text=True)
    assert "Fiches fusionnées ici" in page and other.login_id_display in page


def test_reception_is_not_offered_the_merge(app, factory, site):
    person = factory.beneficiary(site)
    client = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    page = client.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    assert "/fusionner" not in page
    assert client.get(f"/equipe/beneficiaires/{person.id}/fusionner").status_code == 403


def test_the_person_page_shows_attendance_cheques_documents_and_notes(app, factory, site,
                                                                      frozen_now):
    from portal.models import Cheque
    from tests.services.scene import programme

    person = factory.beneficiary(site, staff_notes="Préfère le matin")
    booking = factory.booking(factory.session(site, factory.workshop(title="Le courriel"),
                                              starts_in=timedelta(days=-2)),
                              person, BookingStatus.PRESENT)
    aptic = programme()
    db.session.add(Cheque(programme_id=aptic.id, number="2026600001", value_cents=1000,
                          redeemed_at=frozen_now, booking_id=booking.id, site_id=site.id))
    db.session.commit()
    page = signed_in(app, factory.staff(site, StaffRole.RECEPTION)).get(
        f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    assert "Présent(e) : 1" in page and "Le courriel" in page
    assert "2026600001" in page and "Préfère le matin" in page


# --- at the door ---------------------------------------------------------------------------------


def test_a_stranger_at_the_door_is_registered_and_checked_in_without_javascript(
        app, factory, site, frozen_now):
    session = factory.session(site, starts_in=timedelta(minutes=-10))
    client = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    page = client.get(f"/equipe/seances/{session.id}/pointage").get_data(as_text=True)
    nobody = client.post(f"/equipe/seances/{session.id}/pointage/scan",
                         data={"csrf_token": csrf_from(page), "code": "Zoé Nouvelle"})
    body = nobody.get_data(as_text=True)
    url = f"/equipe/seances/{session.id}/pointage/nouvelle-personne"
    assert f'action="{url}"' in body and 'value="Zoé"' in body and 'value="Nouvelle"' in body
    refused = client.post(url, data={"csrf_token": csrf_from(page), "first_name": "",
                                     "last_name": "Nouvelle", "phone": "abc"})
    assert refused.status_code == 422 and 'value="Nouvelle"' in refused.get_data(as_text=True)
    done = client.post(url, data={"csrf_token": csrf_from(page), "first_name": "Zoé",
                                  "last_name": "Nouvelle"})
    assert done.status_code == 200
    person = db.session.scalar(db.select(Beneficiary).filter_by(last_name="Nouvelle"))
    assert person.home_site_id == site.id
    booking = db.session.scalar(db.select(Booking).filter_by(beneficiary_id=person.id))
    assert (booking.session_id, booking.status) == (session.id, BookingStatus.PRESENT)


def test_at_the_door_a_likely_duplicate_is_offered_first(app, factory, site, frozen_now):
    session = factory.session(site, starts_in=timedelta(minutes=-10))
    known = factory.beneficiary(site, first_name="Hélène", last_name="Durand")
    client = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    page = client.get(f"/equipe/seances/{session.id}/pointage").get_data(as_text=True)
    url = f"/equipe/seances/{session.id}/pointage/nouvelle-personne"
    step = client.post(url, data={"csrf_token": csrf_from(page), "first_name": "Helene",
                                  "last_name": "Durant"}).get_data(as_text=True)
    assert f'name="person_id" value="{known.id}"' in step and 'name="confirmed"' in step
    assert db.session.scalar(db.select(db.func.count(Beneficiary.id))) == 1
