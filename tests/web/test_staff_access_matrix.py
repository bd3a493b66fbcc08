"""Every staff route, against objects of four sites, for people holding different roles.

The expected answer of each (route, role held at the object's site) comes from the permission
table of ``services/staff_access.py`` and the action each route needs (``ROUTES`` below): no
role at the site is a 404, a role without the action a 403 — both changing nothing — and a role
with it reaches the screen or the action (any other answer, never a 500). A staff route missing
from ``ROUTES`` fails the suite, so every new route states what it needs.

The mixed person is reception at A, animateur at B and administrator at C (nothing at D): a
role held at one site must never count at another. Requests carry the CSRF token.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape as html_unescape

import pytest
from flask import current_app, url_for
from PIL import Image
from pypdf import PdfWriter

from portal.extensions import db
from portal.models import (
    Cheque,
    ChequeProgramme,
    Course,
    Document,
    Site,
    StaffSiteRole,
    WorkshopSession,
)
from portal.models.bookings import Accompaniment, AccompanimentTheme
from portal.models.vocab import DocumentKind, StaffRole, Theme
from portal.services.staff_access import PERMISSIONS, Action
from tests.conftest import csrf_from, login
from tests.web.test_routes import _snapshot

SITES = "ABCD"

#: (endpoint, method) → the action it needs at the site of its object. ``None``: a listing,
#: open to every staff member and showing only the sites where the action is allowed.
ROUTES: dict[tuple[str, str], Action | None] = {
    ("staff.today", "GET"): None,
    ("staff.session_detail", "GET"): Action.SEE_SESSIONS,
    ("staff.checkin_page", "GET"): Action.SEE_SESSIONS,
    ("staff.roster_fragment", "GET"): Action.SEE_SESSIONS,
    ("staff.person_panel", "GET"): Action.SEE_SESSIONS,
    ("staff.scan", "POST"): Action.CHECK_IN,
    ("staff.mark", "POST"): Action.CHECK_IN,
    ("staff.walk_in", "POST"): Action.CHECK_IN,
    ("staff.take_cheques", "POST"): Action.TAKE_CHEQUES,
    ("staff.issue_receipt", "POST"): Action.TAKE_CHEQUES,
    ("staff.close", "GET"): Action.SEE_SESSIONS,
    ("staff.close", "POST"): Action.CLOSE_SESSION,
    ("staff.session_certificates_pdf", "GET"): Action.SEE_DOCUMENTS,
    ("staff.reopen", "GET"): Action.REOPEN_SESSION,
    ("staff.reopen", "POST"): Action.REOPEN_SESSION,
    ("staff.people_search", "GET"): None,
    ("staff.person", "GET"): Action.SEE_PEOPLE,
    ("staff.book_for", "POST"): Action.BOOK_FOR,
    ("staff.book_course_for", "POST"): Action.BOOK_FOR,
    ("staff.cancel_for", "POST"): Action.BOOK_FOR,
    ("staff.documents_list", "GET"): None,
    ("staff.document_download", "GET"): Action.SEE_DOCUMENTS,
    ("staff.document_revoke", "POST"): Action.REVOKE_DOCUMENT,
    ("staff.booking_certificate", "POST"): Action.ISSUE_CERTIFICATES,
    ("staff.session_certificates", "POST"): Action.ISSUE_CERTIFICATES,
    ("staff.attendance_sheet", "POST"): Action.PRINT_ATTENDANCE,
    ("staff.login_card", "POST"): Action.PRINT_CARD,
    ("staff.deposit_slip", "POST"): Action.DEPOSIT_SLIP,
    ("staff.programme_week", "GET"): Action.SEE_SESSIONS,
    ("staff.programme_month", "GET"): Action.SEE_SESSIONS,
    ("staff.programme_print", "GET"): Action.PRINT_PROGRAMME,
    ("staff.convocations_page", "GET"): Action.PRINT_CONVOCATIONS,
    ("staff.reports", "GET"): Action.SEE_REPORTS,
    ("staff.reports_pdf", "GET"): Action.SEE_REPORTS,
    ("staff.convocations_print", "POST"): Action.PRINT_CONVOCATIONS,
    ("staff.session_new", "GET"): None,
    ("staff.session_new", "POST"): Action.SCHEDULE_SESSIONS,
    ("staff.session_edit", "GET"): Action.SCHEDULE_SESSIONS,
    ("staff.session_edit", "POST"): Action.SCHEDULE_SESSIONS,
    ("staff.session_duplicate", "GET"): Action.SCHEDULE_SESSIONS,
    ("staff.session_duplicate", "POST"): Action.SCHEDULE_SESSIONS,
    ("staff.call_off_session", "GET"): Action.CANCEL_SESSION,
    ("staff.call_off_session", "POST"): Action.CANCEL_SESSION,
    ("staff.closure_days", "GET"): Action.EDIT_CLOSURES,
    ("staff.closure_days", "POST"): Action.EDIT_CLOSURES,
    ("staff.catalogue", "GET"): None,
    ("staff.workshop_new", "GET"): None,
    ("staff.workshop_new", "POST"): Action.EDIT_CATALOGUE,
    ("staff.workshop_preview", "POST"): Action.EDIT_CATALOGUE,
    ("staff.workshop_edit", "GET"): Action.SEE_SESSIONS,
    ("staff.workshop_edit", "POST"): Action.EDIT_CATALOGUE,
    ("staff.workshop_archive", "POST"): Action.EDIT_CATALOGUE,
    ("staff.workshop_restore", "POST"): Action.EDIT_CATALOGUE,
    ("staff.courses_list", "GET"): None,
    ("staff.course_new", "GET"): None,
    ("staff.course_new", "POST"): Action.EDIT_CATALOGUE,
    ("staff.course_edit", "GET"): Action.SEE_SESSIONS,
    ("staff.course_edit", "POST"): Action.EDIT_CATALOGUE,
    ("staff.course_add_session", "POST"): Action.EDIT_CATALOGUE,
    ("staff.course_remove_session", "POST"): Action.EDIT_CATALOGUE,
    ("staff.help_list", "GET"): None,
    ("staff.help_new", "GET"): None,
    ("staff.help_new", "POST"): Action.RECORD_HELP,
    ("staff.help_detail", "GET"): Action.RECORD_HELP,
    ("staff.help_cheques", "POST"): Action.TAKE_CHEQUES,
    ("staff.help_receipt", "POST"): Action.TAKE_CHEQUES,
    # the place's help was recorded by a colleague: changing it needs EDIT_ANY_HELP
    ("staff.help_edit", "GET"): Action.EDIT_ANY_HELP,
    ("staff.help_edit", "POST"): Action.EDIT_ANY_HELP,
    ("staff.help_remove", "GET"): Action.EDIT_ANY_HELP,
    ("staff.help_remove", "POST"): Action.EDIT_ANY_HELP,
    ("staff.team_list", "GET"): None,
    ("staff.team_invite", "GET"): None,
    ("staff.team_invite", "POST"): Action.MANAGE_TEAM,
    ("staff.team_member", "GET"): Action.MANAGE_TEAM,
    ("staff.team_role", "POST"): Action.MANAGE_TEAM,
    ("staff.team_disable", "POST"): Action.MANAGE_TEAM,
    ("staff.team_enable", "POST"): Action.MANAGE_TEAM,
    ("staff.journal", "GET"): None,
    # last: the colleague has no role left at the site afterwards
    ("staff.team_role_remove", "POST"): Action.MANAGE_TEAM,
    ("staff.sites_list", "GET"): None,
    ("staff.site_new", "GET"): None,
    ("staff.site_new", "POST"): None,
    ("staff.site_settings", "GET"): Action.EDIT_SITE,
    ("staff.site_settings", "POST"): Action.EDIT_SITE,
    # uploads before the images are read (an image never set is a 404), removal after
    ("staff.site_logo", "POST"): Action.EDIT_SITE,
    ("staff.site_logo", "GET"): Action.EDIT_SITE,
    ("staff.site_logo_remove", "POST"): Action.EDIT_SITE,
    ("staff.site_signature", "POST"): Action.EDIT_SITE,
    ("staff.site_signature", "GET"): Action.EDIT_SITE,
    ("staff.site_signature_remove", "POST"): Action.EDIT_SITE,
    ("staff.programmes_list", "GET"): None,
    ("staff.programme_detail", "GET"): None,
    ("staff.programme_new", "GET"): None,
    ("staff.programme_new", "POST"): None,
    ("staff.programme_edit", "GET"): None,
    ("staff.programme_edit", "POST"): None,
    ("staff.programme_try", "POST"): None,
    ("staff.person_new", "GET"): None,
    ("staff.person_new", "POST"): Action.REGISTER_PERSON,
    ("staff.person_edit", "GET"): Action.EDIT_PERSON,
    ("staff.person_edit", "POST"): Action.EDIT_PERSON,
    ("staff.reset_access", "POST"): Action.RESET_ACCESS,
    ("staff.person_merge", "GET"): Action.MERGE_PEOPLE,
    ("staff.person_merge", "POST"): Action.MERGE_PEOPLE,
    ("staff.walk_in_new", "POST"): Action.REGISTER_PERSON,
    ("staff.network", "GET"): None,
    ("staff.exports", "GET"): Action.EXPORT_DATA,
    ("staff.export_download", "GET"): Action.EXPORT_DATA,
    ("staff.person_data_export", "POST"): Action.EXPORT_PERSON,
    ("staff.person_anonymise", "GET"): Action.ANONYMISE_PERSON,
    ("staff.person_anonymise", "POST"): Action.ANONYMISE_PERSON,  # last: the person is gone
}

#: routes of what belongs to no site (new sites, the cheque programmes): network administrators only
#: (``require_network_admin``), checked by ``test_programmes_are_written_by_network_admins``.
NETWORK_ADMIN_ONLY = {("staff.site_new", "GET"), ("staff.site_new", "POST"),
                      ("staff.programme_new", "GET"), ("staff.programme_new", "POST"),
                      ("staff.programme_edit", "GET"), ("staff.programme_edit", "POST"),
                      ("staff.programme_try", "POST"), ("staff.network", "GET")}

#: who asks: the role held at each site (a network administrator is an administrator at all).
IDENTITIES: dict[str, dict[str, StaffRole]] = {
    "mixed": {"A": StaffRole.RECEPTION, "B": StaffRole.ANIMATEUR, "C": StaffRole.ADMIN},
    "reception": {"A": StaffRole.RECEPTION},
    "animateur": {"A": StaffRole.ANIMATEUR},
    "admin": {"A": StaffRole.ADMIN},
    "network": {name: StaffRole.ADMIN for name in SITES},
    "nowhere": {},
}


@dataclass(frozen=True)
class Place:
    """The rows of one site that routes name (ids only: rows do not outlive a request)."""

    site_id: int
    session_id: int  # today, started ten minutes ago
    later_session_id: int  # in two days: to book someone on
    course_id: int
    course_session_id: int  # of `course`, in nine days
    workshop_id: int  # of `session`, the site's own
    booking_id: int  # of `person` at `session`
    person_id: int  # whose usual site this is
    walk_in_id: int  # of this site too, booked nowhere
    document_id: int
    title: str  # of the workshop of `session`, unique to the site
    person_name: str
    document_number: str
    accompaniment_id: int = 0  # individual help of `person`, recorded by a colleague
    colleague_id: int = 0  # a receptionist of the site (the team's routes)


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def places(factory, frozen_now) -> dict[str, Place]:
    db.session.add(ChequeProgramme(name="APTIC", issuer="Département", operator="APTIC",
                                   number_pattern=r"[0-9]{10}",
                                   validity_end=date(2026, 12, 31)))
    db.session.commit()
    made = {}
    for n, name in enumerate(SITES, start=1):
        site = factory.site(code=f"LI{name}", name=f"Lieu {name}")
        title = f"Atelier du lieu {name}"
        workshop = factory.workshop(title=title, site_id=site.id)
        session = factory.session(site, workshop, starts_in=timedelta(minutes=-10))
        later = factory.session(site, starts_in=timedelta(days=2))
        course = Course(site_id=site.id, title=f"Parcours {name}")
        db.session.add(course)
        db.session.commit()
        in_course = factory.session(site, starts_in=timedelta(days=9), course_id=course.id)
        person = factory.beneficiary(site, first_name="Personne", last_name=f"Du lieu {name}")
        booking = factory.booking(session, person)
        walk_in = factory.beneficiary(site, first_name="Passant", last_name=f"Du lieu {name}")
        number = f"ATT-2026-LI{name}-{n:06d}"
        document = Document(kind=DocumentKind.CERTIFICATE, site_id=site.id, year=2026,
                            sequence=n, number=number, title="Attestation",
                            beneficiary_id=person.id, session_id=session.id,
                            pdf=blank_pdf(), sha256="0" * 64, snapshot={})
        db.session.add(document)
        db.session.commit()
        made[name] = Place(site.id, session.id, later.id, course.id, in_course.id, workshop.id,
                           booking.id, person.id, walk_in.id, document.id, title,
                           person.last_name, number)
        accompaniment = Accompaniment(site_id=site.id, beneficiary_id=person.id,
                                      started_at=frozen_now, duration_minutes=30,
                                      theme_links=[AccompanimentTheme(theme=Theme.EMAIL)])
        db.session.add(accompaniment)
        db.session.commit()
        made[name] = dataclasses.replace(made[name], accompaniment_id=accompaniment.id)
    for name, place in made.items():
        colleague = factory.staff(db.session.get(Site, place.site_id), StaffRole.RECEPTION,
                                  full_name=f"Collègue du lieu {name}")
        made[name] = dataclasses.replace(place, colleague_id=colleague.id)
    return made


def staff_with(factory, places: dict[str, Place], identity: str):
    roles = IDENTITIES[identity]
    staff = factory.staff(is_network_admin=identity == "network")
    if identity != "network":
        for name, role in roles.items():
            staff.roles.append(StaffSiteRole(site_id=places[name].site_id, role=role))
    db.session.commit()
    return staff


def expected(identity: str, action: Action, site: str) -> int | None:
    """404 without a role at the site, 403 when the role lacks the action, else None."""
    role = IDENTITIES[identity].get(site)
    if role is None:
        return 404
    return None if action in PERMISSIONS[role] else 403


_numbers = itertools.count(6207261100)


def request_for(endpoint: str, method: str, place: Place) -> tuple[str, dict[str, str]]:
    """The URL and form of the route for the objects of one place."""
    arguments = {"session_id": place.session_id, "booking_id": place.booking_id,
                 "person_id": place.person_id, "document_id": place.document_id,
                 "site_id": place.site_id, "workshop_id": place.workshop_id,
                 "course_id": place.course_id, "staff_id": place.colleague_id}
    arguments["help_id"] = place.accompaniment_id
    if endpoint == "staff.course_remove_session":
        arguments["session_id"] = place.course_session_id
    when = {"room": "Salle de la matrice", "start": "14:00", "end": "16:00", "capacity": "6"}
    rule = next(r for r in current_app.url_map.iter_rules(endpoint))
    #: routes that name their site in the query (a month or day without sessions: no PDF)
    query = {
        "staff.programme_week": {"site": place.site_id},
        "staff.programme_month": {"site": place.site_id},
        "staff.programme_print": {"site": place.site_id, "mois": "2027-06", "format": "A4"},
        "staff.convocations_page": {"site": place.site_id},
        "staff.reports": {"site": place.site_id, "periode": "mois", "mois": "2026-10"},
        "staff.reports_pdf": {"site": place.site_id, "periode": "mois", "mois": "2026-10"},
        "staff.exports": {"site": place.site_id, "quoi": "presences", "format": "csv"},
        "staff.export_download": {"site": place.site_id, "kind": "presences", "fmt": "csv"},
    }.get(endpoint, {}) if method == "GET" else {}
    with current_app.test_request_context():
        url = url_for(endpoint, **{k: v for k, v in arguments.items() if k in rule.arguments},
                      **query)
    form = {
        "staff.scan": {"code": "UNKNOWN-CODE"},
        "staff.mark": {"action": "present"},
        "staff.walk_in": {"person_id": str(place.walk_in_id)},
        "staff.take_cheques": {"numbers": str(next(_numbers))},
        "staff.reopen": {"reason": "Présence oubliée"},
        "staff.book_for": {"session_id": str(place.later_session_id)},
        "staff.book_course_for": {"course_id": str(place.course_id)},
        "staff.document_revoke": {"reason": "Erreur de nom"},
        "staff.deposit_slip": {"site_id": str(place.site_id), "month": "2026-10"},
        "staff.convocations_print": {"site": str(place.site_id), "jour": "2026-12-25"},
        "staff.session_new": {
            **when, "site_id": str(place.site_id), "day": "2026-12-20", "repeat": "once",
            "workshop_id": str(db.session.get(WorkshopSession, place.session_id).workshop_id)},
        "staff.session_edit": {**when, "day": "2026-12-21"},
        "staff.session_duplicate": {**when, "day": "2026-12-22"},
        "staff.call_off_session": {"reason": "Animatrice malade"},
        "staff.closure_days": {"label": "Noël", "first_day": "2026-12-25"},
        "staff.workshop_new": workshop_form(place, "Nouvel atelier"),
        "staff.workshop_preview": workshop_form(place, "Nouvel atelier"),
        "staff.workshop_edit": workshop_form(place, place.title),
        "staff.course_new": {"title": "Nouveau parcours", "site": str(place.site_id),
                             "completion_rule": "all_sessions"},
        "staff.course_edit": {"title": "Parcours renommé", "site": str(place.site_id),
                              "completion_rule": "all_sessions"},
        "staff.course_add_session": {"session_id": str(place.later_session_id)},
        "staff.help_new": help_form(place),
        "staff.help_edit": help_form(place),
        "staff.help_cheques": {"numbers": str(next(_numbers))},
        "staff.team_invite": {"email": f"invitee-{place.site_id}@example.org",
                              "full_name": "Nina Invitée", "site": str(place.site_id),
                              "role": "reception"},
        "staff.team_role": {"site": str(place.site_id), "role": "animateur"},
        "staff.team_role_remove": {"site": str(place.site_id)},
        "staff.site_settings": {"name": "Lieu réglé", "cancellation_deadline_minutes": "60",
                                "idle_timeout_minutes": "20", "max_upcoming_bookings": "5"},
        "staff.site_logo": {"logo": (io.BytesIO(small_png()), "logo.png")},
        "staff.site_signature": {"signature": (io.BytesIO(small_png()), "signature.jpg")},
        "staff.person_new": {"first_name": "Nouvelle", "site": str(place.site_id)},
        "staff.person_edit": {"first_name": "Renommée", "site": str(place.site_id)},
        "staff.person_merge": {"other_id": str(place.walk_in_id)},
        "staff.walk_in_new": {"first_name": "Inconnue", "last_name": "À la porte"},
        "staff.person_anonymise": {"confirm": "1"},
    }.get(endpoint, {}) if method == "POST" else {}
    return url, form


def small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (31, 78, 158)).save(out, format="PNG")
    return out.getvalue()


def workshop_form(place: Place, title: str) -> dict[str, str]:
    return {"title": title, "site": str(place.site_id), "themes": "email", "level": "beginner",
            "equipment": "computer", "duration_minutes": "60", "price_cheques": "1",
            "description": "Un atelier.", "intent": "save"}


def help_form(place: Place) -> dict[str, str]:
    return {"site": str(place.site_id), "day": "2026-11-20", "duration": "30",
            "themes": "email", "equipment": "computer", "place": "on_site", "referred": "0"}


def staff_rules(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("staff.")
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_staff_route_states_the_action_it_needs(app):
    assert staff_rules(app) == set(ROUTES), (
        "add the new staff route to ROUTES with the action it needs at its object's site")


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    client.token = csrf_from(client.get("/equipe/").get_data(as_text=True))
    return client


def ask(client, method: str, url: str, form: dict[str, str]):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={**form, "csrf_token": client.token})


@pytest.mark.parametrize("identity", IDENTITIES)
def test_each_route_answers_as_the_role_held_at_the_objects_site(app, factory, places,
                                                                 identity):
    client = signed_in(app, staff_with(factory, places, identity))
    calls = [(endpoint, method, site, expected(identity, action, site))
             for (endpoint, method), action in ROUTES.items() if action is not None
             for site in SITES]
    # Refusals first, each changing nothing; then the allowed calls.
    before = _snapshot()
    for endpoint, method, site, status in calls:
        if status is None:
            continue
        url, form = request_for(endpoint, method, places[site])
        response = ask(client, method, url, form)
        assert response.status_code == status, (endpoint, method, site, response.status_code)
    assert _snapshot() == before
    for endpoint, method, site, status in calls:
        if status is not None:
            continue
        url, form = request_for(endpoint, method, places[site])
        response = ask(client, method, url, form)
        assert response.status_code not in (403, 404), (endpoint, method, site)
        assert response.status_code < 500, (endpoint, method, site, response.status_code)


@pytest.mark.parametrize("identity", IDENTITIES)
def test_listings_show_only_the_sites_where_the_action_is_allowed(app, factory, places,
                                                                  identity):
    client = signed_in(app, staff_with(factory, places, identity))
    pages = {"/equipe/": (Action.SEE_SESSIONS, "title"),
             "/equipe/beneficiaires": (Action.SEE_PEOPLE, "person_name"),
             "/equipe/documents": (Action.SEE_DOCUMENTS, "document_number"),
             "/equipe/catalogue": (Action.SEE_SESSIONS, "title")}
    for url, (action, shown) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        for site, place in places.items():
            visible = expected(identity, action, site) is None
            assert (getattr(place, shown) in text) is visible, (url, site)


@pytest.mark.parametrize("identity", IDENTITIES)
def test_the_deposit_slip_form_offers_only_the_sites_where_it_is_allowed(app, factory, places,
                                                                         identity):
    client = signed_in(app, staff_with(factory, places, identity))
    text = client.get("/equipe/documents").get_data(as_text=True)
    offered = set(re.findall(r'<option value="(\d+)">Lieu ([A-D])</option>', text))
    allowed = {(str(place.site_id), site) for site, place in places.items()
               if expected(identity, Action.DEPOSIT_SLIP, site) is None}
    assert offered == allowed
    assert ('action="/equipe/bordereau"' in text) is bool(allowed)


def test_a_route_answers_the_same_for_htmx(app, factory, places):
    """htmx requests are refused with the same status (shown in the flash area)."""
    client = signed_in(app, staff_with(factory, places, "mixed"))
    for site, status in (("D", 404), ("A", 403)):
        url, form = request_for("staff.document_revoke", "POST", places[site])
        response = client.post(url, data=form, headers={"HX-Request": "true",
                                                        "X-CSRFToken": client.token})
        assert response.status_code == status
        assert response.headers["HX-Retarget"] == "#flash-area"




# --- screens offer only what may be done ---------------------------------------------------------

_FORM = re.compile(r'<form\b[^>]*\bmethod="post"[^>]*\baction="([^"]+)"', re.S)
_LINK = re.compile(r'<a\b[^>]*\bhref="(/equipe/[^"#?]*)')


def _site_of(places: dict[str, Place], arguments: dict[str, int]) -> str | None:
    owners = {}
    for site, place in places.items():
        owners.update({("session_id", place.session_id): site,
                       ("session_id", place.later_session_id): site,
                       ("booking_id", place.booking_id): site,
                       ("person_id", place.person_id): site,
                       ("person_id", place.walk_in_id): site,
                       ("session_id", place.course_session_id): site,
                       ("workshop_id", place.workshop_id): site,
                       ("course_id", place.course_id): site,
                       ("document_id", place.document_id): site,
                       ("help_id", place.accompaniment_id): site,
                       ("staff_id", place.colleague_id): site})
    sites = {owners[(name, value)] for name, value in arguments.items()
             if (name, value) in owners}
    assert len(sites) <= 1, arguments
    return sites.pop() if sites else None


@pytest.mark.parametrize("identity", IDENTITIES)
def test_screens_offer_only_the_actions_the_role_allows_there(app, factory, places, identity):
    """Every button (a POST form) and staff link on the staff screens leads to a route whose
    action the staff member may take at its object's site: nothing ends on "Accès refusé"."""
    client = signed_in(app, staff_with(factory, places, identity))
    adapter = app.url_map.bind("localhost")
    screens = ["/equipe/", "/equipe/documents", "/equipe/beneficiaires", "/equipe/catalogue",
               "/equipe/catalogue/parcours"]
    for place in places.values():
        screens += [f"/equipe/catalogue/ateliers/{place.workshop_id}",
                    f"/equipe/catalogue/parcours/{place.course_id}"]
        screens += [f"/equipe/seances/{place.session_id}/pointage",
                    f"/equipe/seances/{place.session_id}/pointage/personne/{place.booking_id}",
                    f"/equipe/seances/{place.session_id}/cloture",
                    f"/equipe/beneficiaires/{place.person_id}"]
        screens += [f"/equipe/accompagnements/{place.accompaniment_id}",
                    f"/equipe/accompagnements/{place.accompaniment_id}/modifier",
                    f"/equipe/accompagnements?site={place.site_id}"]
        screens += [f"/equipe/equipe/{place.colleague_id}"]
    screens += ["/equipe/equipe", "/equipe/equipe/inviter", "/equipe/journal"]
    offered = 0
    for screen in screens:
        page = client.get(screen)
        if page.status_code in (403, 404):
            continue
        text = page.get_data(as_text=True)
        targets = [(u, "POST") for u in _FORM.findall(text)] + \
                  [(u, "GET") for u in _LINK.findall(text)]
        for url, method in targets:
            endpoint, arguments = adapter.match(html_unescape(url).split("?")[0],
                                                method=method)
            if not endpoint.startswith("staff."):
                continue  # logging out, the language
            action = ROUTES[(endpoint, method)]
            site = _site_of(places, arguments)
            if action is None or site is None:
                continue
            offered += 1
            assert expected(identity, action, site) is None, (screen, endpoint, site)
    assert offered or identity == "nowhere"


