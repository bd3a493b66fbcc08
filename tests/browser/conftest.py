"""Browser tests: the real portal on a live server, driven by Debian's Chromium (Playwright).

- ``live_server`` (one per test module): ``create_app`` on its own migrated database (a copy of
  the SQLite template, or PostgreSQL when ``PORTAL_TEST_DATABASE_URL`` is set, truncated after
  the module), seeded with known accounts, served by werkzeug in a background thread.
- ``browser`` (one per session) is pytest-playwright's, launched from ``/usr/bin/chromium``;
  never ``playwright install``. A missing Chromium FAILS the tests: CI counts a skip as a failure.
- ``open_page`` opens a page in a fresh context that records console errors, uncaught exceptions,
  CSP violations and failed sub-resources; they fail the test.
- ``check_axe(page)``: axe-core, WCAG 2.0/2.1 A and AA plus best practices, zero violations.
- ``validate_html`` / ``check_html``: the W3C validator (vnu.jar), many documents per JVM.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask, got_request_exception
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response
from werkzeug.serving import WSGIRequestHandler, make_server

from portal import clock, create_app
from portal.extensions import db
from portal.models import ChequeProgramme, Course
from portal.models.documents import Document, DocumentCounter
from portal.models.vocab import BookingStatus, CompletionRule, DocumentKind, Level, StaffRole
from portal.services import accounts, bookings
from portal.services.audit import Actor
from tests.conftest import PASSWORD, PG_URL, Factory, base_config, truncate_all

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
DEFAULT_TIMEOUT_MS = 10_000

DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 640}  # WCAG 1.4.10 reflow: 1280 px at 400 %


# --- the browser ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at Debian's Chromium."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's `chromium` package "
            "(`make system-deps-test`). Do not run `playwright install`.",
            pytrace=False,
        )
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM),
            "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def base_url() -> None:
    """Replaces pytest-playwright's own ``base_url`` (a session fixture written as an instance
    method, which pytest 9 deprecates: an error under ``filterwarnings = error``). Every context
    gets the live server's URL from ``open_page`` instead."""
    return None


# --- the live server -----------------------------------------------------------------------

@dataclass(frozen=True)
class Accounts:
    """What the seeded database holds, as plain values (no ORM rows outside the server)."""

    password: str
    site_name: str
    beneficiary_login_id: str  # as stored: upper case, no dash
    beneficiary_card_id: str  # as printed on the login card
    beneficiary_first_name: str
    newcomer_login_id: str
    newcomer_code: str  # the single-use first-login code printed on the card
    newcomer_first_name: str
    staff_email: str
    staff_name: str
    booked_titles: tuple[str, ...]
    #: a beneficiary with nothing booked, for the booking journeys
    other_login_id: str
    booked_session_id: int  # booked by the beneficiary
    waitlisted_session_id: int  # full; the beneficiary is on its waiting list
    open_session_id: int  # seats left, booked by nobody
    open_session_title: str
    course_id: int
    beneficiary_id: int
    #: full (one seat, taken by someone else): the beneficiary sees the waiting-list button
    full_session_id: int
    #: cancelled by the centre; the beneficiary was booked on it
    cancelled_session_id: int
    document_number: str  # a certificate of the beneficiary's past session, with a tiny PDF
    #: a beneficiary with nothing booked and no document, for the empty screens
    empty_login_id: str
    #: the booking journeys, each with people of its own (nothing booked at the start)
    narrow_login_id: str  # book then cancel at 320 px
    first_in_line_login_id: str  # takes the last seat of `last_seat_session_id`
    waiting_login_id: str  # joins its waiting list; has an e-mail address for the messages
    waiting_id: int
    last_seat_session_id: int  # one seat, booked by nobody
    last_seat_title: str
    desk_person_id: int  # booked and cancelled at the desk by the animateur
    desk_person_last_name: str
    desk_person_first_name: str
    #: book and cancel without JavaScript (desktop, 320 px): nothing booked at the start
    no_script_login_id: str
    no_script_narrow_login_id: str
    #: a network administrator (the site settings, the cheque programmes)
    network_admin_email: str = "reseau@example.org"
    #: a cheque programme, with no cheque taken (its numbers match no other module's cheques)
    programme_id: int = 0


