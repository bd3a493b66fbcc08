"""Staff forms speak for themselves: the portal's own messages (never the browser's pop-up),
tied to their fields, with a focused summary; and staff wording that fits anyone."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import Document
from portal.models.vocab import BookingStatus, DocumentKind, StaffRole
from portal.services import closing
from portal.services.audit import Actor
from tests.conftest import csrf_from, login


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


@pytest.fixture
def animateur(app, factory, site):
    client = app.test_client()
    staff = factory.staff(site, StaffRole.ADMIN, full_name="Claire Martin")
    assert login(client, staff.email).status_code == 303
    client.token = csrf_from(client.get("/equipe/").get_data(as_text=True))
    client.staff = staff
    return client


@pytest.fixture
def document(site, factory):
    person = factory.beneficiary(site)
    row = Document(kind=DocumentKind.LOGIN_CARD, site_id=site.id, year=2026, sequence=1,
                   number="CAR-2026-MER-000001", title="Carte", beneficiary_id=person.id,
                   pdf=b"%PDF", sha256="0" * 64, snapshot={})
    db.session.add(row)
    db.session.commit()
    return row


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": client.token})


def summary_links(body: str) -> list[tuple[str, str]]:
    block = body.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    return [(target, html.unescape(text)) for target, text in
            re.findall(r'<a href="#([^"]+)">(.*?)</a>', block)]


def field_tag(body: str, field_id: str) -> str:
    return re.search(rf'<(?:input|textarea|select)[^>]*\bid="{field_id}"[^>]*>', body).group(0)


def assert_tied(body: str, field_id: str) -> None:
    tag = field_tag(body, field_id)
    assert 'aria-invalid="true"' in tag
    described = re.search(r'aria-describedby="([^"]*)"', tag).group(1).split()
    assert f"{field_id}-error" in described
    assert f'id="{field_id}-error"' in body


def test_revoking_without_a_reason_shows_the_message_at_the_field(animateur, document):
    response = post(animateur, f"/equipe/documents/{document.id}/annuler", {"reason": "  "})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert summary_links(body) == [(f"reason-{document.id}",
                                    "Indiquez la raison de l'annulation (500 caractères au "
                                    "plus).")]
    assert re.search(r'id="error-summary"[^>]*autofocus|autofocus[^>]*id="error-summary"',
                     body.replace("\n", " ")) or 'tabindex="-1" autofocus' in body
    assert_tied(body, f"reason-{document.id}")
    db.session.refresh(document)
    assert document.revoked_at is None


def test_a_deposit_slip_for_a_month_without_cheques_says_so_at_the_month(animateur, site):
    response = post(animateur, "/equipe/bordereau", {"site_id": str(site.id),
                                                     "month": "2026-10"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert summary_links(body) == [("deposit-month", "Aucun chèque n'a été reçu ce mois-là.")]
    assert_tied(body, "deposit-month")
    assert 'value="2026-10"' in field_tag(body, "deposit-month")  # what was typed stays
    assert db.session.scalars(db.select(Document)).all() == []


@pytest.mark.parametrize("month", ["", "2026-13", "octobre", "9999-99-99"])
def test_a_deposit_slip_for_no_real_month_is_refused_at_the_month(animateur, site, month):
    response = post(animateur, "/equipe/bordereau", {"site_id": str(site.id), "month": month})
    assert response.status_code == 422
    assert summary_links(response.get_data(as_text=True))[0][0] == "deposit-month"


def test_reopening_with_too_short_a_reason_ties_the_message_to_the_field(animateur, factory,
                                                                         site, frozen_now):
    session = factory.session(site, starts_in=timedelta(hours=-3))
    closing.close_session(session, actor=Actor.of(animateur.staff),
                          verify_url="https://x/v/{code}")
    response = post(animateur, f"/equipe/seances/{session.id}/reouvrir", {"reason": "non"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    [(target, message)] = summary_links(body)
    assert target == "reason" and "5 à 300 caractères" in message
    assert_tied(body, "reason")


def test_every_staff_form_with_a_field_uses_the_portals_own_messages(animateur, factory,
                                                                      site, frozen_now,
                                                                      document):
    session = factory.session(site, factory.workshop(price_cheques=2),
                              starts_in=timedelta(minutes=-10))
    person = factory.beneficiary(site)
    booking = factory.booking(session, person)
    factory.session(site, starts_in=timedelta(days=3))
    pages = ["/equipe/", "/equipe/documents", "/equipe/beneficiaires",
             f"/equipe/beneficiaires/{person.id}",
             f"/equipe/seances/{session.id}/pointage?b={booking.id}",
             f"/equipe/seances/{session.id}/cloture"]
    checked = 0
    for url in pages:
        body = animateur.get(url).get_data(as_text=True)
        for form in re.findall(r"<form\b.*?</form>", body, re.S):
            fields = re.findall(r'<(?:textarea|select)\b|<input\b(?![^>]*type="hidden")', form)
            if fields:
                checked += 1
                assert re.match(r"<form\b[^>]*\bnovalidate", form), (url, form[:200])
    assert checked >= 7


# --- wording that fits anyone ------------------------------------------------------------------

MASCULINE = re.compile(r"\b(inscrit|inscrits|présent|présents|absent|absents|excusé|excusés|"
                       r"pointé|connecté)\b", re.I)


def visible_text(body: str) -> str:
    """The text of the page's ``<main>``, but the shared inactivity warning (the header, the
    footer and that warning belong to every audience, not to the staff screens)."""
    body = body.split("<main", 1)[1].split("</main>", 1)[0]
    body = re.sub(r'<div id="idle-warning".*?</form>\s*</div>', " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_staff_screens_speak_of_people_without_assuming_they_are_men(animateur, factory, site,
                                                                     frozen_now):
    session = factory.session(site, factory.workshop(price_cheques=1),
                              starts_in=timedelta(minutes=-10))
    people = [factory.beneficiary(site, first_name=n) for n in ("Odile", "Kévin", "Inès")]
    factory.booking(session, people[0])
    factory.booking(session, people[1], BookingStatus.PRESENT, checked_in_at=frozen_now)
    factory.booking(session, people[2], BookingStatus.EXCUSED)
    later = factory.session(site, starts_in=timedelta(days=2))
    pages = [f"/equipe/seances/{session.id}/pointage",
             f"/equipe/seances/{session.id}/cloture", "/equipe/",
             f"/equipe/beneficiaires/{people[0].id}"]
    for url in pages:
        text = visible_text(animateur.get(url).get_data(as_text=True))
        assert not MASCULINE.findall(text), (url, MASCULINE.findall(text))
    booked = post(animateur, f"/equipe/beneficiaires/{people[2].id}/reserver",
                  {"session_id": str(later.id)})
    assert booked.status_code == 303
    flash = visible_text(animateur.get(booked.headers["Location"]).get_data(as_text=True))
    assert "Inscription faite pour Inès" in flash and not MASCULINE.findall(flash)
    again = post(animateur, f"/equipe/beneficiaires/{people[2].id}/reserver",
                 {"session_id": str(later.id)})
    flash = visible_text(animateur.get(again.headers["Location"]).get_data(as_text=True))
    assert "Inès a déjà une place à cette séance." in flash


def test_marks_answer_with_words_that_fit_anyone(animateur, factory, site, frozen_now):
    session = factory.session(site, starts_in=timedelta(minutes=-10))
    booking = factory.booking(session, factory.beneficiary(site, first_name="Odile"))
    url = f"/equipe/seances/{session.id}/pointage/{booking.id}"
    headers = {"HX-Request": "true", "X-CSRFToken": animateur.token}
    for action in ("present", "undo", "absent", "excused"):
        body = animateur.post(url, data={"action": action}, headers=headers).get_data(
            as_text=True)
        label = re.search(r'<p class="result-label">(.*?)</p>', body).group(1)
        message = re.search(r'<p class="result-message">(.*?)</p>', body).group(1)
        assert not MASCULINE.findall(label + " " + html.unescape(message)), (action, label,
                                                                              message)