# --- one answer policy (portal/htmx.py) ------------------------------------------------------


def test_htmx_actions_are_answered_in_place_or_with_hx_redirect_never_a_303(app, factory,
                                                                          places):
    """htmx follows a 303 silently and would swap a whole page into a fragment: every staff
    action answers htmx with its fragment (200, refusals too) or ``HX-Redirect`` (204)."""
    client = signed_in(app, staff_with(factory, places, "admin"))
    for (endpoint, method), action in ROUTES.items():
        if method != "POST" or (endpoint, method) in NETWORK_ADMIN_ONLY:
            continue
        url, form = request_for(endpoint, method, places["A"])
        response = client.post(url, data=form, headers={"HX-Request": "true",
                                                        "X-CSRFToken": client.token})
        assert response.status_code in (200, 204), (endpoint, response.status_code)
        if response.status_code == 204:
            assert response.headers["HX-Redirect"].startswith("/equipe/"), endpoint
        # A file (a PDF, a person's data) is the same file whoever asks: no fragment of it.
        is_file = response.headers.get("Content-Disposition", "").startswith("attachment") \
            or response.mimetype == "application/pdf"
        assert "HX-Request" in response.vary or is_file or response.status_code == 204, endpoint
        assert action is not None


# --- cheque programmes: no site; written by network administrators, cheques seen per site ------


