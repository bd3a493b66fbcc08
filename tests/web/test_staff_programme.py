"""The programme's screens: the week and the month of a site, the printed programme and the
day's convocations; another site is a 404, bad input a plain French message, never a 500."""

from __future__ import annotations

import html
import io
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader

from portal.clock import PARIS
from portal.extensions import db
from portal.models.audit import AuditEvent
from portal.models.vocab import SessionStatus, StaffRole
from tests.conftest import csrf_from, login
from tests.pdf.helpers import flat, pdf_text, title

# The clock of ``frozen_now``: Thursday 26 November 2026, 10:00 in Paris.


def wall(*fields: int) -> datetime:
    """A wall-clock time in Paris."""
    return datetime(*fields, tzinfo=PARIS)


def session_at(factory, site, when: datetime, **fields):
    start = when
    return factory.session(site, starts_at=start, ends_at=start + timedelta(hours=2), **fields)


@pytest.fixture
def scene(app, factory, frozen_now):
    site = factory.site(code="MER", name="Cyberbase de Méricourt", address="2 rue Jean Jaurès",
                        postcode="62680", city="Méricourt", phone="03 21 00 00 00")
    other = factory.site(code="LEN", name="Cyberbase de Lens")
    staff = factory.staff(site, StaffRole.RECEPTION)
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    return site, other, staff, client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_week_shows_rooms_and_days_each_session_linked_with_its_fill(scene, factory):
    site, _other, _staff, client = scene
    mail = session_at(factory, site, wall(2026, 11, 24, 14, 0), room="Salle 2", capacity=12,
                      workshop=factory.workshop(title="Écrire un e-mail"))
    factory.booking(mail, factory.beneficiary(site))
    session_at(factory, site, wall(2026, 11, 27, 9, 0), status=SessionStatus.CANCELLED,
               workshop=factory.workshop(title="Tablette"))
    response = client.get("/equipe/programme")
    assert response.status_code == 200
    body = text_of(response)
    assert "Programme de la semaine du 23 novembre" in body
    assert "Mardi 24 novembre 2026" in body
    assert "Jeudi 26 novembre 2026 <span class=\"today-mark\">(aujourd'hui)" in body
    assert f'href="/equipe/seances/{mail.id}"' in body
    assert "1 / 12 places" in body and "Salle 2" in body
    assert "Annulée" in body
    assert "semaine=2026-11-30" in body and "semaine=2026-11-16" in body


def test_the_next_week_and_the_month(scene, factory):
    site, _other, _staff, client = scene
    session_at(factory, site, wall(2026, 12, 1, 14, 0),
               workshop=factory.workshop(title="Classer ses photos"))
    body = text_of(client.get(f"/equipe/programme?site={site.id}&semaine=2026-11-30"))
    assert "Classer ses photos" in body and "Mardi 1er décembre 2026" in body
    body = text_of(client.get(f"/equipe/programme/mois?site={site.id}&mois=2026-12"))
    assert "Programme de décembre 2026" in body and "Classer ses photos" in body
    assert "mois=2027-01" in body and "mois=2026-11" in body


@pytest.mark.parametrize("url", ["/equipe/programme?site={other}",
                                 "/equipe/programme/mois?site={other}",
                                 "/equipe/programme/imprimer?site={other}&mois=2026-12&format=A4",
                                 "/equipe/convocations?site={other}",
                                 "/equipe/programme?site=abc"])
def test_another_site_is_not_found(scene, url):
    _site, other, _staff, client = scene
    assert client.get(url.format(other=other.id)).status_code == 404


@pytest.mark.parametrize("url, message", [
    ("/equipe/programme?semaine=2026-13-45", "Cette date n'est pas valide"),
    ("/equipe/programme/mois?mois=décembre", "Ce mois n'est pas valide"),
    ("/equipe/convocations?jour=demain", "Cette date n'est pas valide"),
    ("/equipe/programme?semaine=9999-12-31", "Cette date n'est pas valide"),
    ("/equipe/programme/mois?mois=0001-01", "Ce mois n'est pas valide"),
])
def test_a_bad_date_is_said_in_french_and_today_shown(scene, url, message):
    response = scene[3].get(url)
    assert response.status_code == 200
    assert message in text_of(response)


