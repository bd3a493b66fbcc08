"""The scene the sweep attacks: two working sites (and a closed one), their staff in every
role, beneficiaries with bookings of every status, sessions of today, past and future (one
closed, one reopened, one cancelled, a course), cheques, receipts and documents of each kind.

Rows come from the test factories; what the portal builds in several steps (cheques and
their receipt, closing and its attestations, a revoked certificate, login cards, the deposit
slip, a calendar feed) comes from the services themselves, so it is exactly what they write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import Flask

from portal import clock
from portal.extensions import db
from portal.models import (
    Accompaniment,
    AccompanimentTheme,
    Beneficiary,
    Booking,
    ChequeProgramme,
    Course,
    Document,
    Site,
    StaffMember,
    StaffSiteRole,
    Workshop,
    WorkshopSession,
    WorkshopTheme,
)
from portal.models.vocab import (
    BookingSource,
    BookingStatus,
    CompletionRule,
    Level,
    SessionStatus,
    StaffRole,
    Theme,
)
from portal.services import accounts, calendar, closing, documents, team, vouchers
from portal.services.audit import Actor
from tests.conftest import PASSWORD, Factory
from tests.hostile.discovery import Values

#: Thursday 26 November 2026, 10:00 in Paris: "today" never depends on when the suite runs.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
VERIFY = "https://portail.example.fr/v/{code}"

#: Who sends the requests. ``first_login`` is someone between the card code and a password.
ROLES = (
    "anonymous",
    "first_login",
    "beneficiary_a",
    "beneficiary_b",
    "reception_a",
    "animateur_b",
    "reception_a_animateur_b",
    "admin_a",
    "network_admin",
)


@dataclass
class Scene:
    #: the account of each role (anonymous has none).
    principals: dict[str, StaffMember | Beneficiary] = field(default_factory=dict)
    card_code: str = ""
    #: real values of each route argument: the richest first, then every other row (both
    #: sites), in the order they were made.
    pools: dict[str, list[str]] = field(default_factory=dict)
    #: (session id, booking id) of each booking, for routes that take both.
    pairs: list[tuple[str, str]] = field(default_factory=list)
    #: what no page shows but a person types: identifiers, passwords, the card code.
    secrets: Values = field(default_factory=dict)
    #: a few rows the harness's own tests use, by name.
    ids: dict[str, int] = field(default_factory=dict)


def build(app: Flask, factory: Factory) -> Scene:
    """Make the scene and leave the clock frozen at ``NOW`` (the caller unfreezes it)."""
    clock.freeze(NOW)
    with app.test_request_context():
        return _build(factory)


def _build(f: Factory) -> Scene:
    scene = Scene()
    a = f.site(code="MER", name="Cyberbase de Méricourt", signatory_name="Claire Martin",
               signatory_role="Animatrice", aptic_accreditation="APTIC-62-0042")
    b = f.site(code="LEN", name="Espace numérique de Lens", phone="")
    f.site(code="OLD", name="Ancien espace", is_active=False)

    # --- staff: one per role of the sweep, and the animateur who runs site A's sessions
    animateur_a = f.staff(a, StaffRole.ANIMATEUR, full_name="Claire Martin")
    staff = {
        "reception_a": f.staff(a, StaffRole.RECEPTION, full_name="Sandrine Lefebvre"),
        "animateur_b": f.staff(b, StaffRole.ANIMATEUR, full_name="Julien Lemaire"),
        "admin_a": f.staff(a, StaffRole.ADMIN, full_name="Nadia Haddad"),
        "network_admin": f.staff(None, full_name="Thomas Vasseur", is_network_admin=True),
    }
    mixed = f.staff(a, StaffRole.RECEPTION, full_name="Yasmine Benali")
    mixed.roles.append(StaffSiteRole(site_id=b.id, role=StaffRole.ANIMATEUR))
    db.session.commit()
    staff["reception_a_animateur_b"] = mixed
    by_a, by_b = Actor.of(animateur_a), Actor.of(staff["animateur_b"])

    # --- beneficiaries
    odile = f.beneficiary(a, first_name="Odile", last_name="Lefebvre", phone="0612345678")
    karim = f.beneficiary(b, first_name="Karim", last_name="Benali", email="karim@example.org")
    kevin = f.beneficiary(a, first_name="Kévin", last_name="Dupont", password_hash=None)
    martine = f.beneficiary(a, first_name="Martine", last_name="Lemoine", birth_year=1958)
    jean = f.beneficiary(a, first_name="Jean", last_name="Petit")
    fatima = f.beneficiary(a, first_name="Fatima", last_name="Zahra")
    paul = f.beneficiary(a, first_name="Paul", last_name="Durand", has_no_phone=True)
    lucie = f.beneficiary(a, first_name="Lucie", last_name="Morel")
    ana = f.beneficiary(a, first_name="Ana", last_name="Silva")
    f.beneficiary(None, first_name="Sans", last_name="Lieu")
    f.beneficiary(a, first_name="Anonyme", last_name="", password_hash=None, is_active=False,
                  anonymised_at=NOW - timedelta(days=40))
    leon = f.beneficiary(b, first_name="Léon", last_name="Roux")

    # --- catalogue
    tablet = f.workshop(title="Premiers pas sur la tablette", price_cheques=2,
                        grants_attestation=True, objectives="Allumer la tablette\nInstaller "
                        "une application", description="Pour débuter, à votre rythme.")
    tablet.theme_links.append(WorkshopTheme(theme=Theme.EQUIPMENT_HANDLING))
    internet = f.workshop(title="Découvrir internet", price_cheques=0, level=Level.BEGINNER)
    internet.theme_links.append(WorkshopTheme(theme=Theme.BROWSING))
    mail = f.workshop(title="Mes e-mails", price_cheques=1, level=Level.INTERMEDIATE)
    fablab = f.workshop(title="Badges au Fab Lab", site_id=b.id, price_cheques=1,
                        grants_attestation=True)
    db.session.commit()
    course = Course(site_id=a.id, title="Parcours e-mail",
                    completion_rule=CompletionRule.ALL_SESSIONS,
                    objectives="Envoyer un e-mail avec une pièce jointe")
    db.session.add(course)
    db.session.commit()

    def session(site, workshop, starts_in, **fields):  # type: ignore[no-untyped-def]
        return f.session(site, workshop, starts_in=starts_in, animator_id=animateur_a.id
                         if site is a else staff["animateur_b"].id, **fields)

    def book(s, person, status=BookingStatus.BOOKED, **fields):  # type: ignore[no-untyped-def]
        if status is BookingStatus.PRESENT:
            fields.setdefault("checked_in_at", clock.now())
        if status is BookingStatus.CANCELLED:
            fields.setdefault("cancelled_at", clock.now())
        return f.booking(s, person, status, **fields)

    # --- cheque programmes; in October, a session whose cheque goes on October's deposit slip
    db.session.add(ChequeProgramme(name="Pass Numérique APTIC 62 – 2026",
                                   issuer="Département du Pas-de-Calais", operator="APTIC",
                                   number_pattern=r"[0-9]{10}", validity_end=date(2026, 12, 31)))
    db.session.add(ChequeProgramme(name="Pass Numérique 2024", issuer="Région", operator="Autre",
                                   number_pattern=r"[A-Z]{2}[0-9]{6}",
                                   validity_end=date(2024, 12, 31), is_active=False))
    db.session.commit()
    clock.freeze(datetime(2026, 10, 15, 12, 0, tzinfo=UTC))
    october = session(a, tablet, timedelta(minutes=-10), capacity=6)
    jean_october = book(october, jean, BookingStatus.PRESENT)
    vouchers.redeem_cheques(jean_october, "6207261001", actor=by_a)
    clock.freeze(NOW)

    # --- site A, today: check-in open, full, every status on the roster
    today = session(a, tablet, timedelta(minutes=-10), capacity=3, room="Salle 1")
    odile_today = book(today, odile)
    martine_today = book(today, martine, BookingStatus.PRESENT)
    book(today, ana, source=BookingSource.DESK, created_by_id=staff["reception_a"].id)
    book(today, jean, BookingStatus.ABSENT)
    book(today, fatima, BookingStatus.EXCUSED)
    book(today, paul, BookingStatus.CANCELLED)
    book(today, lucie, BookingStatus.WAITLISTED, waitlist_position=1)
    vouchers.redeem_cheques(martine_today, "6207261103", actor=by_a)  # 1 of 2: 1 still owed
    later = session(a, internet, timedelta(hours=5), capacity=10)
    book(later, martine)
    soon = session(a, internet, timedelta(hours=1), capacity=10)  # too late to cancel online
    book(soon, odile)

    # --- site A, past: one still open, one closed (attestations), one closed then reopened
    past = session(a, tablet, timedelta(days=-3), capacity=8)
    odile_past = book(past, odile, BookingStatus.PRESENT)
    book(past, jean)
    closed = session(a, tablet, timedelta(days=-7), capacity=8)
    book(closed, odile, BookingStatus.PRESENT)
    book(closed, martine, BookingStatus.PRESENT)
    book(closed, jean)
    book(closed, lucie, BookingStatus.WAITLISTED, waitlist_position=1)
    closing.close_session(closed, actor=by_a, verify_url=VERIFY)
    reopened = session(a, internet, timedelta(days=-2), capacity=8)
    book(reopened, fatima, BookingStatus.PRESENT)
    book(reopened, paul)
    closing.close_session(reopened, actor=by_a, verify_url=VERIFY)
    closing.reopen_session(reopened, "Présence de Paul oubliée", actor=Actor.of(staff["admin_a"]))

    # --- site A, future: bookable, full with a waiting list, cancelled by the centre, a course
    future = session(a, internet, timedelta(days=5), capacity=8)
    odile_future = book(future, odile)
    book(future, jean)
    full = session(a, tablet, timedelta(days=3), capacity=1)
    book(full, martine)
    book(full, odile, BookingStatus.WAITLISTED, waitlist_position=1)
    cancelled = session(a, internet, timedelta(days=4), capacity=8,
                        status=SessionStatus.CANCELLED, cancelled_at=NOW,
                        cancelled_reason="Animatrice malade")
    book(cancelled, odile, BookingStatus.CANCELLED)
    for days in (7, 14):
        part = session(a, mail, timedelta(days=days), capacity=6, course_id=course.id)
        book(part, martine)

    # --- site B
    b_today = session(b, fablab, timedelta(minutes=-30), capacity=5)
    book(b_today, karim)
    book(b_today, leon, BookingStatus.PRESENT)
    b_future = session(b, fablab, timedelta(days=2), capacity=5)
    book(b_future, karim)
    b_closed = session(b, fablab, timedelta(days=-5), capacity=5)
    book(b_closed, karim, BookingStatus.PRESENT)
    closing.close_session(b_closed, actor=by_b, verify_url=VERIFY)

    # --- documents of each kind, a revoked one, a card code and a calendar feed
    revoked = documents.issue_certificate(odile_past, actor=by_a, verify_url=VERIFY)
    documents.revoke(revoked, "Erreur de saisie", actor=by_a)
    documents.issue_certificate(odile_past, actor=by_a, verify_url=VERIFY)
    documents.issue_login_card(paul, a, actor=by_a, portal_address="portail.example.fr",
                               code_validity=timedelta(days=30))
    documents.issue_deposit_slip(a, 2026, 10, actor=by_a)
    scene.card_code = accounts.issue_first_login_code(kevin, validity=timedelta(days=30),
                                                      actor=by_a)
    feed_token = calendar.create_feed_token(odile, actor=Actor.of(odile))

    # --- individual help: Odile's at A (by the animateur), an unnamed person's at B
    for site_id, author, person_id in ((a.id, animateur_a.id, odile.id),
                                       (b.id, staff["animateur_b"].id, None)):
        db.session.add(Accompaniment(site_id=site_id, staff_id=author, beneficiary_id=person_id,
                                     started_at=NOW - timedelta(hours=3), duration_minutes=30,
                                     summary="E-mail",
                                     theme_links=[AccompanimentTheme(theme=Theme.EMAIL)]))
    db.session.commit()
    invited = team.invite(team.InvitationInput(email="nouvelle@example.org",
                                               full_name="Inès Nouvelle", site=str(a.id),
                                               role="reception"),
                          actor=Actor.of(staff["admin_a"]))
    assert invited.token and invited.code

    scene.principals = {"first_login": kevin, "beneficiary_a": odile, "beneficiary_b": karim,
                        **staff}
    new_password = ["des tulipes rouges au bord du canal"]
    scene.secrets = {
        "auth.login": {"form": {
            "identifier": [odile.login_id, staff["admin_a"].email, kevin.login_id],
            "password": [PASSWORD, scene.card_code]}},
        "auth.first_login": {"form": {"new_password": new_password,
                                      "confirmation": new_password}},
        "auth.change_password": {"form": {"current_password": [PASSWORD],
                                          "new_password": new_password,
                                          "confirmation": new_password}},
        "auth.invitation": {"form": {"new_password": new_password,
                                     "confirmation": new_password}},
        "auth.invitation_code": {"form": {"code": [invited.code],
                                          "new_password": new_password,
                                          "confirmation": new_password}},
    }
    scene.pools = _pools(feed_token, today, odile)
    scene.pools["token"].append(invited.token)
    scene.pools["staff_id"] = _ids(StaffMember, staff["reception_a"].id, invited.staff.id)
    scene.ids = {"odile today": odile_today.id, "odile future": odile_future.id}
    scene.pairs = [(str(s), str(bk)) for bk, s in db.session.execute(
        db.select(Booking.id, Booking.session_id).order_by(Booking.session_id != today.id,
                                                           Booking.id))]
    return scene


def _ids(model: type, *first: int) -> list[str]:
    ids = list(db.session.scalars(db.select(model.id).order_by(model.id)))  # type: ignore[attr-defined]
    return [str(i) for i in (*first, *(i for i in ids if i not in first))]


def _pools(feed_token: str, today: WorkshopSession, odile: Beneficiary) -> dict[str, list[str]]:
    certificate = db.session.scalar(db.select(Document).where(
        Document.verification_code.is_not(None), Document.revoked_at.is_(None))
        .order_by(Document.id))
    code = certificate.verification_code if certificate else "ABCD2345EFGH"
    odile_booking = db.session.scalar(db.select(Booking.id).filter_by(session_id=today.id,
                                                                      beneficiary_id=odile.id))
    return {
        "session_id": _ids(WorkshopSession, today.id),
        "booking_id": _ids(Booking, odile_booking),
        "person_id": _ids(Beneficiary, odile.id),
        "document_id": _ids(Document),
        "course_id": _ids(Course),
        "site_id": _ids(Site),
        "workshop_id": _ids(Workshop),
        "help_id": _ids(Accompaniment),
        "programme_id": _ids(ChequeProgramme),
        "token": [feed_token],
        "code": [code, f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()],
        "filename": ["css/portal.css", "js/portal.js", "img/logo.svg"],
        "kind": ["presences", "activites", "cheques", "personnes"],
        "fmt": ["csv", "xlsx"],
    }