def seed(factory: Factory) -> Accounts:
    """Two sites, an animateur, a beneficiary with a password, bookings (booked, waitlisted,
    past, cancelled by the centre) and a certificate, one with a first-login code, several with
    nothing booked (one per booking journey), upcoming sessions (full ones, one with seats left
    and every detail filled in, one with a single free seat, one cancelled) and a course."""
    site = factory.site(
        code="MER", name="Cyberbase de Méricourt", address="12 rue Jean Jaurès",
        postcode="62680", city="Méricourt", phone="03 21 00 00 00",
        email="cyberbase@example.org",
        opening_hours="Du mardi au vendredi : 9 h – 12 h et 14 h – 18 h\nLe samedi : 9 h – 12 h",
        description="Ateliers numériques, accès libre et Fab Lab.",
    )
    other_site = factory.site(code="AVI", name="Espace numérique d'Avion", city="Avion",
                              address="3 place de la Mairie", postcode="62210")
    staff = factory.staff(site, StaffRole.ANIMATEUR, email="camille.martin@example.org",
                          full_name="Camille Martin")
    nadia = factory.beneficiary(site, first_name="Nadia", last_name="Benali", login_id="K7PM3Q")
    louis = factory.beneficiary(site, first_name="Louis", last_name="Leroy", login_id="H4RT9W",
                                password_hash=None)
    code = accounts.issue_first_login_code(louis, validity=timedelta(days=30),
                                           actor=Actor.system())
    someone = factory.beneficiary(site, first_name="Rose", login_id="R5VX8Z")

    first_steps = factory.workshop(title="Premiers pas sur l'ordinateur")
    email = factory.workshop(title="Créer son adresse e-mail")
    caf = factory.workshop(title="Démarches en ligne : le site de la CAF",
                           level=Level.INTERMEDIATE, price_cheques=2)
    fablab = factory.workshop(title="Fab Lab : découvrir l'imprimante 3D", price_cheques=0)

    soon = factory.session(site, first_steps, starts_in=timedelta(days=1, hours=3),
                           animator_id=staff.id)
    later = factory.session(site, email, starts_in=timedelta(days=3), animator_id=staff.id,
                            capacity=1, room="Salle Ada Lovelace")
    factory.session(other_site, caf, starts_in=timedelta(days=4), room="")
    full = factory.session(site, fablab, starts_in=timedelta(days=5), capacity=1, room="Fab Lab")
    past = factory.session(site, first_steps, starts_in=timedelta(days=-12),
                           animator_id=staff.id)

    smartphone = factory.workshop(
        title="Bien utiliser son smartphone", duration_minutes=90,
        description="Réglages, applications, appels en vidéo : à votre rythme.",
        objectives="Régler la taille du texte\nInstaller une application\nAppeler en vidéo",
        what_to_bring="Votre téléphone chargé et son code.",
    )
    open_session = factory.session(site, smartphone, starts_in=timedelta(days=2, hours=1),
                                   animator_id=staff.id, capacity=6,
                                   room_accessibility="Salle de plain-pied, boucle magnétique.")
    course = Course(site_id=site.id, title="Parcours : mes démarches en ligne",
                    description="Trois séances pour devenir autonome.",
                    completion_rule=CompletionRule.ALL_SESSIONS)
    db.session.add(course)
    db.session.commit()
    for days in (8, 15):
        factory.session(site, caf, starts_in=timedelta(days=days), course_id=course.id)

    factory.booking(soon, nadia)
    factory.booking(later, nadia)
    factory.booking(full, someone)
    factory.booking(full, nadia, BookingStatus.WAITLISTED, waitlist_position=1)
    factory.booking(past, nadia, BookingStatus.PRESENT)
    other = factory.beneficiary(site, first_name="Yvette", last_name="Durand",
                                login_id="Y3WN6D")

    # A full session the beneficiary is not on (the waiting-list button), and one the centre
    # cancelled after she booked it.
    photos = factory.workshop(title="Ranger et partager ses photos")
    full_other = factory.session(site, photos, starts_in=timedelta(days=6), capacity=1,
                                 animator_id=staff.id)
    factory.booking(full_other, someone)
    tablets = factory.workshop(title="Découvrir la tablette tactile")
    cancelled = factory.session(site, tablets, starts_in=timedelta(days=9), animator_id=staff.id)
    factory.booking(cancelled, nadia)
    bookings.cancel_session(cancelled, "L'animatrice est absente ce jour-là.",
                            actor=Actor.system())

    # A certificate of the past session (a tiny stand-in PDF: only its download is tested).
    pdf = b"%PDF-1.4\n% Portail test document\ntrailer << >>\n%%EOF\n"
    year = clock.now().year
    certificate = Document(
        kind=DocumentKind.CERTIFICATE, site_id=site.id, year=year, sequence=1,
        number=f"ATT-{year}-MER-000001", verification_code="ATTK7PM3Q2",
        title=f"Attestation de participation : {first_steps.title}",
        beneficiary_id=nadia.id, session_id=past.id, pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(), snapshot={}, issued_by_id=staff.id,
    )
    db.session.add(certificate)
    db.session.add(DocumentCounter(site_id=site.id, kind=DocumentKind.CERTIFICATE, year=year,
                                   last_value=1))
    db.session.commit()

    # The booking journeys' own people, and a session with one free seat.
    empty = factory.beneficiary(site, first_name="Henri", last_name="Lambert",
                                login_id="N8HL2V")
    narrow = factory.beneficiary(site, first_name="Jean", last_name="Moreau", login_id="J9KX2F")
    first_in_line = factory.beneficiary(site, first_name="Paul", last_name="Girard",
                                        login_id="P2QD7K")
    waiting = factory.beneficiary(site, first_name="Marie", last_name="Lefèvre",
                                  login_id="M6TC4J", email="marie.lefevre@example.org")
    desk_person = factory.beneficiary(site, first_name="Germaine", last_name="Petit",
                                      login_id="G8HN5S", phone="0612345678")
    no_script = factory.beneficiary(site, first_name="Lucienne", last_name="Roux",
                                    login_id="L3NQ7C")
    no_script_narrow = factory.beneficiary(site, first_name="Marcel", last_name="Faure",
                                           login_id="F4MW9R")
    video = factory.workshop(title="Appeler ses proches en visio")
    last_seat = factory.session(site, video, starts_in=timedelta(days=6, hours=2), capacity=1,
                                animator_id=staff.id)
    network_admin = factory.staff(email="reseau@example.org", full_name="Sophie Lambert",
                                  is_network_admin=True)
    programme = ChequeProgramme(name="Pass Numérique Pas-de-Calais 2027",
                                issuer="Département du Pas-de-Calais", operator="APTIC",
                                number_pattern=r"PN[0-9]{8}", validity_end=date(2027, 12, 31))
    db.session.add(programme)
    db.session.commit()
    return Accounts(
        network_admin_email=network_admin.email, programme_id=programme.id,
        password=PASSWORD, site_name=site.name,
        beneficiary_login_id=nadia.login_id, beneficiary_card_id=nadia.login_id_display,
        beneficiary_first_name=nadia.first_name,
        newcomer_login_id=louis.login_id, newcomer_code=code, newcomer_first_name=louis.first_name,
        staff_email=staff.email, staff_name=staff.full_name,
        booked_titles=(first_steps.title, email.title, fablab.title),
        other_login_id=other.login_id, booked_session_id=soon.id,
        waitlisted_session_id=full.id, open_session_id=open_session.id,
        open_session_title=smartphone.title, course_id=course.id,
        beneficiary_id=nadia.id, full_session_id=full_other.id,
        cancelled_session_id=cancelled.id, document_number=certificate.number,
        empty_login_id=empty.login_id, narrow_login_id=narrow.login_id,
        first_in_line_login_id=first_in_line.login_id, waiting_login_id=waiting.login_id,
        waiting_id=waiting.id, last_seat_session_id=last_seat.id, last_seat_title=video.title,
        desk_person_id=desk_person.id, desk_person_last_name=desk_person.last_name,
        desk_person_first_name=desk_person.first_name,
        no_script_login_id=no_script.login_id, no_script_narrow_login_id=no_script_narrow.login_id,
    )


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _closing_iterators(app: Flask) -> Any:
    """The body of every answer read and its iterator closed before anything is written.

    Werkzeug's development server leaves a file answer (a static file) open when the browser
    drops the connection first (it does for a favicon it no longer wants): the file is then
    closed by the garbage collector with a ResourceWarning, which fails the test at random.
    """

    def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        iterator = app(environ, start_response)
        try:
            return [b"".join(iterator)]
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    return application