def test_the_programme_pdf_in_a3_and_a4(scene, factory):
    site, _other, _staff, client = scene
    workshop = factory.workshop(title="Écrire un e-mail", price_cheques=0)
    session_at(factory, site, wall(2026, 12, 3, 14, 0), workshop=workshop, capacity=10)
    sizes = {}
    for paper in ("A4", "A3"):
        response = client.get(f"/equipe/programme/imprimer?site={site.id}&mois=2026-12"
                               f"&format={paper}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/pdf"
        pdf = response.get_data()
        box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
        sizes[paper] = (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72))
    assert sizes == {"A4": (210, 297), "A3": (297, 420)}
    text = flat(pdf_text(pdf, layout=False)).replace("\n", " ")
    assert title(pdf) == "Programme de décembre 2026 – Cyberbase de Méricourt"
    assert "Jeudi 3 décembre" in text and "Gratuit" in text
    assert "10 places libres sur 10" in text
    assert "03 21 00 00 00" in text and "2 rue Jean Jaurès" in text


@pytest.mark.parametrize("query, status, message", [
    ("mois=2027-02&format=A4", 422, "Aucune séance prévue en février 2027"),
    ("mois=2026-12&format=A5", 422, "Choisissez le format A4 ou A3."),
    ("mois=12-2026&format=A4", 422, "Choisissez un mois"),
])
def test_the_programme_form_refuses_in_french(scene, factory, query, status, message):
    site, _other, _staff, client = scene
    session_at(factory, site, wall(2026, 12, 3, 14, 0))
    response = client.get(f"/equipe/programme/imprimer?site={site.id}&{query}")
    assert response.status_code == status
    assert message in text_of(response)


def test_the_convocations_screen_lists_who_gets_a_slip_and_prints_it(scene, factory):
    site, _other, staff, client = scene
    session = session_at(factory, site, wall(2026, 11, 27, 14, 0),
                         workshop=factory.workshop(title="Écrire un e-mail"))
    factory.booking(session, factory.beneficiary(site, first_name="Aline", last_name="Petit",
                                                 email="", phone="", has_no_phone=True))
    factory.booking(session, factory.beneficiary(site, email="b@example.org"))
    response = client.get("/equipe/convocations")  # tomorrow by default
    body = text_of(response)
    assert "Convocations du vendredi 27 novembre 2026" in body
    assert "1 convocation à imprimer" in body and "Aline Petit" in body
    response = client.post("/equipe/convocations", data={
        "csrf_token": csrf_from(response.get_data(as_text=True)), "site": site.id,
        "jour": "2026-11-27"})
    assert response.status_code == 200
    assert "Aline Petit" in pdf_text(response.get_data())
    [event] = db.session.scalars(db.select(AuditEvent).filter_by(
        action="convocations.printed")).all()
    assert event.actor_id == staff.id and event.details["day"] == "2026-11-27"


def test_an_empty_day_is_a_plain_message_not_a_pdf(scene):
    site, _other, _staff, client = scene
    page = client.get("/equipe/convocations?jour=2026-12-25")
    assert "Personne à convoquer ce jour-là" in text_of(page)
    response = client.post("/equipe/convocations", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "site": site.id,
        "jour": "2026-12-25"})
    assert response.status_code == 422
    assert "Aucune convocation à imprimer pour le vendredi 25 décembre 2026" in text_of(response)


def test_the_week_page_costs_the_same_queries_for_one_session_or_twenty(scene, factory,
                                                                       count_queries):
    site, _other, _staff, client = scene

    def queries() -> int:
        with count_queries() as counter:
            assert client.get("/equipe/programme?semaine=2026-12-07").status_code == 200
        return counter.count

    session_at(factory, site, wall(2026, 12, 7, 9, 0))
    one = queries()
    for n in range(19):
        session = session_at(factory, site, wall(2026, 12, 7 + n % 7, 10 + n % 6, 0),
                             room=f"Salle {n % 3}", workshop=factory.workshop())
        factory.booking(session, factory.beneficiary(site))
    assert queries() == one


def test_who_schedules_edits_and_duplicates_from_the_calendar_reception_only_opens(
        scene, app, factory):
    site, _other, _staff, reception = scene
    past = session_at(factory, site, wall(2026, 11, 24, 14, 0),
                      workshop=factory.workshop(title="Écrire un e-mail"))
    coming = session_at(factory, site, wall(2026, 11, 27, 14, 0),
                        workshop=factory.workshop(title="Tablette"))
    animateur = app.test_client()
    assert login(animateur, factory.staff(site, StaffRole.ANIMATEUR).email).status_code == 303
    body = text_of(animateur.get("/equipe/programme"))
    assert f'href="/equipe/seances/{coming.id}/modifier"' in body
    assert f'href="/equipe/seances/{coming.id}/dupliquer"' in body
    # a session that has taken place is duplicated, no longer edited
    assert f'href="/equipe/seances/{past.id}/modifier"' not in body
    assert f'href="/equipe/seances/{past.id}/dupliquer"' in body
    body = text_of(reception.get("/equipe/programme"))
    assert f'href="/equipe/seances/{coming.id}"' in body
    assert "/modifier" not in body and "/dupliquer" not in body
