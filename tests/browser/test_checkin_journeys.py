"""The check-in screen, end to end in Chromium: the always-ready scan field (typed card
identifiers, a USB scanner typing anywhere), the coloured result in the status region, walk-ins,
cheques and their receipt, closing the session and its documents, reopening it (administrators),
two devices kept in sync by polling (ETag, 304), and the roster used with the keyboard alone.

The check-in screens also go through axe-core (1280 px and 320 px, with the reflow check) and the
W3C validator. The module builds its own centre ("LIE"), staff and sessions of today; each
journey has people (and, where it closes a session, a session) of its own, so that the journeys
do not depend on their order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, Response, expect
from pypdf import PdfReader

from portal import clock
from portal.extensions import db
from portal.models.bookings import Booking
from portal.models.vocab import StaffRole
from portal.models.vouchers import ChequeProgramme
from portal.services import checkin, closing
from portal.services.audit import Actor
from portal.services.codes import group
from portal.views.staff.checkin import POLL_SECONDS
from tests.browser.conftest import (
    DESKTOP,
    NARROW,
    LiveServer,
    check_axe,
    check_reflow,
    html_report,
    log_in,
    validate_html,
)
from tests.browser.names import action
from tests.conftest import PASSWORD, Factory

pytestmark = pytest.mark.browser

#: a USB scanner and a person both finish with Enter; an answer comes back well within this.
ANSWER_MS = 10_000
#: the second device must see a change within the polling interval (plus the answer's time).
SYNC_MS = (POLL_SECONDS + 6) * 1000
CHEQUES = ("3141592653", "2718281828")
#: a roster row once checked in (the module's people have no gender given: neutral wording).
CHECKED_IN_STATUS = re.compile(r"^Présence notée · \d{2}:\d{2}$")


# --- the module's own centre, staff and sessions ---------------------------------------------

@dataclass(frozen=True)
class Person:
    id: int
    name: str
    login_id: str  # as stored: upper case, no dash
    card_id: str  # as printed on the login card (``login_id_display``: with a dash)
    booking_id: int | None = None  # at the session the person is meant for


@dataclass(frozen=True)
class Session:
    id: int
    title: str

    @property
    def checkin_url(self) -> str:
        return f"/equipe/seances/{self.id}/pointage"

    @property
    def close_url(self) -> str:
        return f"/equipe/seances/{self.id}/cloture"

    @property
    def reopen_url(self) -> str:
        return f"/equipe/seances/{self.id}/reouvrir"

    @property
    def roster_path(self) -> str:
        return f"/equipe/seances/{self.id}/pointage/liste"


@dataclass(frozen=True)
class Desk:
    site_name: str
    animateur_email: str
    animateur_name: str
    admin_email: str
    admin_name: str
    #: the journeys' session: open, started ten minutes ago (or at midnight), 2 cheques
    main: Session
    scanned: Person  # green, then yellow (journey 1)
    scanner: Person  # typed by a "scanner" while the focus is on the page
    payer: Person  # pays two cheques
    synced: Person  # checked in on one device, seen on the other
    keyboard: Person  # marked with the keyboard alone
    searched: Person  # found by the roster's search box
    walk_in: Person  # booked nowhere
    last_in_list: Person  # on `main`, last of the roster by name: their panel opens far above
    #: full (one seat, taken by `full_booked`); an animateur adds a seat for `extra`
    full: Session
    full_booked: Person
    extra: Person  # booked nowhere
    #: closed by the closing journey: two of its three people are checked in first
    to_close: Session
    to_close_people: tuple[Person, ...]
    #: closed (with one person present) before the tests; reopened by the admin's journey
    to_reopen: Session
    #: the screens checked by axe-core and the validator
    pages: Session  # open
    pages_fresh: Mapping[str, Person]  # booked, scanned once each (green): by viewport
    pages_present: Person  # checked in before the tests: scanning again answers yellow
    pages_unbooked: Person  # booked nowhere: scanning answers blue (never added)
    elsewhere: Person  # booked on `pages`: scanned on `main`, a walk-in there (blue)
    archived: Session  # closed before the tests (one person present), never reopened


#: login ids for the module's people: the unambiguous alphabet, none of the seed's.
LOGIN_IDS = (
    "A7C3E5", "B4D6F8", "C5E7G9", "D6F8H2", "E7G9J3", "F8H2K4", "S3V5X7", "T4W6Y8",
    "V5X7Z9", "W6Y8A2", "X7Z9B3", "Z8A2C4", "Q9B3D5", "E2D4G6", "F3E5H7", "G4F6J8",
    "H5G7K9", "J6H8M2", "K7J9N3", "M8K2P4", "N9P3R5", "P4R6T8", "R5T7V9",
)


def _today_start() -> datetime:
    """Ten minutes ago, but never before midnight in Paris: the session is today's."""
    today = clock.today_local()
    midnight = clock.paris_to_utc(datetime.combine(today, time(0, 0)))
    return max(clock.now().replace(microsecond=0) - timedelta(minutes=10),
               midnight + timedelta(seconds=1)).astimezone(UTC)


