"""Text typed by a person or the staff can never run as code: attack payloads (script tags, an
image with an onerror handler, a javascript: link, a template expression, a spreadsheet formula,
a broken title) stored in every free-text field come out as plain text in every page and htmx
fragment, neutralised in CSV and XLSX exports, as text in PDFs (which hold no script or link
action), as the literal text in the JSON export and in the e-mails and SMS queued
(docs/security.md#escaping, #csv-formulas)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from portal import clock
from portal.extensions import db
from portal.models import (
    Accompaniment,
    AccompanimentTheme,
    Booking,
    ChequeProgramme,
    Course,
    OutboxMessage,
    Site,
)
from portal.models.vocab import BookingStatus, CompletionRule, StaffRole, Theme
from portal.services import calendar, closing, closures, documents, messages, team, vouchers
from portal.services.audit import Actor
from tests.conftest import csrf_from, login

PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
    '=HYPERLINK("http://x")',
    "</title><svg onload=alert(1)>",
)
#: markup added to the payloads that hold none, so that a field shown unescaped is always caught.
TAIL = "<b onclick=1>"
STORED = tuple(payload if "<" in payload else payload + TAIL for payload in PAYLOADS)

#: every String/Text column a person or the staff writes in a form (or a browser sends).
FREE_TEXT = {
    "accompaniment": ("summary", "notes", "commune", "referred_to"),
    "beneficiary": ("first_name", "last_name", "commune", "staff_notes"),
    "cheque_programme": ("name", "issuer", "operator", "number_pattern"),
    "closure_day": ("label",),
    "course": ("title", "description", "objectives"),
    "document": ("revoked_reason",),
    "login_session": ("user_agent",),
    "site": ("name", "address", "city", "opening_hours", "description", "aptic_accreditation",
             "other_accreditation", "signatory_name", "signatory_role", "regie_mention",
             "regisseur_name", "regisseur_role", "receipt_signatory_role"),
    "staff_member": ("full_name",),
    "workshop": ("title", "description", "objectives", "what_to_bring"),
    "workshop_session": ("room", "room_accessibility", "cancelled_reason", "reopen_reason",
                         "note"),
}

#: the other String/Text columns, and why no payload can reach them.
NOT_FREE_TEXT = {
    "accompaniment": ("age_bracket", "postcode"),  # a choice from a list, a checked format
    "audit_event": ("ip", "action", "object_type", "object_id"),  # written by the portal
    "beneficiary": ("phone", "email", "postcode",  # checked formats
                    "login_id", "first_login_code_hash", "calendar_token_hash",  # generated
                    "search_text", "search_key", "password_hash"),  # derived, hashed
    "booking": ("code",),
    "cheque": ("number",),  # must match the programme's pattern
    "course": ("search_text",),
    "document": ("number", "verification_code", "title", "sha256"),  # made by the portal
    "login_failure": ("account_key",),  # typed at login, but only counted, never shown
    "login_session": ("token_hash", "ip", "revoked_reason"),
    "outbox_message": ("recipient", "subject", "body", "topic", "dedupe_key", "last_error"),
    "site": ("code", "postcode", "phone", "email", "logo_mime"),  # checked formats
    "staff_invitation": ("token_hash", "code_hash"),
    "staff_member": ("email", "password_hash"),
    "workshop": ("search_text",),
    "workshop_session": ("series_id", "change_kinds"),
}

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
VERIFY = "https://portail.example.fr/v/{code}"


def text_columns() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table in db.metadata.sorted_tables:
        names = {c.name for c in table.columns
                 if isinstance(c.type, sa.String | sa.Text) and not isinstance(c.type, sa.Enum)}
        if names:
            found[table.name] = names
    return found


def test_every_text_column_is_either_attacked_or_explained(app):
    """A new text column fails here until it is added to one of the two lists."""
    listed: dict[str, set[str]] = {}
    for table, names in [*FREE_TEXT.items(), *NOT_FREE_TEXT.items()]:
        assert not listed.get(table, set()) & set(names), table
        listed.setdefault(table, set()).update(names)
    assert text_columns() == listed


# --- the scene: one of everything, every free-text field holding a payload ----------------------


@dataclass
class Scene:
    staff: FlaskClient
    person: FlaskClient
    ids: dict[str, list[str]] = field(default_factory=dict)


class Payloads:
    """Hands the payloads out in turn, so that each one lands in many kinds of field."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return STORED[self.n % len(STORED)]

    def fill(self, table: str, **fixed: Any) -> dict[str, Any]:
        return {name: self() for name in FREE_TEXT[table] if name not in fixed} | fixed