@pytest.mark.parametrize("identity", IDENTITIES)
def test_programmes_are_written_by_network_admins_and_cheques_listed_per_site(
        app, factory, places, identity):
    programme = db.session.scalar(db.select(ChequeProgramme))
    for n, place in enumerate(places.values()):
        db.session.add(Cheque(programme_id=programme.id, number=f"987654321{n}",
                              value_cents=1000, site_id=place.site_id,
                              booking_id=place.booking_id, redeemed_at=programme.created_at))
    db.session.commit()
    client = signed_in(app, staff_with(factory, places, identity))
    network = identity == "network"
    before = _snapshot()
    form = {"name": "Renommé", "issuer": "D", "operator": "APTIC", "face_value": "10",
            "number_pattern": "[0-9]{10}", "validity_end": "2027-12-31", "grace_days": "31",
            "sample": "1234567890"}
    for endpoint, method in sorted(NETWORK_ADMIN_ONLY):
        with app.test_request_context():
            url = url_for(endpoint, programme_id=programme.id) \
                if endpoint == "staff.programme_edit" else url_for(endpoint)
        if network:
            continue
        assert ask(client, method, url, form).status_code == 403, (endpoint, method)
        if method == "POST":
            response = client.post(url, data=form, headers={"HX-Request": "true",
                                                            "X-CSRFToken": client.token})
            assert response.status_code == 403, endpoint
    assert _snapshot() == before
    if network:
        for htmx in (False, True):
            response = client.post("/equipe/cheques/essai", data={**form, "csrf_token":
                                                                  client.token},
                                   headers={"HX-Request": "true"} if htmx else {})
            assert response.status_code == 200
        response = client.post(f"/equipe/cheques/{programme.id}/modifier",
                               data={**form, "csrf_token": client.token},
                               headers={"HX-Request": "true"})
        assert response.status_code == 204 and response.headers["HX-Redirect"]
    sees = {site for site in SITES if expected(identity, Action.SEE_CHEQUES, site) is None}
    listing = client.get("/equipe/cheques")
    detail = client.get(f"/equipe/cheques/{programme.id}")
    if not sees:
        assert (listing.status_code, detail.status_code) == (403, 403)
        return
    assert (listing.status_code, detail.status_code) == (200, 200)
    text = detail.get_data(as_text=True)
    for n, site in enumerate(places):
        assert (f"987654321{n}" in text) is (site in sees), (identity, site)
    assert ("/equipe/cheques/nouveau" in listing.get_data(as_text=True)) is network