@pytest.fixture(scope="module")
def desk(live_server: LiveServer, password_hash: str) -> Desk:
    app = live_server.app
    verify_url = app.config["PUBLIC_URL"].rstrip("/") + "/v/{code}"
    with app.app_context():
        factory = Factory(password_hash)
        site = factory.site(code="LIE", name="Médiathèque de Liévin", city="Liévin",
                            address="8 rue Thiers", postcode="62800")
        animateur = factory.staff(site, StaffRole.ANIMATEUR, email="claire.dubois@example.org",
                                  full_name="Claire Dubois")
        admin = factory.staff(site, StaffRole.ADMIN, email="nathalie.caron@example.org",
                              full_name="Nathalie Caron")
        today = clock.today_local()
        db.session.add(ChequeProgramme(
            name="Pass Numérique Pas-de-Calais", issuer="Département du Pas-de-Calais",
            operator="APTIC", face_value_cents=1000, number_pattern=r"[0-9]{10}",
            validity_end=date(today.year + 1, 12, 31)))
        db.session.commit()
        starts = _today_start()
        login_ids = iter(LOGIN_IDS)
        bookings = 0

        def session(title: str, capacity: int = 8) -> tuple[Any, Session]:
            workshop = factory.workshop(title=title, grants_attestation=True, price_cheques=2)
            row = factory.session(site, workshop, starts_at=starts,
                                  ends_at=starts + timedelta(hours=2), capacity=capacity,
                                  animator_id=animateur.id, room="Salle Jules Verne")
            return row, Session(row.id, title)

        def person(first: str, last: str, on: Any = None) -> Person:
            nonlocal bookings
            row = factory.beneficiary(site, first_name=first, last_name=last,
                                      login_id=next(login_ids))
            booking_id = None
            if on is not None:
                bookings += 1
                booking_id = factory.booking(on, row, code=f"LIEBK{bookings:03d}").id
            return Person(row.id, row.display_name, row.login_id, row.login_id_display,
                          booking_id)

        actor = Actor.of(animateur)

        def present_and_close(row: Any, who: Person, close: bool) -> None:
            checkin.check_in(db.session.get(Booking, who.booking_id), actor=actor)
            if close:
                done = closing.close_session(row, actor=actor, verify_url=verify_url)
                assert not done.documents_failed

        main_row, main = session("Faire ses démarches en ligne", capacity=9)
        to_close_row, to_close = session("Découvrir internet")
        to_reopen_row, to_reopen = session("Classer ses fichiers")
        pages_row, pages = session("Protéger ses données")
        archived_row, archived = session("Écrire un courriel")
        full_row, full = session("Atelier photo", capacity=1)
        desk = Desk(
            site_name=site.name,
            animateur_email=animateur.email, animateur_name=animateur.full_name,
            admin_email=admin.email, admin_name=admin.full_name,
            main=main,
            scanned=person("Agathe", "Roux", main_row),
            scanner=person("Bruno", "Faure", main_row),
            payer=person("Chantal", "Mercier", main_row),
            synced=person("Denis", "Garnier", main_row),
            keyboard=person("Émile", "Chevalier", main_row),
            searched=person("Gaëlle", "Vasseur", main_row),
            walk_in=person("Fatima", "Haddad"),
            last_in_list=person("Zoé", "Zimmermann", main_row),
            full=full,
            full_booked=person("Quentin", "Roussel", full_row),
            extra=person("Sylvie", "Lambert"),
            to_close=to_close,
            to_close_people=tuple(person(first, last, to_close_row) for first, last in (
                ("Hugo", "Lemaire"), ("Inès", "Bouvier"), ("Jacques", "Renard"))),
            to_reopen=to_reopen,
            pages=pages,
            pages_fresh={key: person("Lucie", name, pages_row)
                         for key, name in (("1280px", "Delmas"), ("320px", "Perrin"),
                                           ("vnu", "Colin"))},
            pages_present=person("Yves", "Masson", pages_row),
            pages_unbooked=person("Karim", "Benamar"),
            elsewhere=person("Gilles", "Fontaine", pages_row),
            archived=archived,
        )
        present_and_close(pages_row, desk.pages_present, close=False)
        present_and_close(to_reopen_row, person("Odile", "Marchand", to_reopen_row), close=True)
        present_and_close(archived_row, person("Paul", "Carpentier", archived_row), close=True)
        db.session.remove()
    return desk


ANIMATEUR = "animateur"
ADMIN = "admin"


@pytest.fixture(scope="module")
def staff_state(browser: Browser, live_server: LiveServer, desk: Desk
                ) -> Callable[[str], dict[str, Any]]:
    """``staff_state(role)``: cookies of a login made once per module through the form."""
    states: dict[str, Any] = {}
    emails = {ANIMATEUR: desk.animateur_email, ADMIN: desk.admin_email}

    def _state(role: str) -> dict[str, Any]:
        if role not in states:
            context = browser.new_context(base_url=live_server.url)
            try:
                page = context.new_page()
                response = log_in(page, emails[role], PASSWORD)
                assert response.ok and page.url == live_server.url + "/equipe/", page.url
                states[role] = context.storage_state()
            finally:
                context.close()
        return states[role]

    return _state


# --- helpers -------------------------------------------------------------------------------

def path_of(url: str) -> str:
    return urlsplit(url).path


def scan_field(page: Page) -> Locator:
    return page.locator("#scan-code")


def result(page: Page) -> Locator:
    """The answer shown in the status region."""
    return page.locator("#scan-result > .result")


def roster_row(page: Page, person: Person) -> Locator:
    return page.locator("#roster li.roster-row").filter(
        has=page.get_by_role("link", name=person.name, exact=True))


