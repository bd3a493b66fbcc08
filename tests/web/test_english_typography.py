"""English screens write English: no French space before ':', ';', '!' or '?' in what the
interface says (French content — titles, names, reasons — is marked lang="fr" and left as
written)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from portal.models.vocab import BookingStatus, StaffRole
from tests.conftest import post_form

FRENCH_SPACING = re.compile(r"\w[ \u00a0\u202f][:;!?](?:\s|$)")
#: elements without a closing tag: they open no scope for ``lang``.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class EnglishText(HTMLParser):
    """The visible text of a page, without what is marked French or is not shown."""

    def __init__(self) -> None:
        super().__init__()
        self.skipping: list[bool] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        outer = bool(self.skipping and self.skipping[-1])
        self.skipping.append(outer or dict(attrs).get("lang") == "fr"
                             or tag in ("script", "style"))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.skipping:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not (self.skipping and self.skipping[-1]):
            self.text.append(data)


def english_problems(page: str) -> list[str]:
    parser = EnglishText()
    parser.feed(page)
    text = " ".join(" ".join(parser.text).split())
    return [text[max(m.start() - 40, 0):m.end() + 10] for m in FRENCH_SPACING.finditer(text)]


@pytest.fixture
def scene(factory, frozen_now):
    site = factory.site(name="Cyberbase de Méricourt")
    person = factory.beneficiary(site, first_name="Martine")
    today = factory.session(site, factory.workshop(title="Créer son adresse e-mail",
                                                   grants_attestation=True),
                            starts_in=timedelta(minutes=-30))
    past = factory.session(site, factory.workshop(title="Parcours : démarches"),
                           starts_in=timedelta(days=-7))
    factory.booking(today, person)
    factory.booking(past, person, status=BookingStatus.PRESENT)
    return site, person, today


def test_staff_screens_in_english_have_no_french_spacing(client, factory, login_as, scene):
    site, person, session = scene
    login_as(factory.staff(site, role=StaffRole.ADMIN))
    post_form(client, "/langue", {"lang": "en", "next": "/"}, page="/equipe/")
    for url in ("/equipe/", f"/equipe/seances/{session.id}/pointage",
                f"/equipe/seances/{session.id}/cloture", f"/equipe/beneficiaires/{person.id}",
                "/equipe/beneficiaires", "/equipe/documents", "/mot-de-passe"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert '<html lang="en">' in page
        assert english_problems(page) == [], url


def test_beneficiary_screens_in_english_have_no_french_spacing(client, login_as, scene):
    _site, person, session = scene
    login_as(person)
    post_form(client, "/langue", {"lang": "en", "next": "/"}, page="/mon-espace/")
    for url in ("/mon-espace/", "/mon-espace/ateliers", f"/mon-espace/seances/{session.id}",
                "/mon-espace/documents", "/mon-espace/profil", "/", "/accessibilite",
                "/donnees-personnelles", "/verifier"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert english_problems(response.get_data(as_text=True)) == [], url
