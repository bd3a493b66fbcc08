"""The journeys of each audience, through the real forms, in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from portal.services.codes import group
from tests.browser.conftest import (
    BENEFICIARY,
    LiveServer,
    check_axe,
    log_in,
    log_out,
    submit,
)

pytestmark = pytest.mark.browser

NEW_PASSWORD = "les mouettes volent sur le port"

_AFTER_MAIN_START = """
() => {
  const main = document.querySelector("main");
  const active = document.activeElement;
  return main.contains(active) ||
    Boolean(main.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_FOLLOWING);
}
"""


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def expect_login_page(page: Page) -> None:
    assert path_of(page) == "/connexion", page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    expect(page.get_by_label("Identifiant ou adresse e-mail")).to_be_visible()


def test_beneficiary_logs_in_with_the_card_identifier_and_logs_out(
        open_page: Callable[..., Page], live_server: LiveServer) -> None:
    seeded = live_server.accounts
    page = open_page()
    # Typed as printed on the card, with its dash, but in lower case: the portal normalises it.
    typed = seeded.beneficiary_card_id.lower()
    assert "-" in typed and typed != seeded.beneficiary_login_id
    response = log_in(page, typed, seeded.password)

    assert response.status == 200
    assert path_of(page) == "/mon-espace/"
    expect(page).to_have_title(re.compile("^Mes ateliers"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Bonjour {seeded.beneficiary_first_name}")
    expect(page.get_by_role("link", name="Mes ateliers")).to_have_attribute(
        "aria-current", "page")
    upcoming = page.get_by_role("region", name="Mes prochains ateliers")
    for title in seeded.booked_titles:
        expect(upcoming.get_by_role("heading", name=title)).to_be_visible()
    expect(upcoming).to_contain_text("liste d'attente")
    old_cookies = page.context.cookies()
    assert old_cookies, "no session cookie after logging in"

    response = log_out(page)
    assert response.status == 200
    expect_login_page(page)
    expect(page.get_by_text("Déconnexion faite. À bientôt !")).to_be_visible()
    page.goto("/mon-espace/")
    expect_login_page(page)

    # The cookie of the ended session, replayed in a fresh browser, opens nothing.
    replay = open_page()
    replay.context.add_cookies(old_cookies)
    response = replay.goto("/mon-espace/")
    assert response is not None and response.status == 200
    expect_login_page(replay)
    assert parse_qs(urlsplit(replay.url).query).get("next") == ["/mon-espace/"]
    expect(replay.get_by_text(f"Bonjour {seeded.beneficiary_first_name}")).to_have_count(0)


def test_staff_member_logs_in_with_email_sees_the_sessions_and_logs_out(
        open_page: Callable[..., Page], live_server: LiveServer) -> None:
    seeded = live_server.accounts
    page = open_page()
    response = log_in(page, seeded.staff_email.capitalize(), seeded.password)

    assert response.status == 200
    assert path_of(page) == "/equipe/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Séances des 7 prochains jours")
    expect(page.get_by_text(f"Compte : {seeded.staff_name}")).to_be_visible()
    expect(page.get_by_role("link", name="Séances")).to_have_attribute("aria-current", "page")
    tables = page.get_by_role("table")
    expect(tables.first).to_be_visible()
    for title in seeded.booked_titles:
        expect(page.get_by_role("rowheader", name=title)).to_have_count(1)
    # Sessions of a site where this animateur does not work are not listed.
    expect(page.get_by_text("le site de la CAF")).to_have_count(0)
    check_axe(page)

    log_out(page)
    expect_login_page(page)
    page.goto("/equipe/")
    expect_login_page(page)


def test_first_login_with_the_card_code_then_choosing_a_password(
        open_page: Callable[..., Page], live_server: LiveServer) -> None:
    seeded = live_server.accounts
    page = open_page()
    card_identifier = seeded.newcomer_login_id[:3] + "-" + seeded.newcomer_login_id[3:]
    response = log_in(page, card_identifier, group(seeded.newcomer_code))

    assert response.status == 200
    assert path_of(page) == "/premiere-connexion"
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir mon mot de passe")
    expect(page.get_by_text(f"Bonjour {seeded.newcomer_first_name}")).to_be_visible()
    # Not logged in yet: the space stays closed until the password is chosen.
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)

    # Two different passwords: the form says so, in an alert, and keeps the person there.
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Écrivez-le une deuxième fois").fill(NEW_PASSWORD + " bleu")
    response = submit(page, "Enregistrer mon mot de passe")
    assert response.status == 422
    expect(page.get_by_role("alert")).to_contain_text("ne sont pas identiques")
    check_axe(page)

    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Écrivez-le une deuxième fois").fill(NEW_PASSWORD)
    response = submit(page, "Enregistrer mon mot de passe")
    assert response.status == 200
    assert path_of(page) == "/mon-espace/"
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Bonjour {seeded.newcomer_first_name}")
    expect(page.get_by_role("status")).to_contain_text("Votre mot de passe est enregistré")

    # The card's code was single-use; the new password is what works now.
    log_out(page)
    log_in(page, seeded.newcomer_login_id, seeded.newcomer_code)
    expect_login_page(page)
    expect(page.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect")
    log_in(page, seeded.newcomer_login_id, NEW_PASSWORD)
    assert path_of(page) == "/mon-espace/"


@pytest.mark.parametrize("path, role", [("/", None), ("/mon-espace/", BENEFICIARY)])
def test_first_tab_reaches_the_skip_link_and_enter_moves_focus_to_main(
        path: str, role: str | None, open_page: Callable[..., Page],
        storage_state: Callable[[str], object]) -> None:
    page = open_page(storage_state=storage_state(role) if role else None)
    page.goto(path)
    page.keyboard.press("Tab")
    skip_link = page.locator(".skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_have_text("Aller au contenu")
    expect(skip_link).to_be_in_viewport()  # shown when focused

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab goes on from the content (into it, or past it when it holds no control),
    # not back to the header.
    page.keyboard.press("Tab")
    assert page.evaluate(_AFTER_MAIN_START), (
        "the Tab after the skip link went back before the main content")


def test_keyboard_only_login(open_page: Callable[..., Page], live_server: LiveServer) -> None:
    seeded = live_server.accounts
    page = open_page()
    page.goto("/connexion")
    identifier = page.get_by_label("Identifiant ou adresse e-mail")
    expect(identifier).to_be_focused()  # autofocus: people start typing at once
    page.keyboard.type(seeded.beneficiary_card_id)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe", exact=True)).to_be_focused()
    page.keyboard.type(seeded.password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/mon-espace/"


def test_login_and_logout_work_without_javascript(
        open_page: Callable[..., Page], live_server: LiveServer) -> None:
    seeded = live_server.accounts
    page = open_page(java_script_enabled=False)
    response = log_in(page, seeded.beneficiary_card_id, seeded.password)
    assert response.status == 200
    assert path_of(page) == "/mon-espace/"
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Bonjour {seeded.beneficiary_first_name}")

    response = log_out(page)
    assert response.status == 200
    expect_login_page(page)
    expect(page.get_by_text("Déconnexion faite. À bientôt !")).to_be_visible()
    page.goto("/mon-espace/")
    expect_login_page(page)


def test_idle_warning_is_announced_and_stay_logged_in_keeps_the_session(
        open_page: Callable[..., Page], storage_state: Callable[[str], object]) -> None:
    """Shared PCs: 2 minutes before the idle logout a warning takes the focus; its button
    answers through htmx (CSRF header from ``data-hx-headers``) and hides the warning."""
    page = open_page(storage_state=storage_state(BENEFICIARY))
    page.clock.install()
    page.goto("/mon-espace/")
    warning = page.locator("#idle-warning")
    expect(warning).to_be_hidden()
    idle = int(page.locator("body").get_attribute("data-idle-seconds") or 0)
    before = int(page.locator("body").get_attribute("data-idle-warning-seconds") or 0)
    assert idle > before > 0

    page.clock.run_for((idle - before + 1) * 1000)
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("role", "alert")
    stay = warning.get_by_role("button", name="Garder ma session ouverte")
    expect(stay).to_be_focused()
    check_axe(page)

    with page.expect_response("**/session/prolonger") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 204
    assert answer.value.request.header_value("HX-Request") == "true"
    expect(warning).to_be_hidden()
    assert path_of(page) == "/mon-espace/"


def test_beneficiary_finds_books_and_cancels_a_workshop_with_htmx(
        open_page: Callable[..., Page], live_server: LiveServer) -> None:
    """The beneficiary's main journey: search, book, cancel — fragments swapped in place, each
    change announced in the status region, no full page load."""
    seeded = live_server.accounts
    page = open_page()
    log_in(page, seeded.other_login_id, seeded.password)
    page.get_by_role("link", name="Trouver un atelier").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trouver un atelier")

    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Rechercher").fill("smartphone")
    results = page.locator("#session-results")
    expect(results.get_by_role("heading", level=2)).to_have_text("1 résultat")
    expect(page.get_by_role("status").filter(has_text="atelier trouvé")).to_have_count(1)
    assert page.evaluate("window.__sameDocument === true"), "the search reloaded the page"
    assert "q=smartphone" in page.url  # the search can be bookmarked and shared
    check_axe(page)

    results.get_by_role("link", name=seeded.open_session_title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.open_session_title)
    seats = page.locator("#seats-left")
    seats_before = seats.inner_text()
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("button", name="Je m'inscris").click()
    panel = page.locator("#booking-panel")
    told = panel.get_by_role("status")
    expect(told).to_contain_text("C'est fait !")
    expect(told).to_be_focused()
    expect(panel).to_contain_text("Votre place est réservée.")
    expect(seats).not_to_have_text(seats_before)
    expect(page.locator("#my-upcoming")).to_contain_text(seeded.open_session_title)
    assert page.evaluate("window.__sameDocument === true"), "booking reloaded the page"
    check_axe(page)

    panel.get_by_role("link", name="Annuler mon inscription").click()
    expect(panel.locator(".confirm-text")).to_be_focused()
    panel.get_by_role("button", name="Oui, annuler mon inscription").click()
    expect(told).to_contain_text("C'est annulé")
    expect(told).to_be_focused()
    expect(panel.get_by_role("button", name="Je m'inscris")).to_be_visible()
    expect(seats).to_have_text(seats_before)
    assert page.evaluate("window.__sameDocument === true"), "cancelling reloaded the page"


def test_booking_and_cancelling_work_without_javascript(
        open_page: Callable[..., Page], live_server: LiveServer) -> None:
    seeded = live_server.accounts
    page = open_page(java_script_enabled=False)
    log_in(page, seeded.beneficiary_login_id, seeded.password)
    page.goto(f"/mon-espace/seances/{seeded.open_session_id}")

    response = submit(page, "Je m'inscris")
    assert response.status == 200
    assert path_of(page) == f"/mon-espace/seances/{seeded.open_session_id}"
    expect(page.locator("#booking-notice")).to_contain_text("C'est fait !")
    expect(page.locator("#booking-panel")).to_contain_text("Votre place est réservée.")

    with page.expect_navigation():
        page.get_by_role("link", name="Annuler mon inscription").click()
    response = submit(page, "Oui, annuler mon inscription")
    assert response.status == 200
    expect(page.locator("#booking-notice")).to_contain_text("C'est annulé")
    expect(page.get_by_role("button", name="Je m'inscris")).to_be_visible()