def open_checkin(page: Page, session: Session) -> None:
    response = page.goto(session.checkin_url)
    assert response is not None and response.status == 200, page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pointage : {session.title}")


def scan(page: Page, code: str) -> None:
    """Type a code into the scan field and press Enter, as a person at the door would; wait
    for the server's answer (the page is not reloaded: htmx answers in place)."""
    field = scan_field(page)
    field.press_sequentially(code, delay=20)
    with page.expect_response(lambda r: path_of(r.url).endswith("/pointage/scan"),
                              timeout=ANSWER_MS) as answer:
        field.press("Enter")
    assert answer.value.status == 200, answer.value.status


def expect_result(page: Page, tone: str, label: str, code: str,
                  *facts: str | re.Pattern[str]) -> None:
    """The status region shows one answer: its colour (class), its word, its code, and the
    facts its message must give (the wording around them is the feature's own)."""
    answer = result(page)
    expect(answer).to_have_count(1)
    expect(answer).to_have_class(re.compile(rf"(^|\s)result-{tone}(\s|$)"))
    expect(answer).to_have_attribute("data-result-code", code)
    expect(answer.locator(".result-label")).to_have_text(label)
    for fact in facts:
        expect(answer.locator(".result-message")).to_contain_text(fact)


def expect_scan_ready(page: Page) -> None:
    """The scan field is empty and has the focus: the next card can be scanned at once."""
    expect(scan_field(page)).to_have_value("")
    expect(scan_field(page)).to_be_focused()


def mark_document(page: Page) -> None:
    page.evaluate("window.__sameDocument = true")


def assert_same_document(page: Page, what: str) -> None:
    assert page.evaluate("window.__sameDocument === true"), f"{what} reloaded the page"


def check_screen(page: Page, viewport: Mapping[str, int]) -> None:
    check_axe(page)
    if viewport is NARROW:
        check_reflow(page)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(data)).pages)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


_SMALL_TARGETS = """
(selector) => {
  const small = [];
  for (const element of document.querySelectorAll(selector)) {
    const box = element.getBoundingClientRect();
    if (box.width < 44 || box.height < 44) {
      small.push(`${Math.round(box.width)}x${Math.round(box.height)} ` +
                 element.outerHTML.slice(0, 100));
    }
  }
  return small;
}
"""
TARGETS = "#checkin button:not([hidden]), #scan-code, #checkin .roster-name"


def assert_big_targets(page: Page, selector: str = TARGETS) -> None:
    """WCAG 2.5.5 (AAA, asked for at the door): every control at least 44 × 44 CSS px."""
    count = page.locator(selector).count()
    assert count > 0, selector
    small = page.evaluate(_SMALL_TARGETS, selector)
    assert not small, "targets smaller than 44 × 44 px:\n  " + "\n  ".join(small)


# --- 1. a card typed at the door: green, then yellow; a scanner typing anywhere -----------------

