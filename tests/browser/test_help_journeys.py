"""Individual help in Chromium: from a person's page, an animateur records an individual help
(administrative procedure, housing), takes an APTIC cheque for it and downloads the numbered
receipt; the help is then in the site's list and in the person's history."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from io import BytesIO

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portal import clock
from portal.extensions import db
from portal.models.vouchers import ChequeProgramme
from tests.browser.conftest import STAFF, LiveServer, assert_no_browser_problems, check_axe, submit

pytestmark = pytest.mark.browser

CHEQUE = "2026-7777-01"


@pytest.fixture(scope="module")
def programme(live_server: LiveServer) -> str:
    with live_server.app.app_context():
        row = ChequeProgramme(name="Pass Numérique Pas-de-Calais",
                              issuer="Département du Pas-de-Calais", operator="APTIC",
                              number_pattern=r"[0-9]{10}",
                              validity_end=date(clock.today_local().year + 1, 12, 31))
        db.session.add(row)
        db.session.commit()
        name = row.name
        db.session.remove()
    return name


def test_an_individual_help_is_recorded_and_paid_with_a_cheque(
        open_page: Callable[..., Page], storage_state, live_server: LiveServer,
        programme: str) -> None:
    accounts = live_server.accounts
    page = open_page(storage_state=storage_state(STAFF))
    page.goto(f"/equipe/beneficiaires/{accounts.beneficiary_id}")
    page.get_by_role("link", name="Noter un accompagnement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Noter un accompagnement")
    expect(page.get_by_label("Nadia Benali")).to_be_checked()
    expect(page.get_by_label("30 min", exact=True)).to_be_checked()  # the defaults
    expect(page.get_by_label("Lieu d'activité")).to_be_checked()
    expect(page.get_by_label("Ordinateur")).to_be_checked()
    page.get_by_label("Aide aux démarches administratives").check()
    page.get_by_label("Logement").check()
    page.get_by_label("1 h", exact=True).check()
    check_axe(page)
    response = submit(page, "Enregistrer l'accompagnement")
    assert response.status == 200 and re.search(r"/equipe/accompagnements/\d+$", page.url)
    expect(page.locator(".flash-success")).to_contain_text("Accompagnement noté")
    expect(page.get_by_role("heading", level=2, name="Encaisser des chèques")).to_be_visible()

    page.get_by_label(re.compile("^Numéro du chèque")).fill(CHEQUE)
    submit(page, "Prendre les chèques")
    expect(page.locator(".flash-success")).to_contain_text("1 chèque pris")
    link = page.get_by_role("link", name=re.compile(r"^Imprimer le reçu n° REC-"))
    href = link.get_attribute("href")
    assert href is not None
    pdf = page.request.get(href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    body = pdf.body()
    assert body.startswith(b"%PDF")
    text = "\n".join(p.extract_text() or "" for p in PdfReader(BytesIO(body)).pages)
    assert "Nadia" in text and "Accompagnement individuel" in text, text
    check_axe(page)

    page.get_by_role("link", name="Accompagnements", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accompagnements individuels")
    expect(page.get_by_role("row").filter(has_text="Nadia Benali")).to_contain_text(
        "Aide aux démarches administratives")
    page.goto(f"/equipe/beneficiaires/{accounts.beneficiary_id}")
    expect(page.locator("#help-history-title + p + ul")).to_contain_text(
        "Aide aux démarches administratives")
    assert_no_browser_problems(page)