@dataclass
class LiveServer:
    url: str
    app: Flask
    accounts: Accounts
    #: exceptions raised inside views while serving (a server-side bug fails the test).
    exceptions: list[BaseException] = field(default_factory=list)


@pytest.fixture(scope="module")
def live_server(template_database: str, tmp_path_factory: pytest.TempPathFactory,
                password_hash: str) -> Iterator[LiveServer]:
    if PG_URL:
        database_url = PG_URL
    else:
        path = tmp_path_factory.mktemp("live") / "portal.sqlite3"
        shutil.copyfile(template_database, path)
        database_url = f"sqlite:///{path}"
    app = create_app(base_config(database_url))
    if PG_URL:
        truncate_all(app)
    with app.app_context():
        seeded = seed(Factory(password_hash))
        db.session.remove()

    server = make_server("127.0.0.1", 0, _closing_iterators(app), threaded=True,
                         request_handler=_QuietRequestHandler)
    live = LiveServer(f"http://127.0.0.1:{server.server_port}", app, seeded)
    app.config["PUBLIC_URL"] = live.url  # as `make run` does: links lead to this server

    def _record(_sender: Flask, exception: BaseException, **_extra: Any) -> None:
        live.exceptions.append(exception)

    got_request_exception.connect(_record, app, weak=False)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        got_request_exception.disconnect(_record, app)
        if PG_URL:
            truncate_all(app)
        with app.app_context():
            db.engine.dispose()


