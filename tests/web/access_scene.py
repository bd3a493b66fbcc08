"""The scene of the access matrix: objects at four sites A–D, and the request of each route.

Each site has a session of today (started ten minutes ago) with its person booked and an issued
certificate, a later session, a course, a walk-in, an individual help, a receptionist colleague
(logged in once elsewhere). The person of site A is "beneficiary A" of ``access_table.py``, the
person of site B "beneficiary B".
"""

from __future__ import annotations

import dataclasses
import io
import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from PIL import Image
from pypdf import PdfWriter

from portal.extensions import db
from portal.models import ChequeProgramme, Course, Document, Site, WorkshopSession
from portal.models.bookings import Accompaniment, AccompanimentTheme
from portal.models.sessions import LoginSession
from portal.models.vocab import DocumentKind, StaffRole, Theme
from portal.services import login_sessions
from tests.web.access_table import SITES


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
    login_id: str = ""  # of `person`
    programme_id: int = 0  # the cheque programme (of no site)
    accompaniment_id: int = 0  # individual help of `person`, recorded by a colleague
    colleague_id: int = 0  # a receptionist of the site (the team's routes)
    colleague_session_id: int = 0  # a login session of the colleague


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_places(factory: Any, now: Any) -> dict[str, Place]:
    programme = ChequeProgramme(name="APTIC", issuer="Département", operator="APTIC",
                                number_pattern=r"[0-9]{10}", validity_end=date(2026, 12, 31))
    db.session.add(programme)
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
        accompaniment = Accompaniment(site_id=site.id, beneficiary_id=person.id,
                                      started_at=now, duration_minutes=30,
                                      theme_links=[AccompanimentTheme(theme=Theme.EMAIL)])
        db.session.add_all([document, accompaniment])
        db.session.commit()
        made[name] = Place(site.id, session.id, later.id, course.id, in_course.id, workshop.id,
                           booking.id, person.id, walk_in.id, document.id, title,
                           person.last_name, number, login_id=person.login_id,
                           programme_id=programme.id, accompaniment_id=accompaniment.id)
    for name, place in made.items():
        colleague = factory.staff(db.session.get(Site, place.site_id), StaffRole.RECEPTION,
                                  full_name=f"Collègue du lieu {name}")
        login_sessions.start(colleague, idle_timeout=timedelta(hours=1),
                             absolute_lifetime=timedelta(hours=8))
        db.session.commit()
        session_id = db.session.scalar(db.select(LoginSession.id).filter_by(
            staff_id=colleague.id))
        made[name] = dataclasses.replace(place, colleague_id=colleague.id,
                                         colleague_session_id=session_id)
    return made


_numbers = itertools.count(6207261100)


def requests_for(endpoint: str, method: str, place: Place) -> list[tuple[str, dict[str, Any]]]:
    """The URL and form of the route for the objects of one place (one per rule of the
    endpoint: ``me.my_data`` has two; an export is asked as CSV and as XLSX)."""
    arguments = {"session_id": place.session_id, "booking_id": place.booking_id,
                 "person_id": place.person_id, "document_id": place.document_id,
                 "site_id": place.site_id, "workshop_id": place.workshop_id,
                 "course_id": place.course_id, "staff_id": place.colleague_id,
                 "help_id": place.accompaniment_id, "programme_id": place.programme_id,
                 "token": "jeton-inconnu", "code": "CODEINCONNU",
                 "filename": "css/portal.css"}
    if endpoint == "staff.course_remove_session":
        arguments["session_id"] = place.course_session_id
    if endpoint == "account.end_session":
        arguments["session_id"] = place.colleague_session_id
    when = {"room": "Salle de la matrice", "start": "14:00", "end": "16:00", "capacity": "6"}
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
        "staff.site_logo": {"logo": (small_png(), "logo.png")},
        "staff.site_signature": {"signature": (small_png(), "signature.jpg")},
        "staff.person_new": {"first_name": "Nouvelle", "site": str(place.site_id)},
        "staff.person_edit": {"first_name": "Renommée", "site": str(place.site_id)},
        "staff.person_merge": {"other_id": str(place.walk_in_id)},
        "staff.walk_in_new": {"first_name": "Inconnue", "last_name": "À la porte"},
        "staff.person_anonymise": {"confirm": "1"},
        "public.set_language": {"lang": "fr", "next": "/"},
    }.get(endpoint, {}) if method == "POST" else {}
    urls = []
    for rule in current_app.url_map.iter_rules(endpoint):
        if method in (rule.methods or ()):
            values = {**arguments, **query}
            built = rule.build({k: v for k, v in values.items() if k in rule.arguments},
                               append_unknown=False)
            assert built is not None, endpoint
            rest = {k: v for k, v in query.items() if k not in rule.arguments}
            urls.append(built[1] + ("?" + urlencode(rest) if rest else ""))
    if endpoint == "staff.export_download":  # the spreadsheet too, not only the CSV
        urls += [url.replace("presences.csv", "presences.xlsx") for url in urls]
    return [(url, form) for url in urls]


def request_for(endpoint: str, method: str, place: Place) -> tuple[str, dict[str, Any]]:
    return requests_for(endpoint, method, place)[0]


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
