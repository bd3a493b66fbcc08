"""The check-in screens over HTTP (no browser): scan, marks, walk-ins, cheques, roster polling,
closing and reopening, one behaviour per test.

The clock is frozen on Thursday 26 November 2026 at 09:00 UTC (10:00 in Paris) and the
session started ten minutes ago, so check-in is open "today" whenever the suite runs.
htmx requests carry ``HX-Request: true`` and the CSRF token in ``X-CSRFToken`` as the page's
``data-hx-headers`` does; plain form posts carry it as a field.
"""

from __future__ import annotations

import html
import io
import json
import re
from datetime import date, timedelta

import pytest
from markupsafe import escape
from pypdf import PdfReader

from portal import clock
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Booking,
    Cheque,
    ChequeProgramme,
    Document,
    LoginSession,
    StaffMember,
)
from portal.models.vocab import BookingSource, BookingStatus, SessionStatus, StaffRole
from portal.services import checkin, closing
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from tests.conftest import csrf_from, login
from tests.web.test_headers import assert_security_headers

HTMX = {"HX-Request": "true"}
NUMBERS = ("6207261103", "6207261104")
HUGE = "9" * 20  # digits, but more than any database integer


# --- the scene -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _frozen(frozen_now):
    """Every row, login and request of these tests on the frozen clock."""
    return frozen_now


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


@pytest.fixture
def staff(factory, site):
    return factory.staff(site, full_name="Claire Martin")


@pytest.fixture
def workshop(factory):
    return factory.workshop(title="Premiers pas sur la tablette", price_cheques=2,
                            grants_attestation=True)


@pytest.fixture
def session(factory, site, workshop, frozen_now):
    """Today, started ten minutes ago."""
    return factory.session(site, workshop, starts_in=timedelta(minutes=-10), capacity=6)


@pytest.fixture
def booking(factory, site, session):
    return factory.booking(session, factory.beneficiary(site, first_name="Odile",
                                                        last_name="Lefebvre"))


@pytest.fixture
def aptic(app):
    programme = ChequeProgramme(name="Pass Numérique APTIC 62", issuer="Département",
                                operator="APTIC", number_pattern=r"[0-9]{10}",
                                validity_end=date(2026, 12, 31))
    db.session.add(programme)
    db.session.commit()
    return programme


def signed_in(app, principal):
    client = app.test_client()
    identifier = principal.email if isinstance(principal, StaffMember) else principal.login_id
    assert login(client, identifier).status_code == 303
    return client


@pytest.fixture
def desk(app, staff):
    """The browser of the staff member at the door."""
    return signed_in(app, staff)


def token(client, page="/equipe/"):
    """The CSRF token of the client's login session (read once from a page, then kept)."""
    if not hasattr(client, "csrf_token"):
        client.csrf_token = csrf_from(client.get(page).get_data(as_text=True))
    return client.csrf_token


def page_url(session) -> str:
    return f"/equipe/seances/{session.id}/pointage"


def roster_url(session) -> str:
    return f"/equipe/seances/{session.id}/pointage/liste"


def hx_post(client, url, data=None):
    return client.post(url, data=data or {}, headers={**HTMX, "X-CSRFToken": token(client)})