def build(app: Flask, factory: Any) -> Scene:
    clock.freeze(NOW)
    p = Payloads()
    with app.test_request_context():
        site = factory.site(**p.fill("site"))
        admin = factory.staff(None, is_network_admin=True, full_name=p())
        animateur = factory.staff(site, StaffRole.ADMIN, full_name=p())
        by = Actor.of(animateur)
        person = factory.beneficiary(site, email="odile@example.org",
                                     **p.fill("beneficiary"))
        workshop = factory.workshop(grants_attestation=True, price_cheques=1,
                                    **p.fill("workshop"))
        course = Course(site_id=site.id, completion_rule=CompletionRule.ALL_SESSIONS,
                        **p.fill("course"))
        db.session.add(course)
        db.session.add(ChequeProgramme(validity_end=date(2026, 12, 31), **p.fill(
            "cheque_programme", number_pattern=r"[0-9]{10}")))
        db.session.add(ChequeProgramme(validity_end=date(2024, 12, 31), is_active=False,
                                       **p.fill("cheque_programme")))
        db.session.commit()
        closures.add(site, first_day="2026-12-24", last_day="", label=p(), actor=by)

        def session(starts_in: timedelta, **fields: Any) -> Any:
            return factory.session(site, workshop, starts_in=starts_in, animator_id=animateur.id,
                                   course_id=course.id, **p.fill("workshop_session", **fields))

        clock.freeze(NOW - timedelta(days=3))
        past = session(timedelta(minutes=-10))
        present = factory.booking(past, person, BookingStatus.PRESENT, checked_in_at=clock.now())
        vouchers.redeem_cheques(present, "6207261001", actor=by)
        clock.freeze(NOW)
        closing.close_session(past, actor=by, verify_url=VERIFY)
        closing.reopen_session(past, p(), actor=by)
        closing.close_session(past, actor=by, verify_url=VERIFY)
        revoked = documents.issue_certificate(present, actor=by, verify_url=VERIFY)
        documents.revoke(revoked, p(), actor=by)
        documents.issue_certificate(present, actor=by, verify_url=VERIFY)
        documents.issue_attendance_sheet(past, actor=by)
        documents.issue_login_card(person, site, actor=by, portal_address="portail.example.fr",
                                   code_validity=timedelta(days=30))
        documents.issue_deposit_slip(site, 2026, 11, actor=by)

        today = session(timedelta(hours=3))
        booked = factory.booking(today, person)
        messages.queue_booking_confirmed(booked)
        future = session(timedelta(days=4))
        cancelled = factory.booking(future, person)
        messages.queue_session_cancelled(cancelled, reason=future.cancelled_reason)
        db.session.commit()
        help_record = Accompaniment(site_id=site.id, staff_id=animateur.id,
                                    beneficiary_id=person.id, started_at=NOW - timedelta(hours=2),
                                    duration_minutes=30, age_bracket="60-74",
                                    theme_links=[AccompanimentTheme(theme=Theme.EMAIL)],
                                    **p.fill("accompaniment"))
        db.session.add(help_record)
        db.session.commit()
        feed = calendar.create_feed_token(person, actor=Actor.of(person))
        invited = team.invite(team.InvitationInput(email="nouvelle@example.org", full_name=p(),
                                         site=str(site.id), role="reception"),
                    actor=Actor.of(admin), link_for=lambda token: f"https://x.fr/i/{token}")

    def browser(identifier: str) -> FlaskClient:
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = p()  # what a browser says of itself
        assert login(client, identifier).status_code == 303
        return client

    scene = Scene(browser(admin.email), browser(person.login_id))
    scene.ids = {
        "session_id": [str(past.id), str(today.id)], "booking_id": [str(present.id)],
        "person_id": [str(person.id)], "course_id": [str(course.id)],
        "site_id": [str(site.id)], "workshop_id": [str(workshop.id)],
        "help_id": [str(help_record.id)], "staff_id": [str(animateur.id)],
        "programme_id": [str(i) for i in db.session.scalars(db.select(ChequeProgramme.id))],
        "document_id": [str(d.id) for d in documents_of(site)],
        "kind": ["presences", "activites", "cheques", "personnes"], "fmt": ["csv", "xlsx"],
        "code": [revoked.verification_code or ""], "token": [feed, invited.token or ""],
    }
    return scene


def documents_of(site: Site) -> list[Any]:
    from portal.models import Document

    return list(db.session.scalars(db.select(Document).order_by(Document.id)))


