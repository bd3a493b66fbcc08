"""Personal data in Chromium: a network administrator anonymises a person from their page
(after the confirmation screen has refused an empty confirmation), then a certificate of theirs
is verified on the public page: still valid, issued to "Personne anonymisée", no name left."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from portal import clock
from portal.extensions import db
from portal.models import Beneficiary, Document, Site
from portal.models.vocab import DocumentKind
from tests.browser.conftest import (
    NETWORK_ADMIN,
    LiveServer,
    assert_no_browser_problems,
    check_axe,
    submit,
)

pytestmark = pytest.mark.browser

CODE = "SVPR7K2QXW4M"


def _person_with_a_certificate(live_server: LiveServer) -> int:
    with live_server.app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(code="MER"))
        person = Beneficiary(first_name="Solange", last_name="Verhaeghe", login_id="SV7K2Q",
                             phone="06 98 76 54 32", email="solange.v@example.org",
                             home_site_id=site.id)
        db.session.add(person)
        db.session.flush()
        pdf = b"%PDF-1.4\n% Portail test document\ntrailer << >>\n%%EOF\n"
        db.session.add(Document(
            kind=DocumentKind.CERTIFICATE, site_id=site.id, year=clock.now().year,
            sequence=90, number=f"ATT-{clock.now().year}-MER-000090", verification_code=CODE,
            title="Attestation de participation", beneficiary_id=person.id, pdf=pdf,
            sha256=hashlib.sha256(pdf).hexdigest(),
            snapshot={"title": "Attestation de participation",
                      "person_name": "Solange Verhaeghe", "person_first_name": "Solange",
                      "person_public_name": "Solange V.", "site": {"name": site.name}}))
        db.session.commit()
        return person.id


def test_an_admin_anonymises_a_person_whose_certificate_still_verifies(
        open_page: Callable[..., Page], storage_state, live_server: LiveServer) -> None:
    person_id = _person_with_a_certificate(live_server)
    page = open_page(storage_state=storage_state(NETWORK_ADMIN))
    page.goto(f"/v/{CODE}")
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

    page.goto(f"/v/{CODE}")
    main = page.locator("main")
    expect(main).to_contain_text("Document authentique et valide.")
    expect(main).to_contain_text("Personne anonymisée")
    expect(main).not_to_contain_text("Solange")
    assert page.goto(f"/equipe/beneficiaires/{person_id}").status == 404
    assert_no_browser_problems(page)