def plain_post(client, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": token(client)})


def scan(client, session, code, *, htmx=True):
    post = hx_post if htmx else plain_post
    return post(client, f"{page_url(session)}/scan", {"code": code})


def mark(client, session, booking, action, *, htmx=True):
    post = hx_post if htmx else plain_post
    return post(client, f"{page_url(session)}/{booking.id}", {"action": action})


def result_code(response) -> str | None:
    match = re.search(r'data-result-code="([^"]*)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def result_class(response) -> str | None:
    match = re.search(r'<div class="result (result-[a-z]+)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def message(response) -> str:
    """The text of the answer shown in the status region (unescaped)."""
    match = re.search(r'<p class="result-message">(.*?)</p>', response.get_data(as_text=True),
                      re.S)
    assert match, "no answer in the response"
    return html.unescape(match.group(1))


def flashes(response) -> list[str]:
    return [html.unescape(text) for text in re.findall(
        r'<p class="flash flash-[a-z]+">(.*?)</p>', response.get_data(as_text=True), re.S)]


def refusal(app, call) -> str:
    """The message a service gives for a refusal (in French, as the screens show it)."""
    with app.test_request_context(), pytest.raises(ServiceError) as error:
        call()
    db.session.rollback()
    return error.value.message


def fresh(row):
    """The row as the database has it now (requests ran in their own units of work)."""
    db.session.expire_all()
    return db.session.get(type(row), row.id)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# --- who may open the screen -------------------------------------------------------------------


def test_the_page_renders_for_staff_of_the_site(desk, session, booking):
    response = desk.get(page_url(session))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Premiers pas sur la tablette" in body
    assert 'id="scan-form"' in body and 'id="roster"' in body and "Odile Lefebvre" in body


def _object_routes(session, booking):
    base = page_url(session)
    return [
        ("GET", base, {}),
        ("GET", f"{base}/liste", {}),
        ("GET", f"{base}/personne/{booking.id}", {}),
        ("POST", f"{base}/scan", {"code": booking.code}),
        ("POST", f"{base}/{booking.id}", {"action": "present"}),
        ("POST", f"{base}/ajout", {"person_id": str(booking.beneficiary_id)}),
        ("POST", f"{base}/{booking.id}/cheques", {"numbers": NUMBERS[0]}),
        ("POST", f"{base}/{booking.id}/recu", {}),
        ("GET", f"/equipe/seances/{session.id}/cloture", {}),
        ("POST", f"/equipe/seances/{session.id}/cloture", {}),
        ("GET", f"/equipe/seances/{session.id}/attestations.pdf", {}),
        ("GET", f"/equipe/seances/{session.id}/reouvrir", {}),
        ("POST", f"/equipe/seances/{session.id}/reouvrir", {"reason": "Erreur de pointage"}),
    ]


@pytest.mark.parametrize("role", [StaffRole.ANIMATEUR, StaffRole.ADMIN])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_staff_of_another_site_get_404_everywhere_and_change_nothing(app, factory, session,
                                                                    booking, aptic, role, htmx):
    stranger = signed_in(app, factory.staff(factory.site(code="AVI"), role=role))
    headers = {**HTMX} if htmx else {}
    audit_before = count(AuditEvent)
    for method, url, data in _object_routes(session, booking):
        if method == "GET":
            response = stranger.get(url, headers=headers)
        else:
            response = stranger.post(url, data={**data, "csrf_token": token(stranger)},
                                     headers=headers)
        assert response.status_code == 404, (method, url, response.status_code)
        assert "Odile" not in response.get_data(as_text=True), url
    assert fresh(booking).status is BookingStatus.BOOKED
    assert fresh(session).status is SessionStatus.SCHEDULED
    assert count(Cheque) == 0 and count(Document) == 0
    assert count(AuditEvent) == audit_before


def test_an_unknown_session_is_a_404(desk, session):
    assert desk.get("/equipe/seances/999999/pointage").status_code == 404
    response = hx_post(desk, "/equipe/seances/999999/pointage/scan", {"code": "ABC"})
    assert response.status_code == 404


def test_beneficiaries_get_403_everywhere(app, factory, site, session, booking):
    person = signed_in(app, booking.beneficiary)
    csrf = token(person, page="/mon-espace/")
    for method, url, data in _object_routes(session, booking):
        if method == "GET":
            response = person.get(url)
        else:
            response = person.post(url, data={**data, "csrf_token": csrf})
        assert response.status_code == 403, (method, url, response.status_code)
    assert fresh(booking).status is BookingStatus.BOOKED


def test_anonymous_visitors_are_sent_to_the_login_page(client, session, booking):
    response = client.get(page_url(session))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")
    assert f"seances/{session.id}/pointage" in response.headers["Location"]


def test_anonymous_htmx_requests_get_401_with_a_redirect(client, session, booking):
    for url in (roster_url(session), f"{page_url(session)}/personne/{booking.id}"):
        response = client.get(url, headers=HTMX)
        assert response.status_code == 401
        assert response.headers["HX-Redirect"] == "/connexion"
    polled = client.get(roster_url(session), headers={**HTMX, "X-Portal-Poll": "1"})
    assert polled.status_code == 401 and polled.headers["HX-Redirect"] == "/connexion"


def test_posts_without_the_csrf_token_are_refused(desk, session, booking, aptic):
    base = page_url(session)
    for url, data in ((f"{base}/scan", {"code": booking.code}),
                      (f"{base}/{booking.id}", {"action": "present"}),
                      (f"{base}/ajout", {"person_id": str(booking.beneficiary_id)}),
                      (f"{base}/{booking.id}/cheques", {"numbers": NUMBERS[0]}),
                      (f"{base}/{booking.id}/recu", {}),
                      (f"/equipe/seances/{session.id}/cloture", {})):
        for headers in ({}, HTMX):
            assert desk.post(url, data=data, headers=headers).status_code == 400, url
    assert fresh(booking).status is BookingStatus.BOOKED
    assert fresh(session).status is SessionStatus.SCHEDULED
    assert count(Cheque) == 0


def test_no_get_changes_anything(desk, session, booking):
    audit_before = count(AuditEvent)
    for url in (page_url(session), roster_url(session),
                f"{page_url(session)}/personne/{booking.id}",
                f"/equipe/seances/{session.id}/cloture",
                f"{page_url(session)}/scan?code={booking.code}"):
        desk.get(url)
        desk.get(url, headers=HTMX)
    assert fresh(booking).status is BookingStatus.BOOKED
    assert fresh(session).status is SessionStatus.SCHEDULED
    assert count(AuditEvent) == audit_before


# --- scanning ----------------------------------------------------------------------------------


def test_a_scan_answers_htmx_with_the_result_and_the_panel_and_roster_out_of_band(
        desk, session, booking):
    response = scan(desk, session, booking.code)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body
    assert body.startswith('<div class="result result-ok" id="scan-answer" '
                           'data-result-code="checked_in"')
    assert '<div id="scan-actions" class="scan-actions" data-hx-swap-oob="true">' in body
    assert '<div id="roster" class="roster" data-hx-swap-oob="true">' in body
    assert "Odile Lefebvre" in message(response)
    assert "HX-Request" in response.headers["Vary"]
    assert fresh(booking).status is BookingStatus.PRESENT


def test_a_scan_without_javascript_renders_the_whole_page(desk, session, booking):
    response = scan(desk, session, booking.code, htmx=False)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body and 'id="scan-form"' in body
    assert 'data-result-code="checked_in"' in body
    assert "data-hx-swap-oob" not in body


def test_a_refused_scan_without_javascript_is_a_422_page(desk, session):
    response = scan(desk, session, "ZZZZ9999", htmx=False)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" in body and 'data-result-code="unknown_code"' in body


def test_a_refused_scan_with_htmx_is_a_200_answer(desk, session):
    response = scan(desk, session, "ZZZZ9999")
    assert response.status_code == 200
    assert result_class(response) == "result-error"


def test_scanning_a_login_card_checks_the_booked_person_in(desk, session, booking):
    response = scan(desk, session, booking.beneficiary.login_id_display.lower())
    assert (result_code(response), result_class(response)) == ("checked_in", "result-ok")
    assert "Odile Lefebvre" in message(response)
    stored = fresh(booking)
    assert stored.status is BookingStatus.PRESENT
    assert stored.checked_in_at == clock.now()


def test_a_second_scan_says_when_and_by_whom(app, factory, site, desk, session, booking):
    scan(desk, session, booking.code)
    colleague = signed_in(app, factory.staff(site, full_name="Karim Benali"))
    clock.freeze(clock.now() + timedelta(minutes=3))
    response = scan(colleague, session, booking.code)
    assert (result_code(response), result_class(response)) == ("already_checked_in",
                                                               "result-warn")
    said = message(response)
    assert "Odile Lefebvre" in said
    assert "10:00" in said and "10:03" not in said  # when the first check-in was made
    assert "Claire Martin" in said and "Karim" not in said  # and by whom
    assert fresh(booking).checked_in_by_id == booking.checked_in_by_id


def test_a_known_person_without_a_booking_can_be_added(desk, factory, site, session):
    person = factory.beneficiary(site, first_name="Kévin", last_name="Durand")
    response = scan(desk, session, person.login_id)
    body = response.get_data(as_text=True)
    assert (result_code(response), result_class(response)) == ("walk_in_possible",
                                                               "result-info")
    assert f'action="{page_url(session)}/ajout"' in body
    assert f'name="person_id" value="{person.id}"' in body
    assert "Kévin Durand" in message(response) and "6" in message(response)  # seats left
    assert count(Booking) == 0


def test_adding_the_walk_in_checks_the_person_in(desk, factory, site, session):
    person = factory.beneficiary(site, first_name="Kévin", last_name="Durand")
    response = hx_post(desk, f"{page_url(session)}/ajout", {"person_id": str(person.id)})
    assert (result_code(response), result_class(response)) == ("walk_in_added", "result-info")
    added = db.session.scalars(db.select(Booking)).one()
    assert added.status is BookingStatus.PRESENT and added.source is BookingSource.WALK_IN
    assert fresh(session).seats_taken == 1
    assert "Sans inscription" in response.get_data(as_text=True)  # tag on the roster


def test_an_unknown_code_is_refused(desk, session):
    response = scan(desk, session, "ZZZZ-9999")
    assert (result_code(response), result_class(response)) == ("unknown_code", "result-error")
    assert "ZZZZ-9999" in message(response)


def notes(response) -> list[str]:
    """The lines under the answer (the person's other bookings, their state here)."""
    block = response.get_data(as_text=True).split('<ul class="result-list">', 1)
    if len(block) == 1:
        return []
    return [html.unescape(n) for n in re.findall(r"<li>(.*?)</li>", block[1].split("</ul>")[0])]


def focus(response) -> str | None:
    match = re.search(r'data-focus="([^"]*)"', response.get_data(as_text=True))
    return match.group(1) if match else None


@pytest.fixture
def full(factory, site, session):
    """The session's six seats are all taken."""
    for n in range(6):
        factory.booking(session, factory.beneficiary(site, first_name=f"Inscrite{n}"))
    return session


def test_a_full_session_offers_the_animateur_one_more_seat(desk, factory, site, full):
    person = factory.beneficiary(site, first_name="Kévin", last_name="Durand")
    response = scan(desk, full, person.login_id)
    body = response.get_data(as_text=True)
    assert (result_code(response), result_class(response)) == ("session_full", "result-warn")
    assert "Complet" in body and "Refusé" not in body
    assert "Kévin Durand" in message(response) and "6 places sur 6" in message(response)
    assert 'id="extra-seat-button"' in body and 'name="extra_seat" value="1"' in body
    assert focus(response) == "extra-seat"
    assert count(Booking) == 6 and fresh(full).capacity == 6


def test_the_extra_seat_is_confirmed_then_added_and_audited(desk, staff, factory, site, full):
    person = factory.beneficiary(site, first_name="Kévin", last_name="Durand")
    asked = hx_post(desk, f"{page_url(full)}/ajout",
                    {"person_id": str(person.id), "extra_seat": "1"})
    body = asked.get_data(as_text=True)
    assert (result_code(asked), result_class(asked)) == ("extra_seat_to_confirm",
                                                         "result-warn")
    assert "de 6 à 7 places" in message(asked) and focus(asked) == "extra-seat-confirm"
    assert 'name="confirmed" value="1"' in body and "Non, ne rien changer" in body
    assert count(Booking) == 6 and fresh(full).capacity == 6  # nothing yet
    added = hx_post(desk, f"{page_url(full)}/ajout",
                    {"person_id": str(person.id), "extra_seat": "1", "confirmed": "1"})
    assert (result_code(added), result_class(added)) == ("walk_in_added", "result-info")
    assert "7 places" in message(added)
    assert fresh(full).capacity == 7 and fresh(full).seats_taken == 7
    [event] = db.session.scalars(db.select(AuditEvent).filter_by(action="session.seat_added"))
    assert event.actor_id == staff.id and event.details["capacity"] == 7


def test_the_extra_seat_works_without_javascript(desk, factory, site, full):
    person = factory.beneficiary(site)
    asked = plain_post(desk, f"{page_url(full)}/ajout",
                       {"person_id": str(person.id), "extra_seat": "1"})
    assert asked.status_code == 200 and result_code(asked) == "extra_seat_to_confirm"
    added = plain_post(desk, f"{page_url(full)}/ajout",
                       {"person_id": str(person.id), "extra_seat": "1", "confirmed": "1"})
    assert added.status_code == 200 and result_code(added) == "walk_in_added"
    assert fresh(full).capacity == 7


def test_reception_is_told_who_may_add_a_seat_and_offered_no_button(app, factory, site, full):
    reception = signed_in(app, factory.staff(site, role=StaffRole.RECEPTION))
    person = factory.beneficiary(site)
    response = scan(reception, full, person.login_id)
    body = response.get_data(as_text=True)
    assert result_code(response) == "session_full"
    assert "Un animateur ou un administrateur" in message(response)
    assert "extra-seat-button" not in body and focus(response) == "scan"
    forced = hx_post(reception, f"{page_url(full)}/ajout",
                     {"person_id": str(person.id), "extra_seat": "1", "confirmed": "1"})
    assert result_code(forced) == "role_required"
    assert fresh(full).capacity == 6 and count(Booking) == 6


def test_a_cancelled_booking_here_offers_the_walk_in_in_blue(desk, factory, site, session):
    cancelled = factory.booking(session, factory.beneficiary(site, first_name="Martine"),
                                status=BookingStatus.CANCELLED,
                                cancelled_at=clock.now() - timedelta(days=1))
    response = scan(desk, session, cancelled.code)
    body = response.get_data(as_text=True)
    assert (result_code(response), result_class(response)) == ("walk_in_possible",
                                                               "result-info")
    assert "Martine" in message(response) and "Refusé" not in body
    assert any("mercredi 25 novembre 2026" in n for n in notes(response))  # cancelled then
    assert "/pointage/ajout" in body and focus(response) == "walk-in"
    assert fresh(cancelled).status is BookingStatus.CANCELLED


def test_someone_booked_in_another_session_the_same_day(desk, factory, site, session):
    afternoon = factory.session(site, factory.workshop(title="Le courriel"),
                                starts_in=timedelta(hours=4))
    elsewhere = factory.booking(afternoon, factory.beneficiary(site, first_name="Martine"))
    response = scan(desk, session, elsewhere.beneficiary.login_id)
    body = response.get_data(as_text=True)
    assert (result_code(response), result_class(response)) == ("walk_in_possible",
                                                               "result-info")
    assert "Martine" in message(response)
    assert notes(response) == ["Inscription à « Le courriel » aujourd'hui à 14:00."]
    assert "/pointage/ajout" in body  # a seat is free here: staying is possible
    assert fresh(elsewhere).status is BookingStatus.BOOKED


def test_someone_booked_on_another_day_is_a_blue_walk_in_with_the_add_button_first(
        desk, factory, site, session):
    later = factory.session(site, factory.workshop(title="Le courriel"),
                            starts_in=timedelta(days=3))
    elsewhere = factory.booking(later, factory.beneficiary(site, first_name="Martine"))
    for scanned in (elsewhere.code, elsewhere.beneficiary.login_id):
        response = scan(desk, session, scanned)
        body = response.get_data(as_text=True)
        assert (result_code(response), result_class(response)) == ("walk_in_possible",
                                                                   "result-info")
        assert "Sans inscription" in body and "Refusé" not in body
        assert notes(response) == ["Inscription à « Le courriel » le dimanche 29 novembre "
                                   "2026 à 10:00."]
        assert 'id="walk-in-button"' in body and focus(response) == "walk-in"
    without_js = scan(desk, session, elsewhere.code, htmx=False)
    assert without_js.status_code == 200  # not a refusal
    assert fresh(elsewhere).status is BookingStatus.BOOKED


def test_a_session_of_tomorrow_has_no_scan_form(desk, factory, site, workshop, frozen_now):
    tomorrow = factory.session(site, workshop, starts_in=timedelta(days=1))
    factory.booking(tomorrow, factory.beneficiary(site, first_name="Martine"))
    body = desk.get(page_url(tomorrow)).get_data(as_text=True)
    assert 'id="scan-form"' not in body and "/scan" not in body
    assert 'name="action"' not in body  # no mark buttons either
    assert "Martine" in body  # the roster is shown all the same


def test_a_scan_for_a_session_of_tomorrow_is_refused(desk, factory, site, workshop,
                                                      frozen_now):
    tomorrow = factory.session(site, workshop, starts_in=timedelta(days=1))
    booked = factory.booking(tomorrow, factory.beneficiary(site))
    response = scan(desk, tomorrow, booked.code)
    assert (result_code(response), result_class(response)) == ("session_not_today",
                                                               "result-error")
    assert "vendredi 27 novembre 2026" in message(response)
    assert scan(desk, tomorrow, booked.code, htmx=False).status_code == 422
    assert fresh(booked).status is BookingStatus.BOOKED


def test_a_scan_for_a_closed_session_is_refused(desk, session, booking):
    session.status = SessionStatus.CLOSED
    session.closed_at = clock.now()
    db.session.commit()
    response = scan(desk, session, booking.code)
    assert (result_code(response), result_class(response)) == ("session_closed",
                                                               "result-error")
    assert fresh(booking).status is BookingStatus.BOOKED
    page = desk.get(page_url(session)).get_data(as_text=True)
    assert 'id="scan-form"' not in page and 'name="action"' not in page
    assert f'href="/equipe/seances/{session.id}/cloture"' in page


def test_typing_a_name_offers_the_people_to_choose_from(desk, factory, site, session):
    factory.booking(session, factory.beneficiary(site, first_name="Hélène", last_name="Petit"))
    response = scan(desk, session, "helene")
    body = response.get_data(as_text=True)
    assert result_code(response) == "choose_person"
    assert "Hélène Petit" in body and 'id="match-button"' in body


@pytest.mark.parametrize("raw", ["", "   ", "\n", "A" * 5000, "é" * 3000, "<script>x</script>",
                                 "'; DROP TABLE booking; --", "BK" + "9" * 300])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_odd_scans_never_give_a_500(desk, session, booking, raw, htmx):
    response = scan(desk, session, raw, htmx=htmx)
    assert response.status_code in ((200,) if htmx else (200, 422))
    body = response.get_data(as_text=True)
    assert result_class(response) in ("result-error", "result-info")
    assert "<script>x</script>" not in body
    assert fresh(booking).status is BookingStatus.BOOKED


def test_an_empty_scan_asks_for_something(desk, session):
    response = scan(desk, session, "  ", htmx=False)
    assert response.status_code == 422
    assert result_code(response) == "scan_empty"


def test_a_scan_without_the_code_field_is_refused_not_a_500(desk, session):
    response = hx_post(desk, f"{page_url(session)}/scan", {})
    assert response.status_code == 200 and result_code(response) == "scan_empty"


# --- marks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "status", "code"), [
    ("present", BookingStatus.PRESENT, "checked_in"),
    ("absent", BookingStatus.ABSENT, "marked_absent"),
    ("excused", BookingStatus.EXCUSED, "marked_excused"),
])
def test_marking_from_the_roster(desk, session, booking, action, status, code):
    response = mark(desk, session, booking, action)
    assert response.status_code == 200
    assert (result_code(response), result_class(response)) == (code, "result-ok")
    assert fresh(booking).status is status


def test_marks_are_audited_with_the_staff_member(desk, staff, session, booking):
    mark(desk, session, booking, "absent")
    event = db.session.scalars(db.select(AuditEvent).filter_by(action="checkin.absent")).one()
    assert event.actor_id == staff.id and event.object_id == str(booking.id)


def test_undoing_a_check_in(desk, session, booking):
    mark(desk, session, booking, "present")
    response = mark(desk, session, booking, "undo")
    assert (result_code(response), result_class(response)) == ("undone", "result-ok")
    assert "Odile Lefebvre" in message(response)
    stored = fresh(booking)
    assert stored.status is BookingStatus.BOOKED and stored.checked_in_at is None
    assert fresh(session).seats_taken == 1


def test_undo_with_nothing_to_undo_is_refused(desk, session, booking):
    response = mark(desk, session, booking, "undo", htmx=False)
    assert response.status_code == 422
    assert result_code(response) == "nothing_to_undo"


@pytest.mark.parametrize("action", ["", "delete", "PRESENT", "present ", "x" * 5000, "__class__"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_an_unknown_action_is_refused(desk, session, booking, action, htmx):
    response = mark(desk, session, booking, action, htmx=htmx)
    assert response.status_code == (200 if htmx else 422)
    assert (result_code(response), result_class(response)) == ("action_unknown",
                                                               "result-error")
    assert message(response)
    assert fresh(booking).status is BookingStatus.BOOKED


def test_a_mark_without_the_action_field_is_refused(desk, session, booking):
    response = hx_post(desk, f"{page_url(session)}/{booking.id}", {})
    assert result_code(response) == "action_unknown"


def test_a_booking_of_another_session_is_a_404(desk, factory, site, session, workshop):
    other = factory.session(site, workshop, starts_in=timedelta(minutes=-5))
    theirs = factory.booking(other, factory.beneficiary(site))
    base = page_url(session)
    assert mark(desk, session, theirs, "present").status_code == 404
    assert desk.get(f"{base}/personne/{theirs.id}", headers=HTMX).status_code == 404
    assert hx_post(desk, f"{base}/{theirs.id}/cheques",
                   {"numbers": NUMBERS[0]}).status_code == 404
    assert hx_post(desk, f"{base}/{theirs.id}/recu").status_code == 404
    assert fresh(theirs).status is BookingStatus.BOOKED


def test_an_unknown_booking_is_a_404(desk, session):
    response = hx_post(desk, f"{page_url(session)}/999999", {"action": "present"})
    assert response.status_code == 404


def test_the_page_ignores_a_booking_of_another_session_in_b(desk, factory, site, session,
                                                            workshop):
    other = factory.session(site, workshop, starts_in=timedelta(minutes=-5))
    theirs = factory.booking(other, factory.beneficiary(site, first_name="Martine"))
    response = desk.get(f"{page_url(session)}?b={theirs.id}")
    assert response.status_code == 200
    assert "Martine" not in response.get_data(as_text=True)


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "²", HUGE])
def test_an_odd_b_never_gives_a_500(desk, session, booking, raw):
    assert desk.get(f"{page_url(session)}?b={raw}").status_code == 200


def test_a_huge_id_in_the_address_is_a_404_not_a_500(desk, session):
    base = page_url(session)
    answers = {}
    for url in (f"/equipe/seances/{HUGE}/pointage", f"/equipe/seances/{HUGE}/pointage/liste",
                f"{base}/personne/{HUGE}", f"/equipe/seances/{HUGE}/cloture",
                f"/equipe/seances/{HUGE}/attestations.pdf", f"/equipe/seances/{HUGE}/reouvrir",
                f"/equipe/documents/{HUGE}.pdf"):
        answers["GET " + url] = desk.get(url, headers=HTMX).status_code
    for url in (f"/equipe/seances/{HUGE}/pointage/scan", f"{base}/{HUGE}",
                f"{base}/{HUGE}/cheques", f"{base}/{HUGE}/recu"):
        answers["POST " + url] = hx_post(desk, url, {"action": "present"}).status_code
    assert {route: status for route, status in answers.items() if status != 404} == {}


# --- walk-ins --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["abc", "", "-1", "1.5", "999999", "²", HUGE, "anonymised"])
def test_a_walk_in_with_a_bad_person_is_refused_and_writes_nothing(desk, factory, site,
                                                                  session, raw):
    if raw == "anonymised":
        gone = factory.beneficiary(site, first_name="Anonyme", anonymised_at=clock.now())
        raw = str(gone.id)
    audit_before = count(AuditEvent)
    response = hx_post(desk, f"{page_url(session)}/ajout", {"person_id": raw})
    assert response.status_code == 200
    assert (result_code(response), result_class(response)) == ("unknown_person",
                                                               "result-error")
    assert message(response)
    assert count(Booking) == 0 and count(AuditEvent) == audit_before
    assert fresh(session).seats_taken == 0


def test_a_walk_in_by_the_id_of_someone_of_another_site_reveals_and_writes_nothing(
        desk, factory, session):
    elsewhere = factory.site(code="AVI", name="Espace numérique d'Avion")
    stranger = factory.beneficiary(elsewhere, first_name="Véronique", last_name="Delcroix",
                                   staff_notes="Suivie par l'assistante sociale d'Avion")
    audit_before = count(AuditEvent)
    for post in (hx_post, plain_post):
        response = post(desk, f"{page_url(session)}/ajout", {"person_id": str(stranger.id)})
        assert result_code(response) == "unknown_person"
        text = response.get_data(as_text=True)
        for secret in ("Véronique", "Delcroix", stranger.login_id_display, stranger.login_id,
                       "assistante sociale"):
            assert secret not in text
    assert count(Booking) == 0 and count(AuditEvent) == audit_before
    assert fresh(session).seats_taken == 0


def test_someone_of_another_site_whose_card_is_scanned_can_be_added(desk, factory, session):
    elsewhere = factory.site(code="AVI", name="Espace numérique d'Avion")
    visitor = factory.beneficiary(elsewhere, first_name="Véronique", last_name="Delcroix")
    response = scan(desk, session, visitor.login_id_display)
    assert result_code(response) == "walk_in_possible"
    form = re.search(r'<input type="hidden" name="presented" value="([^"]*)">',
                     response.get_data(as_text=True))
    assert form and html.unescape(form.group(1)) == visitor.login_id_display
    added = hx_post(desk, f"{page_url(session)}/ajout",
                    {"person_id": str(visitor.id), "presented": visitor.login_id_display})
    assert result_code(added) == "walk_in_added"
    assert fresh(session).seats_taken == 1


def test_a_walk_in_with_a_bad_person_without_javascript_is_a_422(desk, session):
    response = plain_post(desk, f"{page_url(session)}/ajout", {"person_id": "abc"})
    assert response.status_code == 422 and result_code(response) == "unknown_person"


# --- cheques -----------------------------------------------------------------------------------


def test_taking_two_cheques_links_the_receipt(desk, session, booking, aptic):
    response = hx_post(desk, f"{page_url(session)}/{booking.id}/cheques",
                       {"numbers": "\n".join(NUMBERS)})
    body = response.get_data(as_text=True)
    assert (result_code(response), result_class(response)) == ("cheques_redeemed", "result-ok")
    receipt = db.session.scalars(db.select(Document)).one()
    assert f'href="/equipe/documents/{receipt.id}.pdf?voir=1"' in body
    assert receipt.number in message(response)
    assert 'id="cheque-numbers"' not in body  # nothing left to pay
    taken = db.session.scalars(db.select(Cheque).order_by(Cheque.number)).all()
    assert [c.number for c in taken] == list(NUMBERS)
    assert {c.receipt_id for c in taken} == {receipt.id}


def test_the_receipt_opens_inline_as_a_pdf(desk, session, booking, aptic):
    hx_post(desk, f"{page_url(session)}/{booking.id}/cheques", {"numbers": "\n".join(NUMBERS)})
    receipt = db.session.scalars(db.select(Document)).one()
    response = desk.get(f"/equipe/documents/{receipt.id}.pdf?voir=1")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="{receipt.number}.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF") and response.data == receipt.pdf
    saved = desk.get(f"/equipe/documents/{receipt.id}.pdf")
    assert saved.headers["Content-Disposition"].startswith("attachment;")


