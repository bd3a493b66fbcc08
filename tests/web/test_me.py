"""The beneficiary space over HTTP: pages and partials, htmx and plain forms, access."""

from __future__ import annotations

import json
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
    assert 'id="my-upcoming"' in body
    # The confirmation is told in the panel, where the person acted, and takes the focus;
    # nothing is sent to the flash area at the top of the page.
    assert "flash-area" not in body
    notice = re.search(r'<div id="booking-notice"[^>]*>', body).group(0)
    assert 'role="status"' in notice and 'tabindex="-1"' in notice and "autofocus" in notice
    assert "C&#39;est fait ! Votre place est réservée" in body


def test_booking_without_javascript_redirects_with_a_message(client, factory, site, person):
    session = factory.session(site)
    token = csrf_from(client.get(f"/mon-espace/seances/{session.id}").get_data(as_text=True))
    response = client.post(f"/mon-espace/seances/{session.id}/reserver",
                           data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Annuler mon inscription" in page
    # In the panel, focused on load (no script needed), not at the top of the page.
    panel = page[page.index('id="booking-panel"'):]
    assert '<div id="booking-notice" class="notice notice-success" role="status" ' \
           'tabindex="-1" autofocus>' in panel
    assert "C&#39;est fait" in panel
    assert "C&#39;est fait" not in page[page.index('id="flash-area"'):page.index("</div>",
                                        page.index('id="flash-area"'))]
    # Shown once.
    assert "booking-notice" not in client.get(response.headers["Location"]).get_data(
        as_text=True)


def test_a_refused_booking_is_told_in_the_panel_without_javascript(client, factory):
    site = factory.site(max_upcoming_bookings=1)
    someone = factory.beneficiary(site)
    login(client, someone.login_id)
    factory.booking(factory.session(site), someone)
    session = factory.session(site, starts_in=timedelta(days=3))
    page = client.get(f"/mon-espace/seances/{session.id}").get_data(as_text=True)
    response = client.post(f"/mon-espace/seances/{session.id}/reserver",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    panel = body[body.index('id="booking-panel"'):]
    assert 'role="alert" tabindex="-1" autofocus' in panel
    assert "c&#39;est le maximum" in panel
    assert bookings_count(someone) == 1


def test_a_refused_booking_is_told_in_the_panel_with_htmx(client, factory):
    site = factory.site(max_upcoming_bookings=1)
    someone = factory.beneficiary(site)
    login(client, someone.login_id)
    factory.booking(factory.session(site), someone)
    session = factory.session(site, starts_in=timedelta(days=3))
    response = htmx_post(client, f"/mon-espace/seances/{session.id}/reserver",
                         f"/mon-espace/seances/{session.id}")
    assert response.status_code == 200  # an answer shown in place, not an error
    body = response.get_data(as_text=True)
    assert body.startswith('<section id="booking-panel"')
    assert 'role="alert" tabindex="-1" autofocus' in body and "c&#39;est le maximum" in body
    assert "Je m'inscris" in body  # the button is still there
    assert bookings_count(someone) == 1


def test_double_booking_is_harmless(client, factory, site, person):
    session = factory.session(site)
    url, page = f"/mon-espace/seances/{session.id}/reserver", f"/mon-espace/seances/{session.id}"
    htmx_post(client, url, page)
    again = htmx_post(client, url, page)
    assert again.status_code == 200
    assert "Vous avez déjà réservé votre place" in again.get_data(as_text=True)
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
                         "/mon-espace/", target="my-bookings", data={"back": "mes-ateliers"})
    body = response.get_data(as_text=True)
    assert body.startswith('<div id="my-bookings"')
    # The row stays for this answer, with the confirmation in it, focused.
    card = body[body.index(f'id="booking-{booking.id}"'):]
    assert 'role="status" tabindex="-1" autofocus' in card
    assert "C&#39;est annulé" in card
    assert "flash-area" not in body


def test_cancelling_asks_first_without_javascript(client, factory, site, person):
    session = factory.session(site, capacity=1)
    booking = factory.booking(session, person)
    factory.booking(session, factory.beneficiary(site), BookingStatus.WAITLISTED,
                    waitlist_position=1)
    home = client.get("/mon-espace/").get_data(as_text=True)
    # "Annuler" is a link to the question, not the cancellation itself.
    assert f'href="/mon-espace/?annuler={booking.id}"' in home
    asked = client.get(f"/mon-espace/?annuler={booking.id}")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Voulez-vous vraiment annuler ?" in page
    assert "première personne de la liste d'attente" in page
    assert page.count("autofocus") == 1
    db.session.refresh(booking)
    assert booking.status is BookingStatus.BOOKED  # asking changes nothing
    response = client.post(f"/mon-espace/reservations/{booking.id}/annuler",
                           data={"csrf_token": csrf_from(page), "back": "mes-ateliers"})
    assert response.status_code == 303 and response.headers["Location"] == "/mon-espace/"
    after = client.get("/mon-espace/").get_data(as_text=True)
    card = after[after.index(f'id="booking-{booking.id}"'):]
    assert 'role="status" tabindex="-1" autofocus' in card and "C&#39;est annulé" in card
    db.session.refresh(booking)
    assert booking.status is BookingStatus.CANCELLED


def test_cancelling_asks_first_in_place_with_htmx(client, factory, site, person):
    session = factory.session(site)
    booking = factory.booking(session, person)
    panel = client.get(f"/mon-espace/seances/{session.id}?annuler={booking.id}",
                       headers={"HX-Request": "true", "HX-Target": "booking-panel"})
    body = panel.get_data(as_text=True)
    assert body.startswith('<section id="booking-panel"')
    assert "Voulez-vous vraiment annuler ?" in body and "autofocus" in body
    assert "Votre place sera libérée" in body
    assert "Non, garder ma place" in body
    listed = client.get(f"/mon-espace/?annuler={booking.id}", headers={"HX-Request": "true"})
    assert listed.get_data(as_text=True).startswith('<div id="my-bookings"')
    assert "Voulez-vous vraiment annuler ?" in listed.get_data(as_text=True)
    # Keeping the booking puts the focus back on the button that asked.
    kept = client.get(f"/mon-espace/seances/{session.id}?garder={booking.id}",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert re.search(r'<a [^>]*autofocus[^>]*>Annuler mon inscription', kept)
    db.session.refresh(booking)
    assert booking.status is BookingStatus.BOOKED


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "abc"])
def test_asking_to_cancel_an_impossible_booking_shows_the_page(client, factory, site,
                                                               person, value):
    factory.booking(factory.session(site), person)
    response = client.get(f"/mon-espace/?annuler={value}")
    assert response.status_code == 200
    assert "Voulez-vous vraiment annuler" not in response.get_data(as_text=True)