# --- pages that watch for errors ----------------------------------------------------------

_PROBLEMS = "_portal_problems"

# A CSP violation may be silent in the console (e.g. a blocked style attribute): report it.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " blocked " +
                (event.blockedURI || "inline") + " at " + event.sourceFile + ":" +
                event.lineNumber);
});
"""


def watch(page: Page) -> list[str]:
    """Record console errors, uncaught exceptions, CSP violations and failed sub-resources.

    The "Failed to load resource" line Chromium logs for a main document answered with 4xx is
    not a problem in itself: each test asserts the status it expects of its navigations.
    """
    problems: list[str] = []
    documents: set[str] = set()

    def on_response(response: Response) -> None:
        if response.request.resource_type == "document" and response.request.frame == \
                page.main_frame:
            documents.add(response.url)
        elif response.status >= 400:
            problems.append(f"{response.status} for {response.request.resource_type} "
                            f"{response.url}")
        if response.status >= 500:
            problems.append(f"server error {response.status} for {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning", "assert"):
            return
        text = message.text
        where = message.location.get("url", "")
        if text.startswith("Failed to load resource") and where in documents:
            return
        problems.append(f"console {message.type}: {text} ({where})")

    def on_request_failed(request: Request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:  # navigating away aborts pending loads: not an error
            problems.append(f"request failed: {request.url} ({failure})")

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
    page.on("requestfailed", on_request_failed)
    setattr(page, _PROBLEMS, problems)
    return problems


def browser_problems(page: Page) -> list[str]:
    return getattr(page, _PROBLEMS, [])


def assert_no_browser_problems(page: Page) -> None:
    problems = browser_problems(page)
    assert not problems, "the browser reported problems:\n  " + "\n  ".join(problems)


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture
def open_page(new_context: Callable[..., Any], live_server: LiveServer,
              request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Open a watched page in a fresh browser context on the live server.

    ``open_page(viewport=NARROW, storage_state=..., java_script_enabled=False, ...)``; any
    other keyword goes to ``browser.new_context``. Problems the test did not check itself
    fail it at teardown, as do exceptions raised on the server while it ran.
    """
    pages: list[Page] = []
    live_server.exceptions.clear()

    def _open(*, viewport: Mapping[str, int] = DESKTOP, **options: Any) -> Page:
        options.setdefault("locale", "fr-FR")
        options.setdefault("timezone_id", "Europe/Paris")
        context = new_context(base_url=live_server.url, viewport=dict(viewport), **options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        if options.get("java_script_enabled", True):
            context.add_init_script(_CSP_LISTENER)
        page = context.new_page()
        watch(page)
        pages.append(page)
        return page

    yield _open
    if request.node.stash.get(_CALL_FAILED, False):
        return  # the test failed already: its report tells enough
    problems = [p for page in pages for p in browser_problems(page)]
    exceptions = [repr(e) for e in live_server.exceptions]
    assert not problems, "the browser reported problems:\n  " + "\n  ".join(problems)
    assert not exceptions, "the server raised:\n  " + "\n  ".join(exceptions)


# --- logging in ----------------------------------------------------------------------------

def submit(page: Page, button_name: str) -> Response:
    """Click a submit button and wait for the page it leads to; returns its response."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=button_name, exact=True).click()
    response = navigation.value
    assert response is not None
    return response


def log_in(page: Page, identifier: str, password: str) -> Response:
    """Log in through the real form, as a person would."""
    page.goto("/connexion")
    page.get_by_label("Identifiant ou adresse e-mail").fill(identifier)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    return submit(page, "Se connecter")


def log_out(page: Page) -> Response:
    return submit(page, "Se déconnecter")


ANONYMOUS = "anonymous"
BENEFICIARY = "beneficiary"
EMPTY_BENEFICIARY = "empty-beneficiary"  # nothing booked, no document
STAFF = "staff"
FIRST_LOGIN = "first-login"  # the card code was accepted; the password is yet to be chosen
NETWORK_ADMIN = "network-admin"  # administrator of every site


@pytest.fixture(scope="module")
def storage_state(browser: Browser, live_server: LiveServer
                  ) -> Callable[[str], dict[str, Any] | None]:
    """``storage_state(role)``: cookies of a login made once per module through the form."""
    states: dict[str, Any] = {ANONYMOUS: None}
    seeded = live_server.accounts
    logins = {
        BENEFICIARY: (seeded.beneficiary_login_id, seeded.password, "/mon-espace/"),
        EMPTY_BENEFICIARY: (seeded.empty_login_id, seeded.password, "/mon-espace/"),
        STAFF: (seeded.staff_email, seeded.password, "/equipe/"),
        FIRST_LOGIN: (seeded.newcomer_login_id, seeded.newcomer_code, "/premiere-connexion"),
        NETWORK_ADMIN: (seeded.network_admin_email, seeded.password, "/equipe/"),
    }

    def _state(role: str) -> dict[str, Any] | None:
        if role not in states:
            identifier, password, landing = logins[role]
            context = browser.new_context(base_url=live_server.url)
            try:
                page = context.new_page()
                response = log_in(page, identifier, password)
                assert response.ok and page.url == live_server.url + landing, page.url
                states[role] = context.storage_state()
            finally:
                context.close()
        return states[role]

    return _state


# --- axe-core ------------------------------------------------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
_AXE = Axe()


def axe_report(violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} accessibility violation(s):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}"
                     f" <{violation.get('helpUrl', '')}>")
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node.get("target", []))
            lines.append(f"    at {target}: {node.get('html', '')[:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def check_axe(page: Page, context: str | dict[str, Any] | None = None) -> None:
    """Run axe-core on the page as it is now; fail on any violation."""
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    violations = _AXE.run(page, context=context, options=options).response["violations"]
    if violations:
        report = axe_report(violations)
        print(report)
        raise AssertionError(report)


# --- the W3C validator ---------------------------------------------------------------------

def _java() -> str:
    java = shutil.which("java")
    if java is None:
        pytest.fail("Java is missing: install `default-jre-headless` (make system-deps-test).",
                    pytrace=False)
    if not VNU_JAR.is_file():
        pytest.fail(f"The W3C validator is missing at {VNU_JAR}: run `make install`.",
                    pytrace=False)
    return java


#: Validator warnings accepted on purpose, each with its reason. Errors are never accepted.
ACCEPTED_WARNINGS = {
    # `<ul role="list">` on lists styled with `list-style: none`: without it Safari/VoiceOver
    # stops announcing them as lists (card grids of workshops and sites).
    "The \u201clist\u201d role is unnecessary for element \u201cul\u201d.",
}


def is_problem(message: Mapping[str, Any]) -> bool:
    """Errors and warnings fail (but the accepted ones); plain information does not."""
    kind = message.get("type")
    if kind in ("error", "non-document-error"):
        return True
    return (kind == "info" and message.get("subType") == "warning"
            and message.get("message") not in ACCEPTED_WARNINGS)


def validate_html(documents: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Validate many HTML documents in one JVM; returns the problems of each, by name.

    ``documents`` maps a name to HTML text, or to an ``http(s)://`` URL to fetch.
    """
    java = _java()
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in documents}
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        targets: dict[str, str] = {}  # what vnu names in its messages -> document name
        arguments: list[str] = []
        for index, (name, content) in enumerate(documents.items()):
            if content.startswith(("http://", "https://")):
                targets[content] = name
                arguments.append(content)
                continue
            path = Path(folder) / f"{index:03d}.html"
            path.write_text(content, encoding="utf-8")
            targets[f"file:{path}"] = name
            arguments.append(str(path))
        completed = subprocess.run(
            [java, "-jar", str(VNU_JAR), "--format", "json", "--stdout", *arguments],
            capture_output=True, text=True, timeout=240, check=False,
        )
        try:
            messages = json.loads(completed.stdout)["messages"]
        except (ValueError, KeyError) as error:
            raise AssertionError(f"the W3C validator did not answer in JSON:\n"
                                 f"{completed.stdout}\n{completed.stderr}") from error
    for message in messages:
        if not is_problem(message):
            continue
        name = targets.get(message.get("url", ""))
        if name is None:  # a message about the run itself
            raise AssertionError(f"the W3C validator failed: {message}")
        results[name].append(message)
    return results


