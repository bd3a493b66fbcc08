"""The programme in Chromium: open the week, go to the next week (htmx, and without
JavaScript), open a session from the calendar; print the month's programme (a PDF download)
and the convocations of a day, at desktop and 320 px widths."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal.clock import PARIS
from portal.extensions import db
from portal.formatting import date_long
from portal.models import WorkshopSession
from portal.models.vocab import SessionStatus
from portal.services import programme
from tests.browser.conftest import DESKTOP, NARROW, STAFF, LiveServer, submit
from tests.pdf.helpers import page_count, pdf_text

pytestmark = pytest.mark.browser


def sessions_between(live_server: LiveServer, first: date, last: date) -> list[tuple[int, str]]:
    """(id, title) of the seeded site's sessions from ``first`` to ``last`` (Paris days)."""
    with live_server.app.app_context():
        rows = db.session.scalars(db.select(WorkshopSession).order_by(WorkshopSession.starts_at))
        found = [(s.id, s.workshop.title) for s in rows
                 if s.site.name == live_server.accounts.site_name
                 and s.status is not SessionStatus.CANCELLED
                 and first <= s.starts_at.astimezone(PARIS).date() <= last]
        db.session.remove()
        return found


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@pytest.mark.parametrize("java_script", [True, False], ids=["htmx", "no-js"])
def test_open_the_week_go_to_the_next_and_open_a_session(
        open_page: Callable[..., Page], storage_state: Callable[[str], Any],
        live_server: LiveServer, java_script: bool) -> None:
    page = open_page(storage_state=storage_state(STAFF), java_script_enabled=java_script)
    page.goto("/")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Programme").click()
    this_monday = monday(programme.today())
    with live_server.app.app_context(), live_server.app.test_request_context():
        heading = f"Programme de la semaine du {date_long(this_monday, 'fr')}"
        next_heading = f"Programme de la semaine du {date_long(this_monday + timedelta(7), 'fr')}"
    expect(page.locator("h1")).to_have_text(heading)
    page.get_by_role("link", name="Semaine suivante").click()
    expect(page.locator("h1")).to_have_text(next_heading)
    assert f"semaine={this_monday + timedelta(days=7)}" in page.url
    found = sessions_between(live_server, this_monday + timedelta(days=7),
                             this_monday + timedelta(days=13))
    assert found, "the seeded programme has sessions next week"
    session_id, title = found[0]
    page.get_by_role("link", name=title, exact=True).first.click()
    expect(page.locator("h1")).to_have_text(f"Séance : {title}")
    assert page.url.endswith(f"/equipe/seances/{session_id}")


@pytest.mark.parametrize("viewport", [DESKTOP, NARROW], ids=["1280px", "320px"])
def test_print_the_programme_and_the_convocations_of_a_day(
        open_page: Callable[..., Page], storage_state: Callable[[str], Any],
        live_server: LiveServer, viewport: dict[str, int]) -> None:
    page = open_page(storage_state=storage_state(STAFF), viewport=viewport)
    page.goto("/equipe/programme/mois")
    expect(page.locator("h1")).to_contain_text("Programme de")
    seeded = live_server.accounts
    with live_server.app.app_context():
        booked = db.session.get(WorkshopSession, seeded.booked_session_id)
        booked_day = booked.starts_at.astimezone(PARIS).date()
        db.session.remove()
    page.get_by_label("Mois", exact=True).fill(booked_day.strftime("%Y-%m"))
    page.get_by_role("radio", name=re.compile("A3")).check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger le programme (PDF)").click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == f"programme-MER-{booked_day:%Y-%m}-A3.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and page_count(pdf) >= 1
    assert "Premiers pas sur l" in pdf_text(pdf)

    # The booked beneficiary has neither e-mail nor mobile: she gets a slip for that day.
    page.get_by_role("link", name="Convocations").click()
    page.get_by_label("Jour", exact=True).fill(booked_day.isoformat())
    submit(page, "Afficher")
    expect(page.get_by_role("heading", level=2)).to_contain_text("à imprimer")
    expect(page.locator(".convocation-list")).to_contain_text(
        f"{seeded.beneficiary_first_name} Benali")
    with page.expect_download() as info:
        page.get_by_role("button", name="Imprimer les convocations (PDF)").click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == f"convocations-MER-{booked_day.isoformat()}.pdf"
    text = pdf_text(Path(download.path()).read_bytes())
    assert f"{seeded.beneficiary_first_name} Benali" in text
    assert "Convocation" in text