def check_every_free_text_field_is_filled() -> None:
    for table, names in FREE_TEXT.items():
        model = db.metadata.tables[table]
        for name in names:
            values = set(db.session.scalars(sa.select(model.c[name])))
            assert values & set(STORED), f"{table}.{name} holds no payload: {values}"


# --- what must hold in each kind of answer --------------------------------------------------------


#: attributes a browser follows or loads (a value elsewhere, in a form field, is only text).
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "data", "srcdoc", "background",
                  "xlink:href", "content"}


class Markup(HTMLParser):
    """Every element and attribute a payload could have added to a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not values.get("src"):
            self.found.append("<script> without src")
        if tag == "img" and values.get("src") == "x":
            self.found.append("<img src=x>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if (name in URL_ATTRIBUTES or name.startswith(("data-hx-", "hx-"))) and (
                    value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def check_html(url: str, body: str) -> str:
    parser = Markup()
    parser.feed(body)
    parser.close()
    assert not parser.found, (url, parser.found)
    text = "".join(parser.text)
    assert "49" not in re.findall(r"\d+", text) or "{{7*7}}" in text, url
    return text


def check_csv(url: str, data: bytes) -> list[str]:
    cells = [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (url, cell)
    return cells


def check_xlsx(url: str, data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                # text is written as a text cell: never a formula, whatever it starts with
                assert cell.data_type != "f", (url, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (url, cell.coordinate, cell.value)
                    cells.append(cell.value)
    book.close()
    return cells


ACTIONS = re.compile(rb"/(JavaScript|JS|OpenAction|AA|Launch|SubmitForm)[\s(<\[/]|"
                     rb"/URI\s*\(\s*javascript", re.IGNORECASE)


def check_pdf(url: str, data: bytes) -> str:
    # A payload may be a PDF string (the title in the metadata); never an action.
    assert not ACTIONS.search(data), (url, ACTIONS.search(data))
    reader = PdfReader(io.BytesIO(data))
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            uri = str(action.get_object().get("/URI", "")) if action else ""
            assert not uri.lower().startswith("javascript"), (url, uri)
    return " ".join(page.extract_text() or "" for page in reader.pages)


def strings_in(value: Any) -> list[str]:
    """Every string of a JSON document, as it was decoded."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- reading everything back --------------------------------------------------------------------


@dataclass
class Read:
    pages: int = 0
    fragments: int = 0
    files: dict[str, int] = field(default_factory=dict)
    shown: set[str] = field(default_factory=set)  # payloads seen as text somewhere

    def saw(self, text: str) -> None:
        self.shown.update(payload for payload in PAYLOADS if flat(payload) in flat(text))


#: static files; the export downloads are read below, over a whole year of the network.
SKIPPED = {"static", "staff.export_download"}


def urls(app: Flask, ids: dict[str, list[str]]) -> list[str]:
    """Every GET address of the portal, with the scene's rows as arguments."""
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED or (
                rule.arguments - ids.keys()):
            continue
        combos: list[dict[str, str]] = [{}]
        for name in sorted(rule.arguments):
            combos = [{**c, name: v} for c in combos for v in ids[name]]
        for values in combos:
            with app.test_request_context():
                from flask import url_for

                found.append(url_for(rule.endpoint, **values))
    return sorted(set(found))


def read(client: FlaskClient, url: str, seen: Read, **kwargs: Any) -> str:
    """Fetch ``url``, check the answer by its type; its type."""
    htmx = kwargs.pop("htmx", False)
    response = client.get(url, headers={"HX-Request": "true"} if htmx else {}, **kwargs)
    if response.status_code >= 500:
        pytest.fail(f"{url}: {response.status_code}")
    data = response.get_data()
    kind = response.mimetype
    if kind == "text/html":
        seen.saw(check_html(url, data.decode()))
        if htmx:
            seen.fragments += 1
        else:
            seen.pages += 1
        return kind
    seen.files[kind] = seen.files.get(kind, 0) + 1
    if kind == "text/csv":
        seen.saw(" ".join(check_csv(url, data)))
    elif kind.endswith("spreadsheetml.sheet"):
        seen.saw(" ".join(check_xlsx(url, data)))
    elif kind == "application/pdf":
        seen.saw(check_pdf(url, data))
    elif kind == "application/json":
        seen.saw(" ".join(strings_in(json.loads(data))))
    return kind