def html_report(name: str, messages: list[dict[str, Any]]) -> str:
    lines = [f"{name}: {len(messages)} W3C validator problem(s):"]
    for message in messages:
        kind = message.get("subType") or message.get("type")
        lines.append(f"- {kind} line {message.get('lastLine', '?')}: {message.get('message')}")
        if message.get("extract"):
            lines.append(f"    {message['extract'].strip()}")
    return "\n".join(lines)


def check_html(html_or_url: str | Mapping[str, str]) -> None:
    """Fail unless every document (HTML text, a URL, or a mapping of names to either) is valid.
    Prefer one call with a mapping: each call starts a JVM."""
    documents = html_or_url if isinstance(html_or_url, Mapping) else {"document": html_or_url}
    results = validate_html(documents)
    failures = [html_report(name, messages) for name, messages in results.items() if messages]
    if failures:
        report = "\n".join(failures)
        print(report)
        raise AssertionError(report)


# --- layout --------------------------------------------------------------------------------

_OVERFLOW_SCRIPT = """
() => {
  const root = document.documentElement;
  const clipped = [];
  for (const element of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(element);
    if (style.display === "none" || style.visibility === "hidden") continue;
    // Text for screen readers only (.visually-hidden: a 1 px box) is hidden on purpose.
    if (element.clientWidth <= 1 && element.clientHeight <= 1) continue;
    // A text field scrolls its own value under the caret: a long value is not cut off.
    if (element.tagName === "INPUT" || element.tagName === "TEXTAREA") continue;
    const hides = (v) => v === "hidden" || v === "clip";
    const cut = (hides(style.overflowX) && element.scrollWidth > element.clientWidth + 1) ||
                (hides(style.overflowY) && element.scrollHeight > element.clientHeight + 1);
    if (cut) clipped.push(element.outerHTML.slice(0, 120));
  }
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, clipped};
}
"""


def check_reflow(page: Page) -> None:
    """No horizontal scrolling of the page (tables scroll in their own region) and no text cut
    off by ``overflow: hidden``."""
    layout = page.evaluate(_OVERFLOW_SCRIPT)
    width = page.viewport_size["width"] if page.viewport_size else layout["clientWidth"]
    assert layout["scrollWidth"] <= width, (
        f"the page scrolls horizontally at {width} px: it is {layout['scrollWidth']} px wide")
    assert not layout["clipped"], "content is cut off:\n  " + "\n  ".join(layout["clipped"])