def test_a_refused_entry_keeps_what_was_typed_and_takes_nothing(desk, session, booking, aptic):
    typed = f"{NUMBERS[0]}\n12AB"
    response = hx_post(desk, f"{page_url(session)}/{booking.id}/cheques", {"numbers": typed})
    body = response.get_data(as_text=True)
    assert (result_code(response), result_class(response)) == ("cheque_number_invalid",
                                                               "result-error")
    assert f">{NUMBERS[0]}\n12AB</textarea>" in body
    assert "12AB" in message(response)
    assert count(Cheque) == 0 and count(Document) == 0
    assert 'data-focus="cheques"' in body


def test_a_refused_entry_without_javascript_is_a_422_page(desk, session, booking, aptic):
    response = plain_post(desk, f"{page_url(session)}/{booking.id}/cheques",
                          {"numbers": "<b>1</b>"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in body
    assert "&lt;b&gt;1&lt;/b&gt;</textarea>" in body and "<b>1</b>" not in body
    assert count(Cheque) == 0


def test_a_cheque_already_taken_is_refused_with_when_and_where(desk, factory, site, session,
                                                              booking, aptic):
    other = factory.booking(session, factory.beneficiary(site))
    hx_post(desk, f"{page_url(session)}/{other.id}/cheques", {"numbers": NUMBERS[0]})
    response = hx_post(desk, f"{page_url(session)}/{booking.id}/cheques",
                       {"numbers": NUMBERS[0]})
    assert result_code(response) == "cheque_already_redeemed"
    said = message(response)
    assert "jeudi 26 novembre 2026" in said and "10:00" in said
    assert "Cyberbase de Méricourt" in said
    assert count(Cheque) == 1


def test_more_cheques_than_owed_are_refused(desk, session, booking, aptic):
    response = hx_post(desk, f"{page_url(session)}/{booking.id}/cheques",
                       {"numbers": "6207261101\n6207261102\n6207261103"})
    assert result_code(response) == "cheques_too_many"
    assert count(Cheque) == 0


@pytest.mark.parametrize("programme_id", ["abc", "999999", "-3", "²", HUGE])
def test_a_bad_programme_never_gives_a_500(desk, session, booking, aptic, programme_id):
    response = hx_post(desk, f"{page_url(session)}/{booking.id}/cheques",
                       {"numbers": NUMBERS[0], "programme_id": programme_id})
    assert response.status_code == 200
    assert result_class(response) in ("result-ok", "result-error")


@pytest.mark.parametrize("typed", ["", " \n ", "6207261103\n" * 400, "x" * 5000,
                                   "<script>x</script>"])
def test_odd_cheque_entries_never_give_a_500(desk, session, booking, aptic, typed):
    response = hx_post(desk, f"{page_url(session)}/{booking.id}/cheques", {"numbers": typed})
    assert response.status_code == 200 and result_class(response) == "result-error"
    assert "<script>x</script>" not in response.get_data(as_text=True)
    assert count(Cheque) == 0


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_nul_byte_is_refused_before_anything_is_read(desk, session, booking, aptic, htmx):
    """Never typed by a person, refused by PostgreSQL in text: a clear 400, nothing written."""
    for path, data in ((f"{page_url(session)}/scan", {"code": "nul\x00byte"}),
                       (f"{page_url(session)}/{booking.id}/cheques",
                        {"numbers": "620726\x001103"})):
        response = (hx_post if htmx else plain_post)(desk, path, data)
        assert response.status_code == 400
        assert "La demande n" in response.get_data(as_text=True)
    assert fresh(booking).status is BookingStatus.BOOKED
    assert count(Cheque) == 0


def test_a_missing_receipt_can_be_issued_from_the_panel(desk, staff, session, booking, aptic):
    db.session.add(Cheque(programme_id=aptic.id, number=NUMBERS[0], value_cents=1000,
                          redeemed_at=clock.now(), redeemed_by_id=staff.id,
                          site_id=session.site_id, booking_id=booking.id))
    db.session.commit()
    panel = desk.get(f"{page_url(session)}/personne/{booking.id}", headers=HTMX)
    assert 'id="receipt-button"' in panel.get_data(as_text=True)
    response = hx_post(desk, f"{page_url(session)}/{booking.id}/recu")
    receipt = db.session.scalars(db.select(Document)).one()
    assert result_code(response) == "receipt_issued"
    assert f'href="/equipe/documents/{receipt.id}.pdf?voir=1"' in response.get_data(as_text=True)
    again = hx_post(desk, f"{page_url(session)}/{booking.id}/recu")
    assert result_code(again) == "receipt_exists" and count(Document) == 1


# --- the person panel --------------------------------------------------------------------------


def test_the_person_panel_is_a_fragment_for_htmx_and_a_page_otherwise(desk, session, booking,
                                                                      aptic):
    url = f"{page_url(session)}/personne/{booking.id}"
    fragment = desk.get(url, headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section class="panel"') and "<html" not in fragment
    assert "Odile Lefebvre" in fragment and 'id="cheque-numbers"' in fragment
    page = desk.get(url).get_data(as_text=True)
    assert "<html" in page and 'id="cheque-numbers"' in page


def test_the_staff_note_is_shown_escaped_in_the_panel(desk, session, booking):
    person = booking.beneficiary
    person.staff_notes = "<img src=x> Malvoyante : grands caractères"
    db.session.commit()
    body = desk.get(f"{page_url(session)}/personne/{booking.id}",
                    headers=HTMX).get_data(as_text=True)
    assert "&lt;img src=x&gt; Malvoyante" in body and "<img src=x>" not in body


# --- the roster and its ETag -------------------------------------------------------------------


def test_the_roster_fragment_has_a_weak_etag(desk, session, booking):
    response = desk.get(roster_url(session), headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.startswith('<div id="roster" class="roster">') and "<html" not in body
    assert response.headers["ETag"].startswith('W/"')
    poller = json.loads(re.search(r"data-hx-headers='([^']*)'", body).group(1))
    assert poller == {"If-None-Match": response.headers["ETag"], "X-Portal-Poll": "1"}
    assert "Odile Lefebvre" in body


def test_the_same_etag_answers_304_with_an_empty_body(desk, session, booking):
    etag = desk.get(roster_url(session), headers=HTMX).headers["ETag"]
    response = desk.get(roster_url(session), headers={**HTMX, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag


def _changed_after(desk, session, etag):
    response = desk.get(roster_url(session), headers={**HTMX, "If-None-Match": etag})
    return response.status_code, response.headers["ETag"], response.get_data(as_text=True)


def test_a_check_in_changes_the_etag(desk, session, booking):
    etag = desk.get(roster_url(session), headers=HTMX).headers["ETag"]
    scan(desk, session, booking.code)
    status, new_etag, body = _changed_after(desk, session, etag)
    assert status == 200 and new_etag != etag
    assert "roster-present" in body


def test_a_check_in_from_another_device_changes_the_etag(app, factory, site, desk, session,
                                                         booking):
    etag = desk.get(roster_url(session), headers=HTMX).headers["ETag"]
    checkin.check_in(booking, actor=Actor.of(factory.staff(site)))
    assert _changed_after(desk, session, etag)[0] == 200


def test_taking_cheques_changes_the_etag(desk, session, booking, aptic):
    before = desk.get(roster_url(session), headers=HTMX)
    assert "roster-owing" in before.get_data(as_text=True)
    hx_post(desk, f"{page_url(session)}/{booking.id}/cheques", {"numbers": "\n".join(NUMBERS)})
    status, _etag, body = _changed_after(desk, session, before.headers["ETag"])
    assert status == 200 and "roster-owing" not in body


def test_a_staff_note_changes_the_etag(desk, session, booking):
    etag = desk.get(roster_url(session), headers=HTMX).headers["ETag"]
    person = booking.beneficiary
    person.staff_notes = "Vient avec sa fille."
    db.session.commit()
    status, _etag, body = _changed_after(desk, session, etag)
    assert status == 200 and "tag-note" in body


def test_a_new_booking_changes_the_etag(desk, factory, site, session, booking):
    etag = desk.get(roster_url(session), headers=HTMX).headers["ETag"]
    factory.booking(session, factory.beneficiary(site, first_name="Martine"))
    status, _etag, body = _changed_after(desk, session, etag)
    assert status == 200 and "Martine" in body


def test_the_etag_differs_per_staff_member(app, factory, site, desk, session, booking):
    colleague = signed_in(app, factory.staff(site))
    mine = desk.get(roster_url(session), headers=HTMX).headers["ETag"]
    theirs = colleague.get(roster_url(session), headers=HTMX).headers["ETag"]
    assert mine != theirs
    assert colleague.get(roster_url(session),
                         headers={**HTMX, "If-None-Match": mine}).status_code == 200


def test_the_etag_differs_per_search_text(desk, session, booking):
    everyone = desk.get(roster_url(session), headers=HTMX).headers["ETag"]
    searched = desk.get(f"{roster_url(session)}?q=odile", headers=HTMX)
    assert searched.headers["ETag"] != everyone
    again = desk.get(f"{roster_url(session)}?q=odile",
                     headers={**HTMX, "If-None-Match": everyone})
    assert again.status_code == 200
    same = desk.get(f"{roster_url(session)}?q=odile",
                    headers={**HTMX, "If-None-Match": searched.headers["ETag"]})
    assert same.status_code == 304


def test_the_poller_of_a_search_asks_for_the_same_search(desk, session, booking):
    body = desk.get(f"{roster_url(session)}?q=odile", headers=HTMX).get_data(as_text=True)
    assert f'data-hx-get="{roster_url(session)}?q=odile"' in body


@pytest.fixture
def three_people(factory, site, session, booking):
    helene = factory.booking(session, factory.beneficiary(site, first_name="Hélène",
                                                          last_name="Dupré"))
    marc = factory.booking(session, factory.beneficiary(site, first_name="Marc",
                                                        last_name="Noël"))
    return booking, helene, marc


def test_the_roster_search_ignores_accents(desk, session, three_people):
    body = desk.get(f"{roster_url(session)}?q=helene", headers=HTMX).get_data(as_text=True)
    assert "Hélène Dupré" in body
    assert "Odile" not in body and "Marc" not in body
    body = desk.get(f"{roster_url(session)}?q=NOEL", headers=HTMX).get_data(as_text=True)
    assert "Marc Noël" in body and "Hélène" not in body


def test_the_roster_search_finds_an_identifier(desk, session, three_people):
    _odile, helene, _marc = three_people
    display = helene.beneficiary.login_id_display.lower()
    body = desk.get(f"{roster_url(session)}?q={display}", headers=HTMX).get_data(as_text=True)
    assert "Hélène Dupré" in body and "Odile" not in body and "Marc" not in body


def test_a_search_that_finds_nobody_says_so(desk, session, three_people):
    body = desk.get(f"{roster_url(session)}?q=<zz>", headers=HTMX).get_data(as_text=True)
    assert "&lt;zz&gt;" in body and "<zz>" not in body
    assert 'class="roster-row' not in body
    assert "<dd>3</dd>" in body  # the counts still cover everyone


def test_the_page_search_works_without_javascript(desk, session, three_people):
    body = desk.get(f"{page_url(session)}?q=helene").get_data(as_text=True)
    assert "<html" in body and 'value="helene"' in body
    assert "Hélène Dupré" in body and "Marc Noël" not in body


# --- query counts ------------------------------------------------------------------------------


def _fill(factory, site, session, aptic, colleague, people: int) -> None:
    """``people`` on the roster: a third present (with a cheque), a third booked, the rest
    absent, so every kind of row (and every lazy attribute it shows) appears."""
    for n in range(people):
        person = factory.beneficiary(site, staff_notes="Note" if n % 2 else "")
        status = (BookingStatus.PRESENT, BookingStatus.BOOKED, BookingStatus.ABSENT)[n % 3]
        extra = ({"checked_in_at": clock.now(), "checked_in_by_id": colleague.id}
                 if status is BookingStatus.PRESENT else {})
        booked = factory.booking(session, person, status=status, **extra)
        if status is BookingStatus.PRESENT:
            db.session.add(Cheque(programme_id=aptic.id, number=f"{6207000000 + booked.id}",
                                  value_cents=1000, redeemed_at=clock.now(),
                                  redeemed_by_id=colleague.id, site_id=site.id,
                                  booking_id=booked.id))
    db.session.commit()


def _queries(desk, count_queries, url, headers=None, status=200):
    with count_queries() as counter:
        response = desk.get(url, headers={**HTMX, **(headers or {})})
    assert response.status_code == status
    return counter.count, response


def test_the_roster_costs_the_same_queries_for_3_or_30_people(factory, site, desk, session,
                                                              aptic, count_queries):
    session.capacity = 40
    db.session.commit()
    colleague = factory.staff(site)
    _fill(factory, site, session, aptic, colleague, 3)
    few, response = _queries(desk, count_queries, roster_url(session))
    assert response.get_data(as_text=True).count('class="roster-row') == 3
    _fill(factory, site, session, aptic, colleague, 27)
    many, response = _queries(desk, count_queries, roster_url(session))
    assert response.get_data(as_text=True).count('class="roster-row') == 30
    assert many == few
    assert many <= 15


def test_the_page_costs_the_same_queries_for_3_or_30_people(factory, site, desk, session,
                                                            aptic, count_queries):
    session.capacity = 40
    db.session.commit()
    colleague = factory.staff(site)
    _fill(factory, site, session, aptic, colleague, 3)
    few, _response = _queries(desk, count_queries, page_url(session), headers={"HX-Request": ""})
    _fill(factory, site, session, aptic, colleague, 27)
    many, _response = _queries(desk, count_queries, page_url(session),
                               headers={"HX-Request": ""})
    assert many == few


def test_a_304_costs_fewer_queries_than_a_200(factory, site, desk, session, aptic,
                                              count_queries):
    _fill(factory, site, session, aptic, factory.staff(site), 3)
    full, response = _queries(desk, count_queries, roster_url(session))
    etag = response.headers["ETag"]
    unchanged, _response = _queries(desk, count_queries, roster_url(session),
                                    headers={"If-None-Match": etag}, status=304)
    assert unchanged < full


# --- polling does not keep a login alive -------------------------------------------------------


def _last_seen(staff):
    db.session.expire_all()
    return db.session.scalars(db.select(LoginSession).filter_by(staff_id=staff.id)).one() \
        .last_seen_at


def test_polling_does_not_keep_the_login_alive(desk, staff, session, frozen_now):
    logged_in_at = _last_seen(staff)
    clock.freeze(frozen_now + timedelta(minutes=5))
    polled = desk.get(roster_url(session), headers={**HTMX, "X-Portal-Poll": "1"})
    assert polled.status_code == 200
    assert _last_seen(staff) == logged_in_at
    clock.freeze(frozen_now + timedelta(minutes=6))
    desk.get(roster_url(session), headers=HTMX)
    assert _last_seen(staff) == frozen_now + timedelta(minutes=6)


def test_polling_alone_lets_the_login_time_out(app, desk, session, frozen_now):
    timeout = app.config["STAFF_IDLE_TIMEOUT"]
    for minutes in range(60, int(timeout.total_seconds() // 60) + 60, 60):
        clock.freeze(frozen_now + timedelta(minutes=minutes))
        desk.get(roster_url(session), headers={**HTMX, "X-Portal-Poll": "1"})
    response = desk.get(roster_url(session), headers={**HTMX, "X-Portal-Poll": "1"})
    assert response.status_code == 401


# --- closing ---------------------------------------------------------------------------------


@pytest.fixture
def attended(factory, site, session, booking):
    """Odile still booked; Martine and Kévin present."""
    for name in ("Martine", "Kévin"):
        factory.booking(session, factory.beneficiary(site, first_name=name),
                        status=BookingStatus.PRESENT, checked_in_at=clock.now())
    return session


def close_url(session) -> str:
    return f"/equipe/seances/{session.id}/cloture"


def test_the_close_page_previews_what_will_happen(desk, attended):
    body = desk.get(close_url(attended)).get_data(as_text=True)
    items = [html.unescape(re.sub(r"\s+", " ", item)) for item in re.findall(
        r"<li>(.*?)</li>", body.split('<ul class="close-list">', 1)[1], re.S)]
    absent = next(item for item in items if "absente" in item)  # still booked: Odile
    assert "Odile Lefebvre" in absent and "1 personne" in absent
    assert "Martine" not in absent and "Kévin" not in absent  # present
    assert any("2 attestations" in item for item in items)  # one per person present
    assert 'id="close-button"' in body
    assert fresh(attended).status is SessionStatus.SCHEDULED


def test_the_close_page_names_who_still_owes_cheques(desk, attended, booking, aptic):
    hx_post(desk, f"{page_url(attended)}/{booking.id}", {"action": "present"})
    kevin = db.session.scalar(db.select(Booking).join(Booking.beneficiary)
                              .where(db.text("beneficiary.first_name = 'Kévin'")))
    hx_post(desk, f"{page_url(attended)}/{kevin.id}/cheques", {"numbers": NUMBERS[0]})
    body = desk.get(close_url(attended)).get_data(as_text=True)
    owing = body.split('id="owing"', 1)[1].split("</ul>", 1)[0]
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", owing)))
    assert "3 personnes doivent encore des chèques" in text
    assert re.search(r"Kévin \S+ : 1 chèque", text)
    assert re.search(r"Martine \S+ : 2 chèques", text)
    assert "Odile Lefebvre : 2 chèques" in text


def test_closing_redirects_to_the_documents(desk, attended, booking):
    response = plain_post(desk, close_url(attended))
    assert response.status_code == 303
    assert response.headers["Location"] == close_url(attended)
    shown = desk.get(response.headers["Location"])
    body = shown.get_data(as_text=True)
    assert any("2 attestations" in text for text in flashes(shown))
    assert f'href="/equipe/seances/{attended.id}/attestations.pdf"' in body
    sheet = db.session.scalars(db.select(Document).filter_by(session_id=attended.id)
                               .where(Document.number.startswith("EMA"))).one()
    assert f'href="/equipe/documents/{sheet.id}.pdf"' in body
    assert fresh(attended).status is SessionStatus.CLOSED
    assert fresh(booking).status is BookingStatus.ABSENT


def test_the_merged_attestations_have_one_page_per_person_present(desk, attended):
    plain_post(desk, close_url(attended))
    response = desk.get(f"/equipe/seances/{attended.id}/attestations.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 2


def test_closing_twice_is_harmless(desk, attended):
    first = flashes(desk.get(plain_post(desk, close_url(attended)).headers["Location"]))
    documents, closed_at = count(Document), fresh(attended).closed_at
    again = plain_post(desk, close_url(attended))
    assert again.status_code == 303
    second = flashes(desk.get(again.headers["Location"]))
    assert len(second) == 1 and second != first  # "already closed", nothing new issued
    assert count(Document) == documents
    assert fresh(attended).closed_at == closed_at
    assert len(db.session.scalars(db.select(AuditEvent).filter_by(
        action="session.closed")).all()) == 1


def test_a_session_not_started_is_not_closed(app, desk, staff, factory, site, workshop):
    later = factory.session(site, workshop, starts_in=timedelta(hours=2))
    booked = factory.booking(later, factory.beneficiary(site))
    response = plain_post(desk, close_url(later))
    assert response.status_code == 303
    said = refusal(app, lambda: closing.close_session(later, actor=Actor.of(staff),
                                                      verify_url="http://x/v/{code}"))
    assert flashes(desk.get(response.headers["Location"])) == [said]
    assert fresh(later).status is SessionStatus.SCHEDULED
    assert fresh(booked).status is BookingStatus.BOOKED
    assert count(Document) == 0


def test_no_attestations_pdf_before_closing_or_without_attestations(desk, factory, site,
                                                                   attended):
    assert desk.get(f"/equipe/seances/{attended.id}/attestations.pdf").status_code == 404
    plain = factory.session(site, factory.workshop(grants_attestation=False),
                            starts_in=timedelta(minutes=-30))
    factory.booking(plain, factory.beneficiary(site), status=BookingStatus.PRESENT)
    plain_post(desk, close_url(plain))
    assert fresh(plain).status is SessionStatus.CLOSED
    assert desk.get(f"/equipe/seances/{plain.id}/attestations.pdf").status_code == 404
    assert "attestations.pdf" not in desk.get(close_url(plain)).get_data(as_text=True)


def test_a_closed_session_shows_the_link_to_its_documents_on_the_check_in_page(desk,
                                                                              attended):
    plain_post(desk, close_url(attended))
    body = desk.get(page_url(attended)).get_data(as_text=True)
    assert f'href="{close_url(attended)}"' in body
    assert 'name="action"' not in body and 'id="scan-form"' not in body


# --- reopening ---------------------------------------------------------------------------------


@pytest.fixture
def closed(desk, attended):
    plain_post(desk, close_url(attended))
    assert fresh(attended).status is SessionStatus.CLOSED
    return attended


def reopen_url(session) -> str:
    return f"/equipe/seances/{session.id}/reouvrir"


@pytest.mark.parametrize("role", [StaffRole.ANIMATEUR, StaffRole.RECEPTION])
def test_only_an_administrator_reopens(app, factory, site, closed, role):
    client = signed_in(app, factory.staff(site, role=role))
    assert client.get(reopen_url(closed)).status_code == 403
    response = plain_post(client, reopen_url(closed), {"reason": "Mme Martin était là"})
    assert response.status_code == 403
    assert fresh(closed).status is SessionStatus.CLOSED


def test_the_close_page_offers_reopening_to_administrators_only(desk, admin, closed):
    assert reopen_url(closed) not in desk.get(close_url(closed)).get_data(as_text=True)
    assert reopen_url(closed) in admin.get(close_url(closed)).get_data(as_text=True)


@pytest.fixture
def admin_member(factory, site):
    return factory.staff(site, role=StaffRole.ADMIN, full_name="Anne Admin")


@pytest.fixture
def admin(app, admin_member):
    return signed_in(app, admin_member)


@pytest.mark.parametrize("reason", ["", "   ", "abc", "a\n b", "x" * 301])
def test_reopening_needs_a_reason(app, admin_member, admin, closed, reason):
    response = plain_post(admin, reopen_url(closed), {"reason": reason})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    said = refusal(app, lambda: closing.reopen_session(closed, reason,
                                                       actor=Actor.of(admin_member)))
    assert escape(said) in body
    assert 'aria-invalid="true"' in body
    assert fresh(closed).status is SessionStatus.CLOSED
    assert count_reopened() == 0


def count_reopened() -> int:
    db.session.expire_all()
    return len(db.session.scalars(db.select(AuditEvent).filter_by(
        action="session.reopened")).all())


def test_reopening_with_a_reason(admin, closed):
    reason = "Mme Martin était présente, notée absente par erreur"
    assert admin.get(reopen_url(closed)).status_code == 200
    response = plain_post(admin, reopen_url(closed), {"reason": reason})
    assert response.status_code == 303
    assert response.headers["Location"] == page_url(closed)
    stored = fresh(closed)
    assert stored.status is SessionStatus.SCHEDULED and stored.reopen_reason == reason
    event = db.session.scalars(db.select(AuditEvent).filter_by(action="session.reopened")).one()
    assert event.details["reason"] == reason and event.object_id == str(closed.id)
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="scan-form"' in page and "Mme Martin était présente" in page


def test_a_reason_with_a_nul_byte_never_gives_a_500(admin, closed):
    response = plain_post(admin, reopen_url(closed), {"reason": "Erreur\x00 de pointage"})
    assert response.status_code in (303, 400, 422)


def test_a_session_not_closed_is_not_reopened(app, admin_member, admin, session):
    response = plain_post(admin, reopen_url(session), {"reason": "Erreur de pointage"})
    assert response.status_code == 422
    said = refusal(app, lambda: closing.reopen_session(session, "Erreur de pointage",
                                                       actor=Actor.of(admin_member)))
    assert escape(said) in response.get_data(as_text=True)
    assert count_reopened() == 0


# --- reception ---------------------------------------------------------------------------------


@pytest.fixture
def reception(app, factory, site):
    return signed_in(app, factory.staff(site, role=StaffRole.RECEPTION))


def test_reception_may_check_in(reception, session, booking):
    response = scan(reception, session, booking.code)
    assert result_code(response) == "checked_in"
    assert fresh(booking).status is BookingStatus.PRESENT


def test_reception_may_take_cheques(reception, session, booking, aptic):
    response = hx_post(reception, f"{page_url(session)}/{booking.id}/cheques",
                       {"numbers": "\n".join(NUMBERS)})
    assert result_code(response) == "cheques_redeemed"
    assert count(Cheque) == 2
    receipt = db.session.scalars(db.select(Document)).one()
    assert reception.get(f"/equipe/documents/{receipt.id}.pdf?voir=1").status_code == 200


# --- headers -----------------------------------------------------------------------------------


def test_fragments_and_304_answers_have_the_security_headers(desk, session, booking):
    fragment = desk.get(roster_url(session), headers=HTMX)
    not_modified = desk.get(roster_url(session),
                            headers={**HTMX, "If-None-Match": fragment.headers["ETag"]})
    assert not_modified.status_code == 304
    answer = scan(desk, session, booking.code)
    panel = desk.get(f"{page_url(session)}/personne/{booking.id}", headers=HTMX)
    for response in (fragment, not_modified, answer, panel, desk.get(page_url(session))):
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_the_person_panel_varies_on_hx_request(desk, session, booking):
    """docs/architecture.md: a route answering a page or a partial sends Vary: HX-Request."""
    url = f"{page_url(session)}/personne/{booking.id}"
    for headers in (HTMX, {}):
        assert "HX-Request" in desk.get(url, headers=headers).headers.get("Vary", "")


def test_the_roster_and_the_answers_vary_on_hx_request(desk, session, booking):
    assert "HX-Request" in desk.get(roster_url(session), headers=HTMX).headers["Vary"]
    assert "HX-Request" in scan(desk, session, booking.code).headers["Vary"]


def test_the_closing_pdfs_have_the_security_headers(desk, attended):
    plain_post(desk, close_url(attended))
    response = desk.get(f"/equipe/seances/{attended.id}/attestations.pdf")
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_sessions_are_created_on_the_frozen_clock(session, frozen_now):
    assert session.starts_at == frozen_now - timedelta(minutes=10)
    assert checkin.is_today(session)
