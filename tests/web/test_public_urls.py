"""Every absolute link comes from the configured public address, never from the request.

The requests below claim another host (``Host: intrus.example``): what is printed on a
document or handed out as a link must still lead to ``PUBLIC_URL``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.extensions import db
from portal.models import Document
from portal.models.vocab import BookingStatus
from portal.public_urls import public_address, public_url, verify_url_template
from tests.conftest import base_config, csrf_from, login
from tests.pdf.helpers import flat, pdf_text

PUBLIC = "https://portail.example.fr/cyber"
SPOOFED = {"Host": "intrus.example"}


@pytest.fixture
def app_config(database_url):
    return {**base_config(database_url), "PUBLIC_URL": PUBLIC}


def logged_in(app, identifier):
    """A client logged in as ``identifier`` whose cookies also go to the spoofed host."""
    client = app.test_client()
    assert login(client, identifier).status_code == 303
    for name in ("portail_session",):
        client.set_cookie(name, client.get_cookie(name).value, domain=SPOOFED["Host"])
    return client


def test_the_helpers_ignore_the_host_of_the_request(app):
    with app.test_request_context("/", base_url="http://intrus.example:8000"):
        assert verify_url_template() == PUBLIC + "/v/{code}"
        assert public_url("calendar_feed.feed", token="abc") == PUBLIC + "/agenda/abc.ics"
        assert public_address() == "portail.example.fr/cyber"
    # Outside any request too (commands, scheduled jobs).
    assert public_url("public.verify", code="K7PM3QX9RT2W") == PUBLIC + "/v/K7PM3QX9RT2W"


def test_the_calendar_feed_link_leads_to_the_public_address(app, factory):
    site = factory.site()
    person = factory.beneficiary(site)
    factory.booking(factory.session(site), person)
    client = logged_in(app, person.login_id)
    page = client.get("/mon-espace/profil", headers=SPOOFED).get_data(as_text=True)
    created = client.post("/mon-espace/profil/agenda", data={"csrf_token": csrf_from(page)},
                          headers=SPOOFED, follow_redirects=True)
    link = re.search(r'id="feed-url"[^>]*>([^<]+)</textarea>',
                     created.get_data(as_text=True)).group(1).strip()
    assert re.fullmatch(re.escape(PUBLIC) + r"/agenda/[A-Za-z0-9_-]+\.ics", link)
    # The path after the public address opens the feed.
    feed = app.test_client().get(link.removeprefix(PUBLIC))
    assert feed.status_code == 200 and "BEGIN:VEVENT" in feed.get_data(as_text=True)


def test_certificates_printed_by_staff_lead_to_the_public_address(app, factory):
    site = factory.site()
    session = factory.session(site, factory.workshop(grants_attestation=True))
    factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    client = logged_in(app, factory.staff(site).email)
    page = client.get("/equipe/", headers=SPOOFED).get_data(as_text=True)
    response = client.post(f"/equipe/seances/{session.id}/attestations",
                           data={"csrf_token": csrf_from(page)}, headers=SPOOFED)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    certificate = db.session.scalars(db.select(Document)).one()
    address = f"{PUBLIC}/v/{certificate.verification_code}"
    assert certificate.snapshot["verify_url"] == address
    assert address in flat(pdf_text(certificate.pdf, layout=False)).replace("\n", "")


def test_login_cards_print_the_public_address(app, factory):
    site = factory.site()
    person = factory.beneficiary(site, password_hash=None)
    client = logged_in(app, factory.staff(site).email)
    page = client.get("/equipe/", headers=SPOOFED).get_data(as_text=True)
    card = client.post(f"/equipe/beneficiaires/{person.id}/carte",
                       data={"csrf_token": csrf_from(page)}, headers=SPOOFED)
    assert card.status_code == 200 and card.mimetype == "application/pdf"
    assert "Ouvrez portail.example.fr/cyber" in flat(pdf_text(card.data))
    assert "intrus" not in pdf_text(card.data)
    document = db.session.scalars(db.select(Document).filter_by(beneficiary_id=person.id)).one()
    assert document.snapshot["portal_address"] == "portail.example.fr/cyber"


def test_no_absolute_link_is_built_from_the_request():
    """Only portal.public_urls builds absolute links (and only config.py reads the setting)."""
    package = Path(__file__).parents[2] / "portal"
    allowed = {package / "public_urls.py", package / "config.py"}
    pattern = re.compile(r"_external\s*=|\bhost_url\b|\burl_root\b|PUBLIC_URL")
    offenders = [f"{path.relative_to(package)}:{number}"
                 for path in package.rglob("*.py") if path not in allowed
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []
