"""Personal data: everything held on a person, anonymisation leaving nothing personal in any
table (the audit trail included) while financial and statistical rows stay, the retention
purge. No HTTP but the public verification page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, select

from portal import clock
from portal.extensions import db
from portal.folding import fold
from portal.models import (
    Accompaniment,
    AuditEvent,
    Beneficiary,
    Booking,
    Cheque,
    ChequeProgramme,
    Document,
    LoginFailure,
    LoginSession,
    OutboxMessage,
)
from portal.models.vocab import BookingStatus, Gender, MessageChannel, StaffRole
from portal.services import audit, documents, login_sessions, personal_data, registration
from portal.services.accounts import account_key
from portal.services.audit import Actor
from portal.services.errors import NotAllowed, NotFound, ValidationFailed
from tests.pdf.helpers import pdf_text
from tests.services.scene import NOW, programme

pytestmark = pytest.mark.usefixtures("frozen")

VERIFY = "https://portail.example.fr/v/{code}"
FIRST, LAST = "Hélène", "Durandière"
PHONE, EMAIL = "06 12 34 56 78", "helene.durandiere@example.org"
#: every form the person's identity may take in a column (as typed, folded, digits).
TRACES = [FIRST, LAST, "Durandiere", "durandiere", "06 12 34 56 78", "0612345678",
          "+33612345678", "612345678", EMAIL, "helene.durandiere",
          "07 11 22 33 44", "0711223344", "203.0.113.7"]


def traces_left() -> list[str]:
    """Every text or JSON value of every table that still holds a trace of the person."""
    found = []
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                text = (json.dumps(value, ensure_ascii=False) if isinstance(column.type, JSON)
                        else value) or ""
                hits = [t for t in TRACES if t.casefold() in str(text).casefold()
                        or fold(t) in fold(str(text))]
                if hits:
                    found.append(f"{table.name}.{column.name}: {hits}")
    return found


@pytest.fixture
def admin(factory, site):
    return factory.staff(site, StaffRole.ADMIN, full_name="Nadia Admin")


@pytest.fixture
def known(factory, site, admin, actor) -> dict[str, Any]:
    """Hélène with one record of every kind: booking with attendance and a certificate, a
    cheque, individual help, messages, a login session, a merged record, an edit audited."""
    person = factory.beneficiary(site, first_name=FIRST, last_name="D", phone="06 00 00 00 00",
                                 email=EMAIL, birth_year=1954, gender=Gender.FEMALE,
                                 commune="Méricourt", postcode="62680",
                                 staff_notes="Préfère le matin", calendar_token_hash="c" * 64)
    data = registration.PersonInput.of(person)
    data.phone = "07 11 22 33 44"  # corrected again below: the trail keeps a former phone
    registration.update(person, data, actor=Actor.of(admin))
    data.phone, data.last_name = PHONE, LAST  # the audit trail holds the new values
    registration.update(person, data, actor=Actor.of(admin))
    audit.record(Actor.of(person, "203.0.113.7"), "login.succeeded",
                 object_type="beneficiary", object_id=person.id)
    audit.record(Actor.anonymous("203.0.113.7"), "login.failed", object_type="beneficiary",
                 object_id=person.id)
    db.session.add(LoginFailure(account_key=account_key(person.login_id), failed_at=clock.now()))
    workshop = factory.workshop(title="Créer son adresse e-mail", grants_attestation=True)
    past = factory.session(site, workshop, starts_in=timedelta(days=-3))
    booking = factory.booking(past, person, BookingStatus.PRESENT)
    aptic = db.session.scalar(select(ChequeProgramme)) or programme()
    cheque = Cheque(programme_id=aptic.id, number="2026600001", value_cents=1000,
                    redeemed_at=NOW, booking_id=booking.id, site_id=site.id)
    help_ = Accompaniment(site_id=site.id, beneficiary_id=person.id, started_at=NOW,
                          duration_minutes=30, summary="Démarche CAF",
                          notes=f"{FIRST} a perdu son mot de passe", gender=Gender.FEMALE)
    db.session.add_all([cheque, help_, OutboxMessage(
        channel=MessageChannel.EMAIL, recipient=EMAIL, subject="Votre inscription",
        body=f"Bonjour {FIRST},", topic="booking_confirmed", beneficiary_id=person.id)])
    twin = factory.beneficiary(site, first_name="Hélène", last_name="Durandière",
                               email="helene.d@example.org",
                               merged_into_id=person.id, is_active=False)
    db.session.commit()
    login_sessions.start(person, idle_timeout=timedelta(hours=1),
                         absolute_lifetime=timedelta(hours=8))
    db.session.commit()
    certificate = documents.issue_certificate(booking, actor=actor, verify_url=VERIFY)
    return {"person": person, "booking": booking, "cheque": cheque, "help": help_,
            "certificate": certificate, "twin": twin}


def test_gather_holds_every_kind_of_record(known):
    data = personal_data.gather(known["person"])
    assert data["identity"]["first_name"] == FIRST and data["identity"]["last_name"] == LAST
    assert data["identity"]["birth_year"] == 1954
    assert data["contact"]["phone"] == PHONE and data["contact"]["email"] == EMAIL
    assert data["preferences"]["calendar_link"] is True
    assert data["notes"]["staff_notes"] == "Préfère le matin"
    [booking] = data["bookings"]
    assert booking["workshop"] == "Créer son adresse e-mail" and booking["status"] == "Présent"
    assert [c["number"] for c in data["cheques"]] == ["2026600001"]
    assert [d["number"] for d in data["documents"]] == [known["certificate"].number]
    assert "pdf" not in data["documents"][0]
    assert data["individual_help"][0]["summary"] == "Démarche CAF"
    assert data["messages"][0]["recipient"] == EMAIL
    assert len(data["login_sessions"]) == 1
    assert [m["id"] for m in data["merged_records"]] == [known["twin"].id]
    assert {"person.edited", "document.issued"} <= {e["action"] for e in data["audit_events"]} \
        or "person.edited" in {e["action"] for e in data["audit_events"]}
    json.loads(personal_data.as_json(data))


def test_anonymise_leaves_nothing_personal_and_keeps_the_records(known, admin, client):
    person = known["person"]
    assert traces_left()  # the scan sees the person before
    counts = {model: db.session.scalar(select(db.func.count()).select_from(model))
              for model in (Booking, Cheque, Accompaniment, Document, OutboxMessage)}

    old_account = account_key(person.login_id)

    assert personal_data.anonymise(person, Actor.of(admin), "request") is True

    assert traces_left() == []
    # Failed logins name the old login id (not a trace the scan looks for): gone as well.
    assert not db.session.scalar(select(db.func.count()).select_from(LoginFailure).where(
        LoginFailure.account_key == old_account))
    assert counts == {model: db.session.scalar(select(db.func.count()).select_from(model))
                      for model in counts}
    person = db.session.get(Beneficiary, person.id)
    assert person.first_name.startswith("Personne anonymisée ") and person.is_anonymised
    assert not person.is_active and person.password_hash is None
    assert person.calendar_token_hash is None and person.phone == person.email == ""
    assert person.gender is Gender.FEMALE and person.birth_year == 1954
    assert person.commune == "Méricourt"
    assert db.session.get(Beneficiary, known["twin"].id).is_anonymised  # merged into hers
    assert db.session.get(Booking, known["booking"].id).status is BookingStatus.PRESENT
    assert db.session.get(Cheque, known["cheque"].id).value_cents == 1000
    assert db.session.get(Accompaniment, known["help"].id).summary == "Démarche CAF"
    assert db.session.scalar(select(db.func.count(LoginSession.id)).filter_by(
        beneficiary_id=person.id)) == 0
    # The certificate keeps its number and code; its stored PDF is rendered again from the
    # pseudonymised snapshot, and no stored PDF holds the name.
    certificate = db.session.get(Document, known["certificate"].id)
    assert not certificate.is_pending and certificate.number == known["certificate"].number
    printed = " ".join(pdf_text(certificate.pdf, layout=False).split())
    assert "Personne anonymisée" in printed
    assert not [t for t in TRACES if t.casefold() in printed.casefold()]
    assert "Créer son adresse e-mail" in printed
    # The certificate still verifies, without the name.
    page = client.get(f"/v/{known['certificate'].verification_code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Personne anonymisée" in html and FIRST not in html
    # Audited, the audit trail's redaction too; idempotent.
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == str(person.id), AuditEvent.object_type == "beneficiary")))
    assert "person.anonymise" in actions and "audit.redacted" in actions
    assert personal_data.anonymise(person, Actor.of(admin)) is False
    assert actions == list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == str(person.id), AuditEvent.object_type == "beneficiary")))


def test_the_audit_trail_accepts_only_the_marked_redaction(known):
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id))
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(db.update(AuditEvent).where(AuditEvent.id == event.id)
                           .values(details={"changed": True}))
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(db.update(AuditEvent).where(AuditEvent.id == event.id)
                           .values(action="other", details={"redacted": True}))
    db.session.rollback()


def test_only_an_admin_of_a_site_where_known_may_anonymise(known, factory, site, staff):
    person = known["person"]
    elsewhere = factory.staff(factory.site(), StaffRole.ADMIN)
    for someone, error in ((staff, NotAllowed), (elsewhere, NotFound)):
        with pytest.raises(error):
            personal_data.anonymise_on_request(someone, person, typed=FIRST, ticked=False,
                                               actor=Actor.of(someone))
    admin = factory.staff(site, StaffRole.ADMIN)
    with pytest.raises(ValidationFailed):
        personal_data.anonymise_on_request(admin, person, typed="Hélèn", ticked=False,
                                           actor=Actor.of(admin))
    assert not db.session.get(Beneficiary, person.id).is_anonymised
    personal_data.anonymise_on_request(admin, person, typed="hélène", ticked=False,
                                       actor=Actor.of(admin))
    assert db.session.get(Beneficiary, person.id).is_anonymised


def test_purge_anonymises_exactly_the_inactive(factory, site):
    other = factory.site(retention_months=24)
    clock.freeze(NOW - timedelta(days=500))
    old = factory.beneficiary(site)
    old_at_long_site = factory.beneficiary(other)
    old_but_came_back = factory.beneficiary(site)
    clock.freeze(NOW)
    recent = factory.beneficiary(site)
    came = factory.session(site, starts_in=timedelta(days=-30))
    factory.booking(came, old_but_came_back, BookingStatus.PRESENT)
    audit_before = db.session.scalar(select(db.func.count(AuditEvent.id)))

    dry = personal_data.purge(dry_run=True)

    assert dry.due == [old.id] and dry.anonymised == []
    assert db.session.scalar(select(db.func.count(AuditEvent.id))) == audit_before
    assert not db.session.get(Beneficiary, old.id).is_anonymised

    report = personal_data.purge()

    assert report.anonymised == [old.id]
    anonymised = {p.id for p in db.session.scalars(
        select(Beneficiary).where(Beneficiary.anonymised_at.is_not(None)))}
    assert anonymised == {old.id}
    assert recent.id not in anonymised and old_at_long_site.id not in anonymised
    assert personal_data.purge().due == []
    assert personal_data.purge().anonymised == []


def test_retention_shown_is_the_sites_or_the_default(factory, site):
    assert personal_data.retention_months_shown() == 12
    site.retention_months = 18
    db.session.commit()
    assert personal_data.retention_months_shown() == 18
    other = factory.site()
    assert personal_data.retention_months_shown() is None  # sites differ: each is listed
    assert dict(personal_data.retention_by_site()) == {site.name: 18, other.name: 12}


@pytest.mark.parametrize(("typed", "saved"), [("5", None), ("61", None), ("douze", None),
                                              ("6", 6), ("60", 60)])
def test_the_retention_setting_is_checked(site, admin, typed, saved):
    from portal.services import sites
    from portal.services.sites import SiteInput

    data = SiteInput.of(site)
    data.retention_months = typed
    if saved is None:
        with pytest.raises(ValidationFailed) as refused:
            sites.update(site, data, actor=Actor.of(admin))
        assert "retention_months" in refused.value.details["fields"]
        return
    assert "retention_months" in sites.update(site, data, actor=Actor.of(admin))
    assert db.session.get(type(site), site.id).retention_months == saved


def test_anonymising_erases_the_person_and_nothing_of_anyone_else(factory, admin, actor):
    """Names are matched whole, or as the full name: anonymising Jean Martin leaves the
    "Cyberbase de Saint-Martin" on his certificate and Marie Martin's row of the attendance
    sheet alone."""
    site = factory.site(code="STM", name="Cyberbase de Saint-Martin", city="Saint-Martin")
    boss = factory.staff(site, StaffRole.ADMIN, full_name="Paul Admin")
    jean = factory.beneficiary(site, first_name="Jean", last_name="Martin")
    marie = factory.beneficiary(site, first_name="Marie", last_name="Martin")
    workshop = factory.workshop(title="Jeans et tablettes", grants_attestation=True)
    past = factory.session(site, workshop, starts_in=timedelta(days=-2))
    booking = factory.booking(past, jean, BookingStatus.PRESENT)
    factory.booking(past, marie, BookingStatus.PRESENT)
    certificate = documents.issue_certificate(booking, actor=Actor.of(boss), verify_url=VERIFY)
    sheet = documents.issue_attendance_sheet(past, actor=Actor.of(boss))

    personal_data.anonymise(jean, Actor.of(boss))

    db.session.expire_all()
    kept = db.session.get(Document, certificate.id)
    assert "Cyberbase de Saint-Martin" in json.dumps(kept.snapshot, ensure_ascii=False)
    printed = pdf_text(kept.pdf, layout=False)
    assert "Saint-Martin" in " ".join(printed.split()) and "Jean Martin" not in printed
    names = [row["name"] for row in db.session.get(Document, sheet.id).snapshot["rows"]]
    assert "Marie Martin" in names and "Jean Martin" not in names
    assert db.session.get(Beneficiary, marie.id).display_name == "Marie Martin"