def test_typed_card_checks_in_then_answers_already_checked_in(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(storage_state=staff_state(ANIMATEUR))
    page.goto("/equipe/")
    page.get_by_role("link", name=action("Pointage", desk.main.title)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pointage : {desk.main.title}")
    expect(page.locator(".checkin-state")).to_have_text("Pointage ouvert")
    status = page.locator("#scan-result")
    expect(status).to_have_attribute("role", "status")
    expect(scan_field(page)).to_be_focused()  # ready before anything is clicked
    mark_document(page)

    person = desk.scanned
    row = roster_row(page, person)
    expect(row.locator(".roster-status")).to_have_text("Place réservée")
    expect(row.locator(".roster-cheques")).to_have_text("À payer : 2 chèques")

    # Green: checked in, with what remains to pay; the field is ready for the next card.
    assert re.fullmatch(r"[0-9A-Z]{3}-[0-9A-Z]{3}", person.card_id), person.card_id
    scan(page, person.card_id)
    expect_result(page, "ok", "Présence", "checked_in", person.name, "2 chèques")
    expect_scan_ready(page)
    expect(row).to_have_class(re.compile(r"\broster-present\b"))
    expect(row.locator(".roster-status")).to_have_text(CHECKED_IN_STATUS)
    checked_in_at = row.locator(".roster-status").inner_text().rsplit(" ", 1)[-1]
    panel = page.locator("#scan-actions")
    expect(panel.get_by_role("heading", level=2)).to_have_text(person.name)
    expect(panel).to_contain_text(f"Présence notée · {checked_in_at} ({desk.animateur_name})")

    # Yellow: scanned again (lower case, no dash this time): when and by whom.
    scan(page, person.login_id.lower())
    expect_result(page, "warn", "Déjà là", "already_checked_in", person.name,
                  f"à {checked_in_at} par {desk.animateur_name}", "2 chèques")
    expect_scan_ready(page)

    # Letters typed on a focused button are the button's: the scan field does not take them.
    button = page.get_by_role("button", name=action("Absence excusée", desk.searched.name))
    button.focus()
    page.keyboard.type("ab")
    expect(button).to_be_focused()
    expect(scan_field(page)).to_have_value("")

    # A USB scanner "types" the code and Enter while the focus is on the page itself (after a
    # click on its text): the keystrokes land in the scan field, and the Enter sends the scan.
    scanner = desk.scanner
    page.locator(".checkin-head .lead").click()
    assert page.evaluate("document.activeElement.tagName") in ("BODY", "MAIN")
    with page.expect_response(lambda r: path_of(r.url).endswith("/pointage/scan"),
                              timeout=ANSWER_MS) as answer:
        page.keyboard.type(scanner.login_id)
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    expect_result(page, "ok", "Présence", "checked_in", scanner.name)
    expect_scan_ready(page)
    expect(roster_row(page, scanner)).to_have_class(re.compile(r"\broster-present\b"))
    # The button that had the focus did nothing.
    expect(roster_row(page, desk.searched).locator(".roster-status")).to_have_text(
        "Place réservée")
    assert_same_document(page, "scanning")


# --- 2. a walk-in -------------------------------------------------------------------------------

def test_scanning_someone_not_booked_offers_to_add_them(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(storage_state=staff_state(ANIMATEUR))
    open_checkin(page, desk.main)
    person = desk.walk_in
    expect(roster_row(page, person)).to_have_count(0)

    scan(page, person.card_id)
    expect_result(page, "info", "Sans inscription", "walk_in_possible", person.name,
                  re.compile(r"Il reste 2 places\b"))
    add = page.get_by_role("button", name=action("Ajouter et noter la présence", person.name))
    expect(add).to_be_focused()  # the next step: Enter adds the person
    expect(scan_field(page)).to_have_value("")

    with page.expect_response(lambda r: path_of(r.url).endswith("/pointage/ajout")) as answer:
        add.click()
    assert answer.value.status == 200
    expect_result(page, "info", "Sans inscription", "walk_in_added", person.name)
    row = roster_row(page, person)
    expect(row).to_have_class(re.compile(r"\broster-present\b"))
    expect(row.locator(".roster-status")).to_have_text(CHECKED_IN_STATUS)
    expect(row.locator(".tag")).to_have_text("Sans inscription")
    expect(add).to_have_count(0)
    expect_scan_ready(page)

    # Scanned again: already checked in, like anyone booked.
    scan(page, person.card_id)
    expect_result(page, "warn", "Déjà là", "already_checked_in", person.name)


# --- 3. cheques and the receipt ----------------------------------------------------------------

def test_two_cheques_taken_and_the_receipt_printed(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(storage_state=staff_state(ANIMATEUR))
    open_checkin(page, desk.main)
    person = desk.payer
    scan(page, person.card_id)
    expect_result(page, "ok", "Présence", "checked_in", person.name, "2 chèques")

    panel = page.locator("#scan-actions")
    expect(panel).to_contain_text("0 chèque payé sur 2")  # French: 0 takes the singular
    numbers = page.locator("#cheque-numbers")
    expect(numbers).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Numéros des chèques"))).to_have_count(1)
    numbers.fill("\n".join(CHEQUES))
    with page.expect_response(lambda r: path_of(r.url).endswith("/cheques")) as answer:
        page.get_by_role("button", name="Prendre les chèques", exact=True).click()
    assert answer.value.status == 200
    expect_result(page, "ok", "Chèques pris", "cheques_redeemed", person.name,
                  "2 chèques", re.compile(r"20,00\s€"), re.compile(r"Reçu n° \S+ "))
    receipt_number = re.search(r"Reçu n° (\S+) ", result(page).inner_text())
    assert receipt_number is not None
    number = receipt_number.group(1)

    link = page.get_by_role("link", name=f"Imprimer le reçu n° {number} (PDF, nouvel onglet)",
                            exact=True)
    expect(link).to_be_visible()
    expect(link).to_be_focused()  # the next step: Enter opens it to print
    expect(link).to_have_attribute("target", "_blank")
    expect(panel).to_contain_text("2 chèques payés sur 2")
    expect(page.locator("#cheque-numbers")).to_have_count(0)  # nothing left to pay
    row = roster_row(page, person)
    expect(row.locator(".roster-cheques")).to_have_text("Chèques payés")

    # The receipt opens inline (to print at once); fetched with the page's own cookies.
    href = link.get_attribute("href")
    assert href is not None
    pdf = page.request.get(href)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline")
    body = pdf.body()
    assert body.startswith(b"%PDF")
    text = pdf_text(body)
    for cheque in CHEQUES:
        assert group(cheque) in text or cheque in compact(text).replace("-", ""), (cheque, text)
    assert group(CHEQUES[0]) in text, text  # printed grouped by 4, as on the paper cheque
    assert person.name in text, text
    assert number in compact(text), text

    # The same cheques again, for someone else: refused, with when and where they were taken.
    other = desk.scanned
    page.goto(f"{desk.main.checkin_url}?b={other.booking_id}")
    page.locator("#cheque-numbers").fill(CHEQUES[0])
    page.get_by_role("button", name="Prendre les chèques", exact=True).click()
    expect_result(page, "error", "Refusé", "cheque_already_redeemed", CHEQUES[0],
                  desk.site_name)
    expect(page.locator("#cheque-numbers")).to_be_focused()


# --- 4. refusals, and someone expected elsewhere ------------------------------------------------

def test_an_unknown_code_is_red_and_someone_booked_elsewhere_a_blue_walk_in(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(storage_state=staff_state(ANIMATEUR))
    open_checkin(page, desk.main)

    scan(page, "ZZZ-999")
    expect_result(page, "error", "Inconnu", "unknown_code", "ZZZ-999")
    expect_scan_ready(page)

    # Booked on another session of the day: not a refusal. A seat is free here, so staff may
    # add them; the answer says where they are booked, and the add button has the focus.
    person = desk.elsewhere
    scan(page, person.card_id)
    expect_result(page, "info", "Sans inscription", "walk_in_possible", person.name)
    expect(result(page).locator(".result-list")).to_contain_text(
        f"Inscription à « {desk.pages.title} » aujourd'hui à ")
    add = page.get_by_role("button", name=action("Ajouter et noter la présence", person.name))
    expect(add).to_be_focused()
    expect(page.get_by_text("Refusé")).to_have_count(0)
    expect(roster_row(page, desk.elsewhere)).to_have_count(0)


# --- 4b. a full session: one more seat, confirmed, with the keyboard alone ------------------------

def test_a_full_session_gets_one_more_seat_after_a_confirmation(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(storage_state=staff_state(ANIMATEUR))
    open_checkin(page, desk.full)
    person = desk.extra
    taken = page.locator("#roster .roster-counts > div").filter(has_text="Places prises")
    before = taken.locator("dd").inner_text()
    taken_now, capacity = (int(n) for n in before.split(" / "))
    assert taken_now == capacity, before

    scan(page, person.card_id)
    expect_result(page, "warn", "Complet", "session_full", person.name,
                  f"{capacity} places sur {capacity}")
    offer = page.locator("#extra-seat-button")
    expect(offer).to_be_focused()
    with page.expect_response(lambda r: path_of(r.url).endswith("/pointage/ajout")):
        page.keyboard.press("Enter")
    expect_result(page, "warn", "Confirmer", "extra_seat_to_confirm", person.name,
                  f"de {capacity} à {capacity + 1} places")
    confirm = page.get_by_role("button", name="Oui, ajouter une place et noter la présence",
                               exact=True)
    expect(confirm).to_be_focused()
    expect(taken.locator("dd")).to_have_text(before)  # nothing changed yet
    with page.expect_response(lambda r: path_of(r.url).endswith("/pointage/ajout")):
        page.keyboard.press("Enter")
    expect_result(page, "info", "Sans inscription", "walk_in_added", person.name,
                  f"{capacity + 1} places")
    expect(taken.locator("dd")).to_have_text(f"{capacity + 1} / {capacity + 1}")
    expect(roster_row(page, person)).to_have_class(re.compile(r"\broster-present\b"))
    expect_scan_ready(page)


# --- 5. closing the session ----------------------------------------------------------------------

def test_closing_the_session_issues_the_attestations_and_the_sheet(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(storage_state=staff_state(ANIMATEUR))
    session = desk.to_close
    first, second, missing = desk.to_close_people
    open_checkin(page, session)
    for person in (first, second):
        scan(page, person.card_id)
        expect_result(page, "ok", "Présence", "checked_in", person.name)
    present = page.locator("#roster .roster-counts > div").filter(has_text="Présences")
    expect(present.locator("dd")).to_have_text("2")

    page.get_by_role("link", name="Clôturer la séance", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Clôturer la séance : {session.title}")
    plan = page.locator("ul.close-list")
    expect(plan).to_contain_text(
        f"1 personne encore « inscrite » sera notée absente : {missing.name}.")
    expect(plan).to_contain_text(
        "2 attestations de participation seront délivrées (personnes présentes).")
    expect(plan).to_contain_text("La feuille d'émargement finale sera éditée.")
    with page.expect_navigation():
        page.get_by_role("button", name="Clôturer la séance", exact=True).click()
    assert path_of(page.url) == session.close_url
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Séance clôturée : {session.title}")
    expect(page.locator("#flash-area")).to_contain_text(
        "Séance clôturée. 1 absence notée. 2 attestations délivrées.")

    certificates = page.get_by_role("link", name="Toutes les attestations (PDF, 2 pages)",
                                    exact=True)
    with page.expect_download() as info:
        certificates.click()
    assert info.value.failure() is None
    assert info.value.suggested_filename == f"attestations-seance-{session.id}.pdf"
    merged = Path(info.value.path()).read_bytes()
    assert merged.startswith(b"%PDF")
    assert len(PdfReader(BytesIO(merged)).pages) == 2  # one per person present
    text = pdf_text(merged)
    assert first.name in text and second.name in text and missing.name not in text, text

    sheet = page.get_by_role("link", name=re.compile(r"^Feuille d'émargement n° \S+ \(PDF\)$"))
    with page.expect_download() as info:
        sheet.click()
    assert info.value.failure() is None
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for person in desk.to_close_people:
        assert person.name in text or person.name.split()[-1].upper() in text, text

    # The check-in screen of a closed session: read only.
    page.get_by_role("link", name="← Pointage").click()
    expect(page.locator(".checkin-state")).to_have_text("Clôturée")
    expect(scan_field(page)).to_have_count(0)
    expect(page.locator("#roster button")).to_have_count(0)
    expect(roster_row(page, missing).locator(".roster-status")).to_have_text("Absence")


# --- 6. two devices in sync ----------------------------------------------------------------------

def test_a_second_device_sees_the_change_without_reloading(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    first = open_page(storage_state=staff_state(ANIMATEUR))
    second = open_page(storage_state=staff_state(ADMIN))
    polls: list[int] = []
    second.on("response", lambda r: polls.append(r.status)
              if path_of(r.url) == desk.main.roster_path else None)
    open_checkin(first, desk.main)
    open_checkin(second, desk.main)
    mark_document(second)
    person = desk.synced
    expect(roster_row(second, person).locator(".roster-status")).to_have_text("Place réservée")

    first.get_by_role("button", name=action("Présence", person.name)).click()
    expect_result(first, "ok", "Présence", "checked_in", person.name)

    row = roster_row(second, person)
    expect(row).to_have_class(re.compile(r"\broster-present\b"), timeout=SYNC_MS)
    expect(row.locator(".roster-status")).to_have_text(CHECKED_IN_STATUS)
    assert 200 in polls, polls  # the changed roster came by polling…
    assert_same_document(second, "keeping in sync")
    # … and an unchanged roster is answered 304, with nothing moved on screen.
    with second.expect_response(lambda r: path_of(r.url) == desk.main.roster_path
                                and r.status == 304, timeout=SYNC_MS):
        pass
    expect(row).to_have_class(re.compile(r"\broster-present\b"))
    # The other way round: an undo on the second device reaches the first.
    second.get_by_role("button", name=action("Annuler le pointage", person.name)).click()
    expect_result(second, "ok", "Pointage annulé", "undone", person.name)
    expect(roster_row(first, person).locator(".roster-status")).to_have_text(
        "Place réservée", timeout=SYNC_MS)


# --- 7. reopening (administrators only) ----------------------------------------------------------

def test_only_an_administrator_reopens_a_closed_session(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    session = desk.to_reopen
    animateur = open_page(storage_state=staff_state(ANIMATEUR))
    animateur.goto(session.close_url)
    expect(animateur.get_by_role("heading", level=1)).to_have_text(
        f"Séance clôturée : {session.title}")
    expect(animateur.get_by_role("link", name=re.compile("^Rouvrir"))).to_have_count(0)
    response = animateur.goto(session.reopen_url)
    assert response is not None and response.status == 403

    admin = open_page(storage_state=staff_state(ADMIN))
    admin.goto(session.close_url)
    admin.get_by_role("link", name=re.compile("^Rouvrir la séance")).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(
        f"Rouvrir la séance : {session.title}")
    reason = admin.get_by_label("Pourquoi la rouvrir ?")
    reason.fill("abc")  # too short: refused, nothing changes
    with admin.expect_navigation() as navigation:
        admin.get_by_role("button", name="Rouvrir la séance", exact=True).click()
    assert navigation.value is not None and navigation.value.status == 422
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("main")).to_contain_text("5 à 300 caractères")

    why = "Mme Marchand était notée présente par erreur"
    reason.fill(why)
    with admin.expect_navigation():
        admin.get_by_role("button", name="Rouvrir la séance", exact=True).click()
    assert path_of(admin.url) == session.checkin_url
    expect(admin.locator("#flash-area")).to_contain_text("Séance rouverte")
    expect(admin.locator(".checkin-state")).to_have_text("Rouverte pour correction")
    expect(admin.locator(".checkin-head")).to_contain_text(why)
    expect(scan_field(admin)).to_be_visible()  # attendance can be corrected again


# --- 8. keyboard only, big targets ----------------------------------------------------------------

def tab_to(page: Page, element_id: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement ? document.activeElement.id : ''") == \
                element_id:
            return
    raise AssertionError(f"#{element_id} is not reached with the Tab key")


def test_the_roster_works_with_the_keyboard_alone(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(storage_state=staff_state(ANIMATEUR))
    open_checkin(page, desk.main)
    person = desk.keyboard
    booking = person.booking_id
    row = roster_row(page, person)
    expect_scan_ready(page)

    steps = [(f"present-{booking}", "ok", "Présence", "checked_in", "roster-present"),
             (f"absent-{booking}", "ok", "Absence", "marked_absent", "roster-absent"),
             (f"excused-{booking}", "ok", "Absence excusée", "marked_excused",
              "roster-excused"),
             (f"undo-{booking}", "ok", "Pointage annulé", "undone", "roster-booked")]
    for button_id, tone, label, code, row_class in steps:
        tab_to(page, button_id)
        expect(page.locator(f"#{button_id}")).to_be_focused()
        page.keyboard.press("Enter")
        expect_result(page, tone, label, code, person.name)
        expect(row).to_have_class(re.compile(rf"\b{row_class}\b"))
        # The keyboard user keeps their place: the focus stays on the row acted on.
        expect(row.locator(":focus")).to_have_count(1)
    expect(row.locator(".roster-status")).to_have_text("Place réservée")
    assert_big_targets(page)


_IN_VIEW = """
(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return {top: box.top, bottom: box.bottom, left: box.left, right: box.right,
          width: document.documentElement.clientWidth, height: window.innerHeight};
}
"""


def assert_in_view(page: Page, selector: str) -> None:
    """The element's top is on screen, and it fits across without scrolling sideways."""
    box = page.evaluate(_IN_VIEW, selector)
    assert -1 <= box["top"] < box["height"], (selector, box)
    assert box["left"] >= 0 and box["right"] <= box["width"] + 1, (selector, box)


@pytest.mark.parametrize("viewport", [NARROW, DESKTOP], ids=["320px", "1280px"])
def test_a_person_opened_from_the_roster_is_brought_into_view_with_the_focus(
        viewport: Mapping[str, int], open_page: Callable[..., Page],
        staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(viewport=viewport, storage_state=staff_state(ANIMATEUR))
    open_checkin(page, desk.main)
    person = desk.last_in_list
    link = roster_row(page, person).get_by_role("link", name=person.name, exact=True)
    link.scroll_into_view_if_needed()
    mark_document(page)
    with page.expect_response(lambda r: "/pointage/personne/" in r.url):
        link.click()
    heading = page.locator("#scan-actions").get_by_role("heading", level=2)
    expect(heading).to_have_text(person.name)
    expect(heading).to_be_focused()
    assert_in_view(page, "#scan-actions .panel")
    assert_same_document(page, "opening a person")
    # Letters typed now (the heading is no control) still go to the scan field: a scanner
    # works at once.
    page.keyboard.type(desk.keyboard.login_id[:3])
    expect(scan_field(page)).to_have_value(desk.keyboard.login_id[:3])


def test_without_javascript_a_person_opened_from_the_roster_opens_at_their_panel(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(viewport=NARROW, storage_state=staff_state(ANIMATEUR),
                     java_script_enabled=False)
    open_checkin(page, desk.main)
    person = desk.last_in_list
    with page.expect_navigation():
        roster_row(page, person).get_by_role("link", name=person.name, exact=True).click()
    assert urlsplit(page.url).fragment == "scan-actions"
    expect(page.locator("#scan-actions").get_by_role("heading", level=2)).to_have_text(
        person.name)
    assert_in_view(page, "#scan-actions")
    expect(scan_field(page)).not_to_be_focused()


def test_the_sessions_of_the_week_show_the_check_in_button_at_320_px(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(viewport=NARROW, storage_state=staff_state(ANIMATEUR))
    page.goto("/equipe/")
    button = page.get_by_role("link", name=action("Pointage", desk.main.title))
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], box
    assert box["width"] >= 44 and box["height"] >= 44, box
    check_reflow(page)
    button.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pointage : {desk.main.title}")


def test_the_search_box_filters_the_roster_as_one_types(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(storage_state=staff_state(ANIMATEUR))
    open_checkin(page, desk.main)
    everyone = page.locator("#roster li.roster-row")
    expect(everyone).not_to_have_count(0)
    assert everyone.count() > 1
    mark_document(page)
    page.get_by_label("Chercher dans la liste (nom ou identifiant)").press_sequentially(
        "vasse", delay=40)
    expect(everyone).to_have_count(1)
    expect(roster_row(page, desk.searched)).to_have_count(1)
    assert_same_document(page, "the search")


# --- axe-core and the W3C validator on the check-in screens -----------------------------------

Reach = Callable[[Page, Desk, str], None]


def _go(url: Callable[[Desk], str]) -> Reach:
    def reach(page: Page, desk: Desk, _key: str) -> None:
        response = page.goto(url(desk))
        assert response is not None and response.status == 200, page.url

    return reach


def _scanned(code: Callable[[Desk, str], str],
             at: Callable[[Desk], Session] = lambda d: d.pages) -> Reach:
    def reach(page: Page, desk: Desk, key: str) -> None:
        _go(lambda d: at(d).checkin_url)(page, desk, key)
        scan(page, code(desk, key))

    return reach


def _extra_seat_asked(page: Page, desk: Desk, key: str) -> None:
    """The confirmation of one more seat (never given: the person stays unbooked)."""
    _scanned(lambda d, _key: d.pages_unbooked.card_id, lambda d: d.full)(page, desk, key)
    with page.expect_response(lambda r: path_of(r.url).endswith("/pointage/ajout")):
        page.locator("#extra-seat-button").click()


def _reopen_refused(page: Page, desk: Desk, key: str) -> None:
    _go(lambda d: d.archived.reopen_url)(page, desk, key)
    page.get_by_label("Pourquoi la rouvrir ?").fill("non")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Rouvrir la séance", exact=True).click()
    assert navigation.value is not None and navigation.value.status == 422


@dataclass(frozen=True)
class Screen:
    name: str
    role: str
    reach: Reach
    heading: str
    result: str = ""  # the result class shown in the status region, if any
    #: without JavaScript: the session scanned at and the code scanned (result screens)
    served: tuple[Callable[[Desk], Session], Callable[[Desk], str]] | None = None


SCREENS = [
    Screen("pointage", ANIMATEUR, _go(lambda d: d.pages.checkin_url), "Pointage"),
    Screen("pointage-present", ANIMATEUR,
           _scanned(lambda d, key: d.pages_fresh[key].card_id), "Pointage", "result-ok",
           (lambda d: d.pages, lambda d: d.pages_fresh["vnu"].card_id)),
    Screen("pointage-deja-pointe", ANIMATEUR,
           _scanned(lambda d, _key: d.pages_present.card_id), "Pointage", "result-warn",
           (lambda d: d.pages, lambda d: d.pages_present.card_id)),
    Screen("pointage-sans-inscription", ANIMATEUR,
           _scanned(lambda d, _key: d.pages_unbooked.card_id), "Pointage", "result-info",
           (lambda d: d.pages, lambda d: d.pages_unbooked.card_id)),
    Screen("pointage-complet", ANIMATEUR,
           _scanned(lambda d, _key: d.pages_unbooked.card_id, lambda d: d.full), "Pointage",
           "result-warn", (lambda d: d.full, lambda d: d.pages_unbooked.card_id)),
    Screen("pointage-place-a-confirmer", ANIMATEUR, _extra_seat_asked, "Pointage",
           "result-warn"),
    Screen("pointage-refuse", ANIMATEUR, _scanned(lambda _d, _key: "QQQ-QQQ"), "Pointage",
           "result-error", (lambda d: d.pages, lambda _d: "QQQ-QQQ")),
    Screen("cloture-confirmation", ANIMATEUR, _go(lambda d: d.pages.close_url),
           "Clôturer la séance"),
    Screen("seance-cloturee", ADMIN, _go(lambda d: d.archived.close_url), "Séance clôturée"),
    Screen("pointage-seance-cloturee", ANIMATEUR, _go(lambda d: d.archived.checkin_url),
           "Pointage"),
    Screen("reouvrir", ADMIN, _go(lambda d: d.archived.reopen_url), "Rouvrir la séance"),
    Screen("reouvrir-refuse", ADMIN, _reopen_refused, "Rouvrir la séance"),
]


def _name(screen: Screen) -> str:
    return screen.name


def _open(screen: Screen, page: Page, desk: Desk, key: str) -> None:
    screen.reach(page, desk, key)
    expect(page.locator("h1")).to_contain_text(screen.heading)
    if screen.result:
        expect(result(page)).to_have_class(re.compile(rf"\b{screen.result}\b"))
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")


@pytest.mark.parametrize("viewport", [NARROW, DESKTOP], ids=["320px", "1280px"])
@pytest.mark.parametrize("screen", SCREENS, ids=_name)
def test_checkin_screen_passes_axe_and_reflows(
        screen: Screen, viewport: Mapping[str, int], open_page: Callable[..., Page],
        staff_state: Callable[[str], Any], desk: Desk) -> None:
    page = open_page(viewport=viewport, storage_state=staff_state(screen.role))
    _open(screen, page, desk, "320px" if viewport is NARROW else "1280px")
    check_screen(page, viewport)
    if screen.name.startswith("pointage") and screen.name != "pointage-seance-cloturee":
        assert_big_targets(page)


_CONTROLS_OFF_SCREEN = """
() => {
  const width = document.documentElement.clientWidth;
  const off = [];
  for (const element of document.querySelectorAll(
      "#checkin a[href], #checkin button, #checkin input:not([type=hidden]), #checkin textarea")) {
    if (element.closest("[hidden]")) continue;
    const box = element.getBoundingClientRect();
    if (box.width < 1 || box.height < 1 || box.left < 0 || box.right > width + 1) {
      off.push(element.outerHTML.slice(0, 120));
    }
  }
  return off;
}
"""


@pytest.mark.parametrize("zoom", ["text-200", "page-200"])
def test_checkin_screen_is_usable_at_200_percent(
        zoom: str, open_page: Callable[..., Page], staff_state: Callable[[str], Any],
        desk: Desk) -> None:
    """WCAG 1.4.4 on the open screen with an answer and the person's panel (cheque form):
    text at 200 % at 1280 px, and the page zoomed to 200 % (640 px at device scale 2)."""
    screen = next(s for s in SCREENS if s.name == "pointage-deja-pointe")
    if zoom == "page-200":
        page = open_page(viewport={"width": 640, "height": 400}, device_scale_factor=2,
                         storage_state=staff_state(screen.role))
        _open(screen, page, desk, zoom)
    else:
        page = open_page(viewport=DESKTOP, storage_state=staff_state(screen.role))
        _open(screen, page, desk, zoom)
        page.evaluate("document.documentElement.style.fontSize = '200%'")
    expect(page.locator("#cheque-numbers")).to_be_visible()
    check_reflow(page)
    off_screen = page.evaluate(_CONTROLS_OFF_SCREEN)
    assert not off_screen, "controls out of reach:\n  " + "\n  ".join(off_screen)


def test_checkin_screens_are_valid_html(
        open_page: Callable[..., Page], staff_state: Callable[[str], Any], desk: Desk) -> None:
    """The W3C validator, in one run: every screen as served (without JavaScript the forms
    post and the whole page answers), and the screens with a result as htmx left them."""
    documents: dict[str, str] = {}
    pages: dict[str, Page] = {}
    for screen in SCREENS:
        # Served HTML: a browser without JavaScript gets every answer as a whole page.
        if screen.role not in pages:
            pages[screen.role] = open_page(storage_state=staff_state(screen.role),
                                           java_script_enabled=False)
        page = pages[screen.role]
        if screen.result and screen.served is None:  # a step only htmx takes
            continue
        served: list[Response] = []

        def handler(response: Response, served: list[Response] = served) -> None:
            if response.request.resource_type == "document":
                served.append(response)

        page.on("response", handler)
        if screen.served is not None:
            at, code = screen.served
            _go(lambda d, at=at: at(d).checkin_url)(page, desk, "vnu")
            scan_field(page).fill(code(desk))
            with page.expect_navigation():
                scan_field(page).press("Enter")
            expect(result(page)).to_have_class(re.compile(rf"\b{screen.result}\b"))
        else:
            _open(screen, page, desk, "vnu")
        page.remove_listener("response", handler)
        documents[screen.name] = served[-1].text()
    # The DOM after htmx answered in place (result, panel and roster swapped in).
    live = open_page(storage_state=staff_state(ANIMATEUR))
    for screen in SCREENS:
        if screen.result and screen.result != "result-ok":
            _open(screen, live, desk, "vnu")
            documents[f"{screen.name} (DOM)"] = live.content()
    results = validate_html(documents)
    failures = [html_report(name, messages) for name, messages in results.items() if messages]
    assert not failures, "\n".join(failures)

