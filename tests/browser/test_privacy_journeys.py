"""Personal data in Chromium: a network administrator anonymises a person from their page
(after the confirmation screen has refused an empty confirmation), then a certificate of theirs
is verified on the public page: still valid, issued to "Personne anonymisée", no name left."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import Document, Site
from portal.models.vocab import BookingStatus
from portal.services import documents
from portal.services.audit import Actor
from tests.browser.conftest import (
    NETWORK_ADMIN,
    LiveServer,
    assert_no_browser_problems,
    check_axe,
    submit,
)
from tests.conftest import Factory
from tests.pdf.helpers import pdf_text

pytestmark = pytest.mark.browser

def _person_with_a_certificate(live_server: LiveServer, password_hash: str) -> tuple[int, str]:
    """Solange, present at a workshop last week, with the certificate the portal issued her
    (through the issuing path, so its PDF names her); her id and its verification code."""
    app = live_server.app
    with app.app_context():
        factory = Factory(password_hash)
        site = db.session.scalar(db.select(Site).filter_by(code="MER"))
        person = factory.beneficiary(site, first_name="Solange", last_name="Verhaeghe",
                                     phone="06 98 76 54 32", email="solange.v@example.org")
        workshop = factory.workshop(title="Protéger ses mots de passe", grants_attestation=True)
        session = factory.session(site, workshop, starts_in=timedelta(days=-7))
        booking = factory.booking(session, person, BookingStatus.PRESENT)
        certificate = documents.issue_certificate(
            booking, actor=Actor.system(),
            verify_url=app.config["PUBLIC_URL"].rstrip("/") + "/v/{code}")
        assert "Solange" in pdf_text(certificate.pdf)
        return person.id, certificate.verification_code


def test_an_admin_anonymises_a_person_whose_certificate_still_verifies(
        open_page: Callable[..., Page], storage_state, live_server: LiveServer,
        password_hash: str) -> None:
    person_id, code = _person_with_a_certificate(live_server, password_hash)
    page = open_page(storage_state=storage_state(NETWORK_ADMIN))
    page.goto(f"/v/{code}")
    expect(page.locator("main")).to_contain_text("Solange V.")

    page.goto(f"/equipe/beneficiaires/{person_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Solange Verhaeghe")
    page.get_by_role("link", name="Anonymiser la fiche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Anonymiser la fiche de Solange Verhaeghe")
    check_axe(page)
    refused = submit(page, "Anonymiser définitivement")
    assert refused.status == 422
    expect(page.locator("#error-summary")).to_be_focused()
    page.get_by_label("Pour confirmer, tapez le prénom de la personne").fill("solange")
    done = submit(page, "Anonymiser définitivement")
    assert done.status == 200
    expect(page.locator(".flash-success")).to_contain_text("La fiche est anonymisée")

    page.goto(f"/v/{code}")
    main = page.locator("main")
    expect(main).to_contain_text("Document authentique et valide.")
    expect(main).to_contain_text("Personne anonymisée")
    expect(main).not_to_contain_text("Solange")
    assert page.goto(f"/equipe/beneficiaires/{person_id}").status == 404
    assert_no_browser_problems(page)
    # The stored PDF was rendered again under the same number, without her name.
    with live_server.app.app_context():
        stored = db.session.scalar(db.select(Document).filter_by(verification_code=code))
        printed = pdf_text(stored.pdf)
        assert "Personne anonymisée" in printed and "Solange" not in printed
