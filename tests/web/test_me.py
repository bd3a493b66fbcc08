"""The beneficiary space over HTTP: pages and partials, htmx and plain forms, access."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import Booking, Document
from portal.models.vocab import BookingStatus, DocumentKind
from portal.pdf.documents import qr_data_uri
from portal.services import calendar
from portal.services.audit import Actor
from tests.conftest import csrf_from, login


@pytest.fixture
def site(factory):
    return factory.site(phone="03 21 69 00 00")


@pytest.fixture
def person(factory, site, login_as):
    someone = factory.beneficiary(site)
    login_as(someone)
    return someone


def htmx_post(client, url, page, target="booking-panel", data=None):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})},
                       headers={"HX-Request": "true", "HX-Target": target})


def test_every_screen_answers(client, factory, site, person):
    session = factory.session(site)
    for url in ("/mon-espace/", "/mon-espace/ateliers", f"/mon-espace/seances/{session.id}",
                "/mon-espace/documents", "/mon-espace/profil"):
        assert client.get(url).status_code == 200, url


def test_search_answers_a_partial_for_htmx_and_a_page_otherwise(client, factory, site, person):
    factory.session(site, workshop=factory.workshop(title="Créer son adresse e-mail"))
    factory.session(site, workshop=factory.workshop(title="Broderie numérique"))
    partial = client.get("/mon-espace/ateliers?q=e-mail", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert body.startswith('<section id="session-results"')
    assert "Créer son adresse e-mail" in body and "Broderie" not in body
    assert "HX-Request" in partial.headers["Vary"]
    # The count is announced by the status region that stays in the page (out-of-band).
    assert '<p id="results-status" data-hx-swap-oob="innerHTML">1 atelier trouvé</p>' in body
    page = client.get("/mon-espace/ateliers?q=e-mail").get_data(as_text=True)
    assert "<html" in page and 'value="e-mail"' in page
    assert '<p id="results-status" class="visually-hidden" role="status"></p>' in page
    restore = client.get("/mon-espace/ateliers?q=e-mail",
                         headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_search_filters_ignore_bad_values(client, person):
    response = client.get("/mon-espace/ateliers?site=abc&theme=nope&niveau=x&semaine=2026-99-99")
    assert response.status_code == 200


def test_booking_with_htmx_updates_panel_seats_and_my_list(client, factory, site, person):
    session = factory.session(site, capacity=4)
    response = htmx_post(client, f"/mon-espace/seances/{session.id}/reserver",
                         f"/mon-espace/seances/{session.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.startswith('<section id="booking-panel"')
    assert 'id="seats-left" class="seats-ok" data-hx-swap-oob="true"' in body
    assert "3 places libres" in body
    assert 'id="my-upcoming"' in body and 'id="flash-area" data-hx-swap-oob="innerHTML"' in body
    assert "Vous êtes inscrit" in body


def test_booking_without_javascript_redirects_with_a_message(client, factory, site, person):
    session = factory.session(site)
    token = csrf_from(client.get(f"/mon-espace/seances/{session.id}").get_data(as_text=True))
    response = client.post(f"/mon-espace/seances/{session.id}/reserver",
                           data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "C&#39;est fait" in page and "Annuler mon inscription" in page


def test_double_booking_is_harmless(client, factory, site, person):
    session = factory.session(site)
    url, page = f"/mon-espace/seances/{session.id}/reserver", f"/mon-espace/seances/{session.id}"
    htmx_post(client, url, page)
    again = htmx_post(client, url, page)
    assert again.status_code == 409
    assert "déjà inscrit" in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Booking)) == 1


def test_full_session_offers_the_waiting_list_button(client, factory, site, person):
    session = factory.session(site, capacity=1)
    factory.booking(session, factory.beneficiary(site))
    page = client.get(f"/mon-espace/seances/{session.id}").get_data(as_text=True)
    assert "M'inscrire sur la liste d'attente" in page
    response = htmx_post(client, f"/mon-espace/seances/{session.id}/reserver",
                         f"/mon-espace/seances/{session.id}", data={"liste_attente": "1"})
    assert "liste d'attente : n° 1" in response.get_data(as_text=True)


def test_cancel_from_my_workshops_with_htmx_swaps_the_list(client, factory, site, person):
    booking = factory.booking(factory.session(site), person)
    response = htmx_post(client, f"/mon-espace/reservations/{booking.id}/annuler",
                         "/mon-espace/", target="my-bookings")
    body = response.get_data(as_text=True)
    assert body.startswith('<div id="my-bookings"')
    assert "Vous n'avez pas d'atelier prévu" in body
    assert "C&#39;est annulé" in body


def test_late_cancellation_shows_the_phone_number(client, factory, site, person):
    booking = factory.booking(factory.session(site, starts_in=timedelta(minutes=60)), person)
    page = client.get("/mon-espace/").get_data(as_text=True)
    assert "appelez le 03 21 69 00 00" in page
    response = htmx_post(client, f"/mon-espace/reservations/{booking.id}/annuler",
                         "/mon-espace/", target="my-bookings")
    assert response.status_code == 403
    assert "03 21 69 00 00" in response.get_data(as_text=True)
    db.session.refresh(booking)
    assert booking.status is BookingStatus.BOOKED


def test_calendar_file_of_a_booking(client, factory, site, person):
    booking = factory.booking(factory.session(site), person)
    response = client.get(f"/mon-espace/reservations/{booking.id}.ics")
    assert response.headers["Content-Type"].startswith("text/calendar")
    text = response.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "BEGIN:VEVENT" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_personal_feed_is_revocable(app, client, factory, site, person):
    factory.booking(factory.session(site), person)
    page = client.get("/mon-espace/profil").get_data(as_text=True)
    created = client.post("/mon-espace/profil/agenda", data={"csrf_token": csrf_from(page)},
                          follow_redirects=True)
    url = re.search(r'id="feed-url"[^>]*>([^<]+)</textarea>',
                    created.get_data(as_text=True)).group(1).strip()
    path = url.removeprefix(app.config["PUBLIC_URL"])
    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 200
    assert "BEGIN:VEVENT" in anonymous.get(path).get_data(as_text=True)
    page = client.get("/mon-espace/profil").get_data(as_text=True)
    client.post("/mon-espace/profil/agenda/supprimer", data={"csrf_token": csrf_from(page)})
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/agenda/not-a-token.ics").status_code == 404


def test_profile_update_validates_and_saves(client, person):
    page = client.get("/mon-espace/profil").get_data(as_text=True)
    bad = client.post("/mon-espace/profil", data={"csrf_token": csrf_from(page),
                                                  "phone": "pas un numéro", "language": "fr"})
    assert bad.status_code == 422 and "numéro de téléphone" in bad.get_data(as_text=True)
    good = client.post("/mon-espace/profil", data={
        "csrf_token": csrf_from(page), "phone": "06 12 34 56 78", "email": "",
        "commune": "Avion", "postcode": "62210", "language": "fr",
        "role": "admin", "first_name": "Pirate"})  # unknown fields are ignored
    assert good.status_code == 303
    db.session.refresh(person)
    assert person.phone == "0612345678" and person.commune == "Avion"
    assert person.first_name != "Pirate"


# --- access matrix: another person's objects are 404, staff screens 403 ----------------------


def test_another_persons_booking_is_a_404(app, client, factory, site, person):
    other = factory.beneficiary(site)
    theirs = factory.booking(factory.session(site), other)
    token = csrf_from(client.get("/mon-espace/").get_data(as_text=True))
    assert client.post(f"/mon-espace/reservations/{theirs.id}/annuler",
                       data={"csrf_token": token}).status_code == 404
    assert client.get(f"/mon-espace/reservations/{theirs.id}.ics").status_code == 404
    db.session.refresh(theirs)
    assert theirs.status is BookingStatus.BOOKED


def test_another_persons_document_is_a_404(client, factory, site, person):
    other = factory.beneficiary(site)
    document = Document(kind=DocumentKind.CERTIFICATE, site_id=site.id, year=2026, sequence=1,
                        number="ATT-2026-XX-000001", title="Attestation",
                        beneficiary_id=other.id, pdf=b"%PDF-1.7 test", sha256="0" * 64)
    mine = Document(kind=DocumentKind.RECEIPT, site_id=site.id, year=2026, sequence=1,
                    number="REC-2026-XX-000001", title="Reçu", beneficiary_id=person.id,
                    pdf=b"%PDF-1.7 mine", sha256="1" * 64)
    db.session.add_all([document, mine])
    db.session.commit()
    assert client.get(f"/mon-espace/documents/{document.id}.pdf").status_code == 404
    response = client.get(f"/mon-espace/documents/{mine.id}.pdf")
    assert response.status_code == 200 and response.data == b"%PDF-1.7 mine"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "REC-2026-XX-000001" in client.get("/mon-espace/documents").get_data(as_text=True)


def test_another_persons_calendar_feed_token_does_not_open_mine(app, factory, site, person):
    other = factory.beneficiary(site)
    token = calendar.create_feed_token(other, actor=Actor.system())
    factory.booking(factory.session(site), person)
    feed = app.test_client().get(f"/agenda/{token}.ics").get_data(as_text=True)
    assert "BEGIN:VEVENT" not in feed  # the other person has no booking


def test_beneficiaries_cannot_use_the_desk(client, factory, site, person):
    other = factory.beneficiary(site)
    assert client.get("/equipe/beneficiaires").status_code == 403
    assert client.get(f"/equipe/beneficiaires/{other.id}").status_code == 403


def test_staff_of_another_site_cannot_see_a_person(app, factory, site):
    person = factory.beneficiary(site)
    stranger = factory.staff(factory.site())
    client = app.test_client()
    login(client, stranger.email)
    assert client.get(f"/equipe/beneficiaires/{person.id}").status_code == 404
    results = client.get(f"/equipe/beneficiaires?q={person.last_name}",
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert person.last_name not in results and "0 personne" in results


def test_staff_books_and_cancels_at_the_desk(app, factory, site):
    person = factory.beneficiary(site)
    staff = factory.staff(site)
    session = factory.session(site)
    client = app.test_client()
    login(client, staff.email)
    page = client.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    response = client.post(f"/equipe/beneficiaires/{person.id}/reserver",
                           data={"csrf_token": csrf_from(page), "session_id": session.id})
    assert response.status_code == 303
    booking = db.session.scalars(db.select(Booking)).one()
    assert booking.created_by_id == staff.id and booking.source.value == "desk"
    page = client.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    client.post(f"/equipe/reservations/{booking.id}/annuler",
                data={"csrf_token": csrf_from(page)})
    db.session.refresh(booking)
    assert booking.status is BookingStatus.CANCELLED


# --- query counts do not grow with the number of bookings --------------------------------


def _queries_for(client, count_queries, url):
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_my_workshops_query_count_is_bounded(client, factory, site, person, count_queries):
    for _ in range(2):
        factory.booking(factory.session(site), person)
    few = _queries_for(client, count_queries, "/mon-espace/")
    for days in range(3, 23):
        factory.booking(factory.session(site, starts_in=timedelta(days=days)), person)
    for days in range(1, 8):
        factory.booking(factory.session(site, starts_in=timedelta(days=-days)), person,
                        status=BookingStatus.PRESENT)
    many = _queries_for(client, count_queries, "/mon-espace/")
    assert many == few
    assert many <= 12


def test_search_query_count_is_bounded(client, factory, site, person, count_queries):
    factory.session(site)
    few = _queries_for(client, count_queries, "/mon-espace/ateliers")
    for days in range(3, 30):
        factory.session(site, starts_in=timedelta(days=days))
    many = _queries_for(client, count_queries, "/mon-espace/ateliers")
    assert many == few
    assert many <= 12


def test_staff_books_a_whole_course_at_the_desk(app, factory, site):
    from portal.models import Course

    person = factory.beneficiary(site)
    staff = factory.staff(site)
    course = Course(site_id=site.id, title="Parcours Débuter")
    db.session.add(course)
    db.session.commit()
    for days in (2, 9):
        factory.session(site, starts_in=timedelta(days=days), course_id=course.id)
    client = app.test_client()
    login(client, staff.email)
    page = client.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    assert "Parcours Débuter" in page
    client.post(f"/equipe/beneficiaires/{person.id}/parcours",
                data={"csrf_token": csrf_from(page), "course_id": course.id})
    rows = db.session.scalars(db.select(Booking).filter_by(beneficiary_id=person.id)).all()
    assert len(rows) == 2 and {b.source.value for b in rows} == {"desk"}


def test_desk_messages_speak_to_staff(app, factory, site):
    person = factory.beneficiary(site, first_name="Odile")
    staff = factory.staff(site)
    session = factory.session(site)
    factory.booking(session, person)
    client = app.test_client()
    login(client, staff.email)
    page = client.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    response = client.post(f"/equipe/beneficiaires/{person.id}/reserver",
                           data={"csrf_token": csrf_from(page), "session_id": session.id})
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Odile a déjà une place à cette séance." in follow


def test_a_booked_person_sees_the_code_to_show_at_the_door(client, factory, site, person):
    session = factory.session(site)
    booking = factory.booking(session, person, code="HX7KP4RM")
    page = client.get(f"/mon-espace/seances/{session.id}").get_data(as_text=True)
    assert "HX7K-P4RM" in page
    # The QR code carries the booking code itself: the check-in scanner reads it from a phone.
    assert f'src="{qr_data_uri(booking.code)}"' in page
    assert 'alt="QR code à montrer à l\'accueil (code HX7K-P4RM)"' in page
