"""The beneficiary space and the desk, end to end in Chromium: find a workshop with the live
search (and the browser's history), book and cancel through htmx, the waiting list and its
promotion, calendar files and the personal feed, and booking on someone's behalf at the desk.

Every screen a journey passes through goes through axe-core; at 320 px, the reflow check too.
Each journey has people of its own in the seed, so the journeys do not depend on their order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, Request, expect

from portal import clock
from portal.extensions import db
from portal.models import Beneficiary, Course, Workshop, WorkshopSession
from portal.models.bookings import Booking
from portal.models.messages import OutboxMessage
from portal.models.people import Site
from portal.models.vocab import BookingSource, BookingStatus
from portal.services import messages, passwords
from tests.browser.conftest import (
    BENEFICIARY,
    DESKTOP,
    NARROW,
    STAFF,
    LiveServer,
    check_axe,
    check_html,
    check_reflow,
    log_in,
    submit,
)
from tests.browser.names import action

pytestmark = pytest.mark.browser

_SEATS = re.compile(r"(\d+) places? libres?")


# --- helpers -------------------------------------------------------------------------------

def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def mark_document(page: Page) -> None:
    """Leave a mark on the current document: a full page load would wipe it out."""
    page.evaluate("window.__sameDocument = true")


def assert_same_document(page: Page, what: str) -> None:
    assert page.evaluate("window.__sameDocument === true"), f"{what} reloaded the page"


def check_screen(page: Page, viewport: Mapping[str, int] = DESKTOP) -> None:
    """axe-core on the page as it is now; at 320 px, no sideways scrolling or cut-off text."""
    check_axe(page)
    if viewport is NARROW:
        check_reflow(page)


def main_menu(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Menu principal")


def seats_left(page: Page) -> int:
    """The number of free seats the session page shows (0 when full)."""
    text = page.locator("#seats-left").inner_text()
    match = _SEATS.search(text)
    if match is None:
        assert "Complet" in text, text
        return 0
    return int(match.group(1))


def booking_card(page: Page, title: str) -> Locator:
    """The card of a booking in "Mes prochains ateliers", on "Mes ateliers"."""
    upcoming = page.get_by_role("region", name="Mes prochains ateliers")
    return upcoming.get_by_role("listitem").filter(
        has=page.get_by_role("heading", level=3, name=title))


def unfold(ics: str) -> str:
    """An iCalendar text with its folded lines joined again (RFC 5545 §3.1)."""
    return ics.replace("\r\n ", "")


# --- a. and d. find, book, cancel -------------------------------------------------------------

@pytest.mark.parametrize("viewport", [DESKTOP, NARROW], ids=["1280px", "320px"])
def test_find_book_and_cancel_a_workshop_without_reloading_the_page(
        viewport: Mapping[str, int], open_page: Callable[..., Page],
        live_server: LiveServer) -> None:
    """Live search (debounced, URL pushed, back and forward follow), book on the session page,
    cancel on "Mes ateliers": every change is an htmx swap of the same document."""
    seeded = live_server.accounts
    title = seeded.open_session_title
    person = seeded.other_login_id if viewport is DESKTOP else seeded.narrow_login_id
    page = open_page(viewport=viewport)
    log_in(page, person, seeded.password)
    expect(page.get_by_role("region", name="Mes prochains ateliers")).to_contain_text(
        "Vous n'avez pas d'atelier prévu.")
    check_screen(page, viewport)

    # --- the live search
    main_menu(page).get_by_role("link", name="Trouver un atelier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trouver un atelier")
    results = page.locator("#session-results")
    expect(results.get_by_role("heading", level=3)).not_to_have_count(0)
    everything = results.get_by_role("heading", level=3).count()
    assert everything > 1
    check_screen(page, viewport)
    mark_document(page)

    searches: list[str] = []

    def on_request(request: Request) -> None:
        if (urlsplit(request.url).path == "/mon-espace/ateliers"
                and request.headers.get("hx-request") == "true"):
            searches.append(request.url)

    page.on("request", on_request)
    search = page.get_by_role("searchbox", name="Rechercher")
    search.press_sequentially("ordinateur", delay=40)
    expect(results.get_by_role("heading", level=2)).to_have_text("1 résultat")
    expect(results.get_by_role("link", name="Premiers pas sur l'ordinateur")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="1 atelier trouvé")).to_have_count(1)
    assert query_of(page).get("q") == ["ordinateur"], page.url  # pushed: it can be bookmarked
    # Debounced: one request once the typing stops, not one per key.
    assert searches and len(searches) < len("ordinateur"), searches
    assert parse_qs(urlsplit(searches[-1]).query).get("q") == ["ordinateur"]
    assert_same_document(page, "the search")

    search.select_text()
    search.press_sequentially("smartphone", delay=40)
    expect(results.get_by_role("link", name=title)).to_be_visible()
    expect(results.get_by_role("heading", level=2)).to_have_text("1 résultat")
    assert query_of(page).get("q") == ["smartphone"], page.url
    check_screen(page, viewport)

    # --- the browser's history: the results follow the address
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]q=ordinateur(&|$)"))
    expect(results.get_by_role("link", name="Premiers pas sur l'ordinateur")).to_be_visible()
    expect(results.get_by_role("link", name=title)).to_have_count(0)
    expect(search).to_have_value("ordinateur")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/mon-espace/ateliers$"))
    expect(results.get_by_role("heading", level=3)).to_have_count(everything)
    expect(search).to_have_value("")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"[?&]q=ordinateur(&|$)"))
    expect(results.get_by_role("heading", level=3)).to_have_count(1)
    page.go_forward()
    expect(page).to_have_url(re.compile(r"[?&]q=smartphone(&|$)"))
    expect(results.get_by_role("link", name=title)).to_be_visible()
    expect(search).to_have_value("smartphone")
    assert_same_document(page, "going back and forward")
    check_screen(page, viewport)

    # --- book on the session page
    results.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    check_screen(page, viewport)
    free = seats_left(page)
    assert free > 0
    mark_document(page)
    page.get_by_role("button", name="Je m'inscris").click()
    # The answer is told in the panel, where the person acted, and takes the focus.
    notice = page.locator("#booking-notice")
    expect(notice).to_have_attribute("role", "status")
    expect(notice).to_contain_text(f"C'est fait ! Votre place est réservée pour « {title} ».")
    expect(notice).to_be_focused()
    expect(notice).to_be_in_viewport()
    panel = page.locator("#booking-panel")
    expect(panel).to_contain_text("Votre place est réservée.")
    expect(panel.get_by_role("link", name="Annuler mon inscription")).to_be_visible()
    expect(page.locator("#seats-left")).not_to_have_text(re.compile(rf"^{free} place"))
    assert seats_left(page) == free - 1
    expect(page.locator("#my-upcoming").get_by_role("link", name=title)).to_be_visible()
    expect(page.locator("#flash-area")).to_have_text("")
    assert_same_document(page, "booking")
    check_screen(page, viewport)

    # --- cancel on "Mes ateliers": asked first, in the row, then told in the row
    main_menu(page).get_by_role("link", name="Mes ateliers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Bonjour"))
    card = booking_card(page, title)
    expect(card).to_contain_text("Place réservée")
    check_screen(page, viewport)
    mark_document(page)
    card.get_by_role("link", name=action("Annuler", title, whole=False)).click()
    question = card.locator(".confirm-text")
    expect(question).to_contain_text("Voulez-vous vraiment annuler ?")
    expect(question).to_contain_text("Votre place sera libérée")
    expect(question).to_be_focused()
    check_screen(page, viewport)
    # "No" keeps the booking and gives the focus back to the button that asked.
    card.get_by_role("link", name="Non, garder ma place").click()
    asking = card.get_by_role("link", name=action("Annuler", title, whole=False))
    expect(asking).to_be_focused()
    asking.click()
    expect(question).to_be_focused()
    with page.expect_response(re.compile(r"/mon-espace/reservations/\d+/annuler$")) as answer:
        card.get_by_role("button", name="Oui, annuler mon inscription").click()
    assert answer.value.status == 200
    told = card.get_by_role("status")
    expect(told).to_contain_text(f"C'est annulé : « {title} ». Votre place est libérée.")
    expect(told).to_be_focused()
    expect(card.get_by_role("link", name=re.compile("^Annuler"))).to_have_count(0)
    expect(page.get_by_role("region", name="Mes prochains ateliers")).to_contain_text(
        "Vous n'avez pas d'atelier prévu.")
    assert_same_document(page, "cancelling")
    check_screen(page, viewport)
    page.reload()
    expect(booking_card(page, title)).to_have_count(0)  # the notice was shown once

    # The seat is given back.
    page.goto(f"/mon-espace/seances/{seeded.open_session_id}")
    assert seats_left(page) == free
    expect(page.get_by_role("button", name="Je m'inscris")).to_be_visible()


# --- b. the waiting list ----------------------------------------------------------------------

def test_waiting_list_and_promotion_when_the_seat_is_given_back(
        open_page: Callable[..., Page], live_server: LiveServer) -> None:
    """A takes the last seat; B joins the waiting list (n° 1); A cancels in A's own browser;
    B gets the seat, and a message telling B so is queued."""
    seeded = live_server.accounts
    title = seeded.last_seat_title
    session_page = f"/mon-espace/seances/{seeded.last_seat_session_id}"
    first = open_page()
    log_in(first, seeded.first_in_line_login_id, seeded.password)
    waiting = open_page()
    log_in(waiting, seeded.waiting_login_id, seeded.password)

    first.goto(session_page)
    assert seats_left(first) == 1
    first.get_by_role("button", name="Je m'inscris").click()
    expect(first.locator("#booking-panel")).to_contain_text("Votre place est réservée.")
    expect(first.locator("#seats-left")).to_contain_text("Complet")

    waiting.goto(session_page)
    panel = waiting.locator("#booking-panel")
    expect(panel).to_contain_text("Cette séance est complète.")
    expect(waiting.get_by_role("button", name="Je m'inscris")).to_have_count(0)
    check_axe(waiting)
    mark_document(waiting)
    waiting.get_by_role("button", name="M'inscrire sur la liste d'attente").click()
    expect(panel).to_contain_text("Vous êtes sur la liste d'attente : n° 1.")
    expect(waiting.locator("#booking-notice")).to_contain_text(
        "Vous êtes sur la liste d'attente.")
    expect(waiting.locator("#booking-notice")).to_be_focused()
    expect(waiting.locator("#my-upcoming")).to_contain_text(f"{title}")
    expect(waiting.locator("#my-upcoming")).to_contain_text("(liste d'attente)")
    assert_same_document(waiting, "joining the waiting list")
    check_axe(waiting)
    waiting.goto("/mon-espace/")
    expect(booking_card(waiting, title)).to_contain_text("Sur liste d'attente : vous êtes n° 1")
    check_axe(waiting)

    # A cancels, in A's own browser, told first that the seat goes to the waiting list.
    first.goto("/mon-espace/")
    card = booking_card(first, title)
    card.get_by_role("link", name=re.compile("^Annuler")).click()
    expect(card.locator(".confirm-text")).to_contain_text(
        "Votre place sera donnée tout de suite à la première personne de la liste d'attente")
    check_axe(first)
    card.get_by_role("button", name="Oui, annuler mon inscription").click()
    expect(card.get_by_role("status")).to_contain_text(f"C'est annulé : « {title} »")
    check_axe(first)

    # B, who was waiting, now holds the seat.
    waiting.reload()
    card = booking_card(waiting, title)
    expect(card).to_contain_text("Place réservée")
    expect(card).not_to_contain_text("liste d'attente")
    check_axe(waiting)
    waiting.goto(session_page)
    expect(waiting.locator("#booking-panel")).to_contain_text("Votre place est réservée.")
    expect(waiting.locator("#seats-left")).to_contain_text("Complet")

    # The outbox holds the message telling B, by e-mail, in the unit of work of the cancel.
    with live_server.app.app_context():
        queued = db.session.scalars(
            db.select(OutboxMessage).filter_by(beneficiary_id=seeded.waiting_id)
            .order_by(OutboxMessage.id)).all()
        topics = [message.topic for message in queued]
        promoted = [message for message in queued if message.topic == messages.PROMOTED]
        assert topics == [messages.WAITLISTED, messages.PROMOTED], topics
        assert promoted[0].recipient == "marie.lefevre@example.org"
        assert promoted[0].sent_at is None
        assert title in promoted[0].subject + promoted[0].body
        db.session.remove()


# --- c. calendar files and the personal feed --------------------------------------------------

def test_calendar_file_document_download_and_personal_calendar_feed(
        open_page: Callable[..., Page], storage_state: Callable[[str], Any],
        live_server: LiveServer) -> None:
    """An .ics file for one booking and a PDF of "Mes documents", through the browser's
    downloads; then the personal feed link, opened by a client that never logged in, renewed
    and deleted."""
    seeded = live_server.accounts
    title = seeded.booked_titles[0]
    page = open_page(storage_state=storage_state(BENEFICIARY))
    page.goto("/mon-espace/")

    # "Ajouter à mon agenda": an .ics file for one booking.
    card = booking_card(page, title)
    with page.expect_download() as info:
        card.get_by_role("link", name=re.compile("^Ajouter à mon agenda")).click()
    download = info.value
    assert download.failure() is None
    assert re.fullmatch(r"atelier-[0-9A-Z]+\.ics", download.suggested_filename)
    ics = Path(download.path()).read_bytes().decode("utf-8")
    assert ics.startswith("BEGIN:VCALENDAR\r\n")
    assert ics.rstrip().endswith("END:VCALENDAR")
    assert f"SUMMARY:{title}\r\n" in unfold(ics)
    assert unfold(ics).count("BEGIN:VEVENT") == 1
    assert path_of(page) == "/mon-espace/"  # a download, not a navigation
    check_axe(page)

    # A document of "Mes documents", downloaded as a PDF.
    main_menu(page).get_by_role("link", name="Mes documents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes documents")
    check_axe(page)
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(
            rf"^Télécharger \(PDF\) ?, .* {re.escape(seeded.document_number)}$")).click()
    assert info.value.suggested_filename == f"{seeded.document_number}.pdf"
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF-")

    # The personal feed: a secret link, shown once on "Mon profil".
    main_menu(page).get_by_role("link", name="Mon profil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil")
    submit(page, "Créer mon lien d'agenda")
    shown = page.get_by_role("status").filter(has_text="Voici votre lien d'agenda")
    expect(shown).to_be_visible()
    feed_url = page.get_by_label("Lien d'agenda").input_value()
    assert re.fullmatch(re.escape(live_server.url) + r"/agenda/[\w-]+\.ics", feed_url), feed_url
    check_axe(page)

    # Opened by a calendar application: no cookie, no login.
    outsider = open_page()
    assert not outsider.context.cookies()
    answer = outsider.request.get(feed_url)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    feed = unfold(answer.text())
    assert feed.startswith("BEGIN:VCALENDAR\r\n")
    assert f"SUMMARY:{title}\r\n" in feed
    assert "SUMMARY:Créer son adresse e-mail\r\n" in feed
    assert "Fab Lab" not in feed  # a waiting-list place is not in the calendar
    assert not outsider.context.cookies()

    # A new link replaces the old one; deleting it stops it.
    submit(page, "Créer un nouveau lien (l'ancien ne marchera plus)")
    new_url = page.get_by_label("Lien d'agenda").input_value()
    assert new_url != feed_url
    assert outsider.request.get(feed_url).status == 404
    assert outsider.request.get(new_url).status == 200
    submit(page, "Supprimer mon lien d'agenda")
    expect(page.locator("#flash-area")).to_contain_text("Le lien d'agenda est supprimé")
    expect(page.get_by_role("button", name="Créer mon lien d'agenda")).to_be_visible()
    assert outsider.request.get(new_url).status == 404
    check_axe(page)


# --- e. the desk --------------------------------------------------------------------------------

def test_staff_finds_a_person_books_and_cancels_on_their_behalf(
        open_page: Callable[..., Page], storage_state: Callable[[str], Any],
        live_server: LiveServer) -> None:
    """The animateur finds the person with the live search, books a session for them (booked
    "at the desk"), then cancels it."""
    seeded = live_server.accounts
    title = seeded.open_session_title
    first_name, last_name = seeded.desk_person_first_name, seeded.desk_person_last_name
    page = open_page(storage_state=storage_state(STAFF))
    page.goto("/equipe/")
    main_menu(page).get_by_role("link", name="Bénéficiaires").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bénéficiaires")
    search = page.get_by_role("searchbox", name="Nom, identifiant ou téléphone")
    expect(search).to_be_focused()
    check_axe(page)

    mark_document(page)
    search.press_sequentially(last_name.lower(), delay=40)
    results = page.locator("#people-results")
    expect(results.get_by_role("heading", level=2)).to_have_text("1 personne")
    # The new count is announced, as on the beneficiaries' search.
    expect(page.get_by_role("status").filter(has_text="1 personne")).to_have_count(1)
    assert query_of(page).get("q") == [last_name.lower()], page.url
    assert_same_document(page, "the desk search")
    check_axe(page)

    results.get_by_role("link", name=f"{last_name} {first_name}").click()
    assert path_of(page) == f"/equipe/beneficiaires/{seeded.desk_person_id}"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first_name} {last_name}")
    expect(page.get_by_text("Aucun atelier à venir.")).to_be_visible()
    check_axe(page)

    # Book the person on a session.
    page.get_by_label("Séance", exact=True).select_option(str(seeded.open_session_id))
    response = submit(page, "Inscrire")
    assert response.status == 200
    assert path_of(page) == f"/equipe/beneficiaires/{seeded.desk_person_id}"
    flash = page.locator("#flash-area")
    expect(flash).to_have_attribute("role", "status")
    expect(flash).to_contain_text(f"Inscription faite pour {first_name} : « {title} ».")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=title))
    expect(row).to_contain_text("Place réservée")
    option = page.get_by_label("Séance", exact=True).locator(
        f"option[value='{seeded.open_session_id}']")
    expect(option).to_have_count(0)  # booked: no longer offered
    check_axe(page)
    with live_server.app.app_context():
        booking = db.session.scalars(db.select(Booking).filter_by(
            beneficiary_id=seeded.desk_person_id, session_id=seeded.open_session_id)).one()
        assert (booking.status, booking.source) == (BookingStatus.BOOKED, BookingSource.DESK)
        db.session.remove()

    # Cancel it.
    with page.expect_navigation():
        row.get_by_role("button", name=action("Annuler", title)).click()
    assert path_of(page) == f"/equipe/beneficiaires/{seeded.desk_person_id}"
    expect(flash).to_contain_text("Inscription annulée.")
    expect(row).to_contain_text("Annulé")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(option).to_have_count(1)  # the session can be chosen again
    check_axe(page)


def test_switching_language_after_creating_the_calendar_link(
        open_page: Callable[..., Page], live_server: LiveServer) -> None:
    seeded = live_server.accounts
    page = open_page()
    log_in(page, seeded.empty_login_id, seeded.password)  # its own session: English after this
    page.goto("/mon-espace/profil")
    submit(page, "Créer mon lien d'agenda")
    response = submit(page, "English")
    assert response.status == 200, f"{response.status} {page.url}"
    assert page.locator("html").get_attribute("lang") == "en"


# --- f. answers where the person acted, with and without JavaScript ---------------------------

@pytest.mark.parametrize("viewport", [NARROW, DESKTOP], ids=["320px", "1280px"])
def test_without_javascript_book_and_cancel_with_the_answer_next_to_the_button(
        viewport: Mapping[str, int], open_page: Callable[..., Page],
        live_server: LiveServer) -> None:
    """Plain forms and links: the answer is on the page that follows, in the panel or the row,
    and has the focus (autofocus, no script); cancelling asks first on a page of its own.
    Every page passes the W3C validator (axe-core needs JavaScript: the same screens are
    checked with it in test_pages.py)."""
    seeded = live_server.accounts
    person = (seeded.no_script_login_id if viewport is DESKTOP
              else seeded.no_script_narrow_login_id)
    title = seeded.open_session_title
    served: dict[str, str] = {}
    page = open_page(viewport=viewport, java_script_enabled=False)
    log_in(page, person, seeded.password)
    page.goto(f"/mon-espace/seances/{seeded.open_session_id}")
    response = submit(page, "Je m'inscris")
    assert response.status == 200
    assert path_of(page) == f"/mon-espace/seances/{seeded.open_session_id}"
    notice = page.locator("#booking-panel").get_by_role("status")
    expect(notice).to_contain_text(f"C'est fait ! Votre place est réservée pour « {title} ».")
    expect(notice).to_be_focused()
    expect(notice).to_be_in_viewport()
    served["booked"] = response.text()

    # Cancelling from the session page: a question first (a page of its own), focused.
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="Annuler mon inscription").click()
    assert "annuler=" in page.url
    question = page.locator(".confirm-text")
    expect(question).to_be_focused()
    expect(question).to_contain_text("Voulez-vous vraiment annuler ?")
    served["question"] = navigation.value.text()
    with page.expect_navigation():
        page.get_by_role("link", name="Non, garder ma place").click()
    expect(page.get_by_role("link", name="Annuler mon inscription")).to_be_focused()
    with page.expect_navigation():
        page.get_by_role("link", name="Annuler mon inscription").click()
    response = submit(page, "Oui, annuler mon inscription")
    assert response.status == 200
    told = page.locator("#booking-panel").get_by_role("status")
    expect(told).to_contain_text(f"C'est annulé : « {title} ». Votre place est libérée.")
    expect(told).to_be_focused()
    expect(page.get_by_role("button", name="Je m'inscris")).to_be_visible()
    served["cancelled"] = response.text()

    # Booked again, then cancelled from "Mes ateliers": the answer in the row.
    submit(page, "Je m'inscris")
    page.goto("/mon-espace/")
    card = booking_card(page, title)
    with page.expect_navigation() as navigation:
        card.get_by_role("link", name=re.compile("^Annuler")).click()
    expect(card.locator(".confirm-text")).to_be_focused()
    served["question in the row"] = navigation.value.text()
    response = submit(page, "Oui, annuler mon inscription")
    assert response.status == 200 and path_of(page) == "/mon-espace/"
    told = booking_card(page, title).get_by_role("status")
    expect(told).to_contain_text(f"C'est annulé : « {title} ».")
    expect(told).to_be_focused()
    served["cancelled in the row"] = response.text()
    check_html(served)


def test_a_refused_booking_is_told_in_the_panel_and_focused(
        open_page: Callable[..., Page], storage_state: Callable[[str], Any],
        live_server: LiveServer) -> None:
    """The limit of upcoming workshops reached: the refusal appears in the panel (not at the
    top of the page, off-screen on a phone), as an alert, with the focus; the button stays."""
    seeded = live_server.accounts
    with live_server.app.app_context():
        site = db.session.scalars(db.select(Site).filter_by(code="MER")).one()
        limit = site.max_upcoming_bookings
        site.max_upcoming_bookings = 1  # Nadia has more upcoming workshops than that
        db.session.commit()
    try:
        page = open_page(viewport=NARROW, storage_state=storage_state(BENEFICIARY))
        page.goto(f"/mon-espace/seances/{seeded.open_session_id}")
        mark_document(page)
        page.get_by_role("button", name="Je m'inscris").click()
        refusal = page.locator("#booking-panel").get_by_role("alert")
        expect(refusal).to_contain_text("c'est le maximum")
        expect(refusal).to_be_focused()
        expect(refusal).to_be_in_viewport()
        expect(page.get_by_role("button", name="Je m'inscris")).to_be_visible()
        assert_same_document(page, "the refusal")
        check_screen(page, NARROW)
    finally:
        with live_server.app.app_context():
            site = db.session.scalars(db.select(Site).filter_by(code="MER")).one()
            site.max_upcoming_bookings = limit
            db.session.commit()
            db.session.remove()


def test_a_course_already_begun_says_so_and_asks_before_booking(
        open_page: Callable[..., Page], live_server: LiveServer) -> None:
    """A course whose first session is past: its certificate is out of reach. The page says
    so before the button, which asks "quand même"; the answer then shows by the button."""
    seeded = live_server.accounts
    with live_server.app.app_context():
        site = db.session.scalars(db.select(Site).filter_by(code="MER")).one()
        workshop = Workshop(title="Découvrir sa tablette pas à pas", duration_minutes=120)
        course = Course(site_id=site.id, title="Parcours : la tablette au quotidien")
        person = Beneficiary(first_name="Simone", last_name="Caron", login_id="S7CN4P",
                             password_hash=passwords.hash_password(seeded.password),
                             home_site_id=site.id)
        db.session.add_all([workshop, course, person])
        db.session.flush()
        start = clock.now().replace(microsecond=0)
        for days in (-3, 10, 17):
            at = start + timedelta(days=days)
            db.session.add(WorkshopSession(workshop_id=workshop.id, site_id=site.id,
                                           course_id=course.id, starts_at=at,
                                           ends_at=at + timedelta(hours=2), capacity=6))
        db.session.commit()
        course_id = course.id
        db.session.remove()
    page = open_page(viewport=NARROW)
    log_in(page, "S7CN4P", seeded.password)
    page.goto(f"/mon-espace/parcours/{course_id}")
    expect(page).to_have_title(re.compile(r"^Parcours : la tablette au quotidien – à partir du "))
    warning = page.locator("#course-incomplete")
    expect(warning).to_contain_text("Ce parcours a déjà commencé.")
    expect(warning).to_contain_text("demande de venir à 3 séances")
    expect(warning).to_contain_text("l'attestation ne sera plus possible")
    expect(page.get_by_role("button", name="Je m'inscris à tout le parcours")).to_have_count(0)
    check_screen(page, NARROW)
    served = {"course begun": page.content()}
    response = submit(page, "Je m'inscris quand même")
    assert response.status == 200 and path_of(page) == f"/mon-espace/parcours/{course_id}"
    told = page.locator("#course-booking").get_by_role("status")
    expect(told).to_contain_text("Vos places sont réservées aux 2 séances du parcours.")
    expect(told).to_be_focused()
    expect(page.get_by_text("place réservée")).to_have_count(2)
    check_screen(page, NARROW)
    served["course booked"] = page.content()
    check_html(served)