def test_asking_to_cancel_someone_elses_booking_shows_nothing_of_it(client, factory, site,
                                                                    person):
    theirs = factory.booking(factory.session(site), factory.beneficiary(site))
    for url in (f"/mon-espace/?annuler={theirs.id}",
                f"/mon-espace/seances/{theirs.session_id}?annuler={theirs.id}"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Voulez-vous vraiment annuler" not in response.get_data(as_text=True)


def test_cancelling_from_the_session_page_tells_it_in_the_panel(client, factory, site, person):
    session = factory.session(site)
    booking = factory.booking(session, person)
    page = f"/mon-espace/seances/{session.id}?annuler={booking.id}"
    response = htmx_post(client, f"/mon-espace/reservations/{booking.id}/annuler", page,
                         data={"back": "detail"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.startswith('<section id="booking-panel"')
    assert re.search(r'<div id="booking-notice" class="notice notice-success" '
                     r'role="status" tabindex="-1" autofocus>\s*<p>C&#39;est annulé', body)
    assert "Je m'inscris" in body


def test_late_cancellation_shows_the_phone_number(client, factory, site, person):
    booking = factory.booking(factory.session(site, starts_in=timedelta(minutes=60)), person)
    page = client.get("/mon-espace/").get_data(as_text=True)
    assert "appelez le 03 21 69 00 00" in page
    response = htmx_post(client, f"/mon-espace/reservations/{booking.id}/annuler",
                         "/mon-espace/", target="my-bookings", data={"back": "mes-ateliers"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    card = body[body.index(f'id="booking-{booking.id}"'):]
    assert 'role="alert" tabindex="-1" autofocus' in card and "03 21 69 00 00" in card
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


def bookings_count(person) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Booking).where(
        Booking.beneficiary_id == person.id, Booking.status.in_(
            (BookingStatus.BOOKED, BookingStatus.WAITLISTED))))


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


# --- a course that has begun: told before, confirmed, the desk asked the same ---------------


def _course(factory, site, days: tuple[int, ...], title: str = "Parcours : mes démarches"):
    from portal.models import Course

    course = Course(site_id=site.id, title=title)
    db.session.add(course)
    db.session.commit()
    for day in days:
        factory.session(site, starts_in=timedelta(days=day), course_id=course.id)
    return course


def _begun_course(factory, site):
    return _course(factory, site, (-5, 2, 9))


def test_a_course_that_can_no_longer_be_completed_says_so_before(client, factory, site,
                                                                 person):
    course = _begun_course(factory, site)
    page = client.get(f"/mon-espace/parcours/{course.id}").get_data(as_text=True)
    assert "l&#39;attestation ne sera plus possible" in page
    assert "Je m'inscris quand même" in page
    assert "Je m'inscris à tout le parcours" not in page


def test_joining_it_without_the_confirmation_books_nothing(client, factory, site, person):
    course = _begun_course(factory, site)
    page = client.get(f"/mon-espace/parcours/{course.id}").get_data(as_text=True)
    response = client.post(f"/mon-espace/parcours/{course.id}/reserver",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'role="alert" tabindex="-1" autofocus' in body
    assert "l&#39;attestation ne sera plus possible" in body
    assert "Je m'inscris quand même" in body
    assert bookings_count(person) == 0


def test_joining_it_with_the_confirmation_books_what_remains(client, factory, site, person):
    course = _begun_course(factory, site)
    page = client.get(f"/mon-espace/parcours/{course.id}").get_data(as_text=True)
    response = client.post(f"/mon-espace/parcours/{course.id}/reserver",
                           data={"csrf_token": csrf_from(page), "incomplet": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mon-espace/parcours/{course.id}"
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="status" tabindex="-1" autofocus' in after
    assert "Vos places sont réservées aux 2 séances du parcours" in after
    assert bookings_count(person) == 2


def test_a_course_that_can_be_completed_books_at_once(client, factory, site, person):
    course = _course(factory, site, (2, 9), title="Débuter")
    page = client.get(f"/mon-espace/parcours/{course.id}").get_data(as_text=True)
    assert "Je m'inscris à tout le parcours" in page and "quand même" not in page
    response = client.post(f"/mon-espace/parcours/{course.id}/reserver",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303 and bookings_count(person) == 2


def test_the_desk_is_asked_the_same(app, factory, site):
    person = factory.beneficiary(site, first_name="Odile")
    staff = factory.staff(site)
    course = _begun_course(factory, site)
    client = app.test_client()
    login(client, staff.email)
    page = client.get(f"/equipe/beneficiaires/{person.id}").get_data(as_text=True)
    response = client.post(f"/equipe/beneficiaires/{person.id}/parcours",
                           data={"csrf_token": csrf_from(page), "course_id": course.id})
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Odile ne pourra plus avoir l&#39;attestation de fin de parcours" in follow
    assert bookings_count(person) == 0
    response = client.post(f"/equipe/beneficiaires/{person.id}/parcours",
                           data={"csrf_token": csrf_from(page), "course_id": course.id,
                                 "incomplet": "1"})
    assert bookings_count(person) == 2


def test_my_data_is_mine_only_and_the_staff_export_is_refused(client, factory, site, person):
    other = factory.beneficiary(site, email="autre.personne@example.org")
    token = csrf_from(client.get("/mon-espace/profil").get_data(as_text=True))
    mine = client.post("/mon-espace/profil/mes-donnees.json", data={"csrf_token": token})
    assert mine.status_code == 200 and json.loads(mine.data)["identity"]["id"] == person.id
    assert b"autre.personne@example.org" not in mine.data
    assert client.post(f"/equipe/beneficiaires/{other.id}/donnees.json",
                       data={"csrf_token": token}).status_code == 403