def test_payloads_come_out_as_text_everywhere(app, factory):
    scene = build(app, factory)
    check_every_free_text_field_is_filled()
    seen = Read()
    addresses = urls(app, scene.ids)
    for client in (scene.staff, scene.person, app.test_client()):  # and a visitor
        for url in addresses:
            if read(client, url, seen) == "text/html":  # a file is the same for htmx
                read(client, url, seen, htmx=True)
        for export in ("presences", "activites", "cheques", "personnes"):
            for fmt in ("csv", "xlsx"):
                read(client, f"/equipe/rapports/exports/{export}.{fmt}", seen,
                     query_string={"site": "reseau", "periode": "annee", "annee": "2026"})
    assert seen.pages > 50 and seen.fragments > 50, seen
    assert seen.files.get("text/csv", 0) >= 4 and seen.files.get("application/pdf", 0) >= 4
    assert seen.shown == set(PAYLOADS), set(PAYLOADS) - seen.shown

    # The personal data, as the person and as the staff download it.
    person_id = scene.ids["person_id"][0]
    for client, base, page in ((scene.person, "/mon-espace/profil/mes-donnees", "/mon-espace/"
                                "profil"), (scene.staff, f"/equipe/beneficiaires/{person_id}/"
                                "donnees", f"/equipe/beneficiaires/{person_id}")):
        token = csrf_from(client.get(page).get_data(as_text=True))
        exported = client.post(f"{base}.json", data={"csrf_token": token})
        assert exported.status_code == 200, base
        strings = set(strings_in(json.loads(exported.get_data())))
        for payload in STORED:
            assert payload in strings, (base, payload)
        pdf = client.post(f"{base}.pdf", data={"csrf_token": token})
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf", base
        assert "alert(1)" in check_pdf(base, pdf.get_data())

    # E-mails and SMS are plain text: the literal words, not HTML entities.
    queued = db.session.scalars(db.select(OutboxMessage)).all()
    assert len(queued) >= 3
    bodies = "\n".join(m.subject + "\n" + m.body for m in queued)
    assert "&lt;" not in bodies and "&#" not in bodies and "&quot;" not in bodies
    assert any(payload in bodies for payload in PAYLOADS)
    assert db.session.scalar(db.select(db.func.count()).select_from(Booking)) >= 3


class FormValues(HTMLParser):
    """The values a browser would send back from a page's first form (inputs, selects,
    text areas), as the page shows them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._area: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("checkbox", "radio", "submit",
                                                            "file"):
            self.values.setdefault(name, a.get("value", ""))
        elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.values.setdefault(name, a.get("value", "on"))
        elif tag == "textarea":
            self._area = name
            self.values.setdefault(name, "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values.setdefault(self._select, a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._area = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._area:
            self.values[self._area] += data


def form_of(client: FlaskClient, url: str) -> dict[str, str]:
    parser = FormValues()
    parser.feed(client.get(url).get_data(as_text=True))
    return parser.values


def test_the_real_forms_keep_payloads_as_typed_and_show_them_as_text(app, factory):
    """Typed through the staff's forms (a person's record, a site's settings), the payloads are
    stored exactly as typed and shown back as text."""
    site = factory.site(code="MER", name="Cyberbase")
    admin = factory.staff(site, StaffRole.ADMIN)
    person = factory.beneficiary(site)
    client = app.test_client()
    assert login(client, admin.email).status_code == 303
    forms = {
        f"/equipe/beneficiaires/{person.id}/modifier":
            {"first_name": STORED[1], "last_name": STORED[5], "commune": STORED[2],
             "staff_notes": " ".join(STORED)},
        f"/equipe/lieux/{site.id}/reglages":
            {"name": STORED[0], "address": STORED[3], "city": STORED[5],
             "opening_hours": " ".join(STORED), "signatory_name": STORED[1],
             "signatory_role": STORED[4], "regie_mention": STORED[2]},
    }
    for url, typed in forms.items():
        values = {**form_of(client, url), **typed}
        response = client.post(url, data=values)
        assert response.status_code == 303, (url, response.get_data(as_text=True)[:3000])
        shown = client.get(response.headers["Location"]).get_data(as_text=True)
        check_html(url, shown)
        again = form_of(client, url)  # what the form shows back, decoded
        for name, value in typed.items():
            assert again[name].replace("\r\n", "\n") == value, (url, name)
    db.session.expire_all()
    stored_person = db.session.get(type(person), person.id)
    assert (stored_person.first_name, stored_person.commune) == (STORED[1], STORED[2])
    assert db.session.get(Site, site.id).name == STORED[0]
