"""Issuing documents: gap-free numbers, stored bytes, certificates, revocation."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import flask
import pytest
from flask_babel import get_locale, gettext

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, Course, Document, Site
from portal.models.vocab import BookingStatus, DocumentKind
from portal.services import documents, vouchers
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from tests.pdf.helpers import flat, pdf_text
from tests.services.scene import fresh, programme

VERIFY = "https://portail.example.fr/v/{code}"


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt", city="Méricourt",
                        signatory_name="Nathalie Caron", signatory_role="Directrice")


@pytest.fixture
def attended(factory, site):
    workshop = factory.workshop(title="Créer son adresse e-mail", grants_attestation=True,
                                objectives="Créer une adresse\nEnvoyer un message")
    session = factory.session(site, workshop)
    return factory.booking(session, factory.beneficiary(site, first_name="Martine",
                                                        last_name="Delannoy"),
                           status=BookingStatus.PRESENT)


def test_certificate_is_numbered_stored_and_verifiable(attended, factory, site):
    staff = factory.staff(site)
    document = documents.issue_certificate(attended, actor=Actor.of(staff), verify_url=VERIFY)
    assert document.number.startswith("ATT-") and document.number.endswith("-MER-000001")
    assert document.pdf.startswith(b"%PDF-")
    assert document.sha256 == hashlib.sha256(document.pdf).hexdigest()
    assert len(document.verification_code) == 12
    assert document.snapshot["verify_url"] == VERIFY.format(code=document.verification_code)
    assert documents.find_by_code(document.snapshot["code_display"].lower()) == document
    view = documents.verification_view(document)
    assert view["person"] == "Martine D." and view["status"] == "valid"
    assert "Delannoy" not in str(view)
    assert db.session.scalars(db.select(AuditEvent).filter_by(action="document.issued")).one()


def test_issuing_twice_returns_the_same_certificate(attended, site):
    first = documents.issue_certificate(attended, actor=Actor.system(), verify_url=VERIFY)
    again = documents.issue_certificate(attended, actor=Actor.system(), verify_url=VERIFY)
    assert first.id == again.id


def test_certificates_only_for_people_present(factory, site):
    workshop = factory.workshop(grants_attestation=True)
    booking = factory.booking(factory.session(site, workshop), factory.beneficiary(site),
                              status=BookingStatus.ABSENT)
    with pytest.raises(ServiceError) as error:
        documents.issue_certificate(booking, actor=Actor.system(), verify_url=VERIFY)
    assert error.value.code == "not_present"


def test_no_certificate_when_the_workshop_grants_none(factory, site):
    booking = factory.booking(factory.session(site, factory.workshop(grants_attestation=False)),
                              factory.beneficiary(site), status=BookingStatus.PRESENT)
    with pytest.raises(ServiceError) as error:
        documents.issue_certificate(booking, actor=Actor.system(), verify_url=VERIFY)
    assert error.value.code == "no_attestation"


def test_revocation_keeps_the_bytes_and_needs_a_reason(attended, factory, site):
    staff = factory.staff(site)
    document = documents.issue_certificate(attended, actor=Actor.system(), verify_url=VERIFY)
    stored = document.pdf
    with pytest.raises(ServiceError) as error:
        documents.revoke(document, "  ", actor=Actor.of(staff))
    assert error.value.code == "reason_required"
    documents.revoke(document, "Erreur de nom", actor=Actor.of(staff))
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    assert document.pdf == stored and document.revoked_reason == "Erreur de nom"
    assert documents.verification_view(document)["status"] == "revoked"
    with pytest.raises(ServiceError) as error:
        documents.revoke(document, "encore", actor=Actor.of(staff))
    assert error.value.code == "already_revoked"


def test_numbers_follow_each_other_per_site_kind_and_year(app, factory, site):
    other = factory.site(code="AVI")
    numbers = []
    for target in (site, site, other, site):
        with app.app_context():
            _, number = documents.allocate_number(target, DocumentKind.RECEIPT, 2026)
            db.session.commit()
            numbers.append(number)
    assert numbers == ["REC-2026-MER-000001", "REC-2026-MER-000002", "REC-2026-AVI-000001",
                       "REC-2026-MER-000003"]


def test_twenty_concurrent_issues_have_no_gap_and_no_duplicate(app, site):
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(20, timeout=30)
    site_id = site.id  # read here: the threads must not touch this test's session

    def allocate() -> None:
        barrier.wait()
        with app.app_context():
            try:
                target = db.session.get(Site, site_id)
                sequence, _ = documents.allocate_number(target, DocumentKind.CERTIFICATE, 2026)
                db.session.commit()
                results.append(sequence)
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=allocate) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(results) == list(range(1, 21))


def test_a_failed_issue_gives_its_number_back(app, attended, site, monkeypatch):
    from portal.services import documents as module

    def broken(*args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(module, "pdf_for", broken)
    with pytest.raises(RuntimeError):
        documents.issue_certificate(attended, actor=Actor.system(), verify_url=VERIFY)
    db.session.rollback()
    monkeypatch.undo()
    document = documents.issue_certificate(attended, actor=Actor.system(), verify_url=VERIFY)
    assert document.sequence == 1


def _course(factory, site, rule, threshold=None):
    from datetime import timedelta

    from portal.models import Course
    from portal.models.vocab import CompletionRule

    course = Course(site_id=site.id, title="Débuter avec l'ordinateur",
                    completion_rule=CompletionRule(rule), min_sessions_attended=threshold,
                    objectives="Allumer l'ordinateur\nUtiliser la souris")
    db.session.add(course)
    db.session.commit()
    sessions = [factory.session(site, starts_in=timedelta(days=-d), course_id=course.id)
                for d in (20, 13, 6)]
    return course, sessions


def test_course_certificate_needs_every_session_under_the_all_rule(factory, site):
    course, sessions = _course(factory, site, "all_sessions")
    person = factory.beneficiary(site)
    for session in sessions[:2]:
        factory.booking(session, person, status=BookingStatus.PRESENT)
    factory.booking(sessions[2], person, status=BookingStatus.ABSENT)
    with pytest.raises(ServiceError) as error:
        documents.issue_course_certificate(course, person, actor=Actor.system(),
                                           verify_url=VERIFY)
    assert error.value.code == "course_not_completed"


def test_course_certificate_by_threshold_is_issued_once(factory, site):
    course, sessions = _course(factory, site, "threshold", threshold=2)
    person = factory.beneficiary(site)
    for session in sessions[:2]:
        factory.booking(session, person, status=BookingStatus.PRESENT)
    document = documents.issue_course_certificate(course, person, actor=Actor.system(),
                                                  verify_url=VERIFY)
    assert document.kind is DocumentKind.COURSE_CERTIFICATE
    assert document.number.startswith("PAR-") and document.verification_code
    assert "2 séance(s) suivie(s) sur 3" in document.snapshot["dates_phrase"]
    again = documents.issue_course_certificate(course, person, actor=Actor.system(),
                                               verify_url=VERIFY)
    assert again.id == document.id


def test_receipt_for_cheques_taken_for_one_booking(factory, site, attended):
    import subprocess
    from datetime import date

    from portal.clock import now
    from portal.models import Cheque, ChequeProgramme

    staff = factory.staff(site, full_name="Karim Benali")
    programme = ChequeProgramme(name="Pass Numérique APTIC 62", issuer="Département",
                                operator="APTIC", validity_end=date(2026, 12, 31))
    db.session.add(programme)
    db.session.flush()
    cheques = [Cheque(programme_id=programme.id, number=n, value_cents=1000, redeemed_at=now(),
                      redeemed_by_id=staff.id, site_id=site.id, booking_id=attended.id)
               for n in ("620726110348", "620726110349")]
    db.session.add_all(cheques)
    db.session.commit()
    receipt = documents.issue_receipt(cheques, actor=Actor.of(staff))
    assert receipt.number.startswith("REC-") and receipt.beneficiary_id == attended.beneficiary_id
    assert all(c.receipt_id == receipt.id for c in cheques)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=receipt.pdf,
                          capture_output=True, check=True).stdout.decode()
    assert "6207-2611-0348" in text and "20,00" in text and "Karim Benali" in text
    with pytest.raises(ServiceError) as error:
        documents.issue_receipt(cheques, actor=Actor.of(staff))
    assert error.value.code == "receipt_exists"


def test_no_receipt_for_cheques_not_taken(factory, site):
    from datetime import date

    from portal.models import Cheque, ChequeProgramme

    programme = ChequeProgramme(name="APTIC", issuer="Département", operator="APTIC",
                                validity_end=date(2026, 12, 31))
    db.session.add(programme)
    db.session.flush()
    cheque = Cheque(programme_id=programme.id, number="123456", value_cents=1000)
    db.session.add(cheque)
    db.session.commit()
    with pytest.raises(ServiceError) as error:
        documents.issue_receipt([cheque], actor=Actor.system())
    assert error.value.code == "cheques_not_redeemed"


# --- the document's own language ------------------------------------------------------------

#: English day and month names: none may reach a French document.
ENGLISH_DATES = re.compile(
    r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|"
    r"April|May|June|July|August|September|October|November|December)\b")
#: Tuesday 1 December 2026, 16:30 in Paris: the workshop ran from 14:00 to 16:00.
DECEMBER_FIRST = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)


@pytest.fixture
def english_screen(app) -> Iterator[None]:
    """A staff member whose screen is in English is issuing documents."""
    with app.test_request_context("/equipe/"):
        flask.session["lang"] = "en"
        assert str(get_locale()) == "en" and gettext("Complet") != "Complet"
        yield


def test_every_kind_issued_from_an_english_screen_is_french(app, factory, site, english_screen):
    clock.freeze(DECEMBER_FIRST)
    staff = factory.staff(site, full_name="Karim Benali")
    actor = Actor.of(staff)
    course = Course(site_id=site.id, title="Premiers pas avec l'ordinateur",
                    objectives="Allumer l'ordinateur")
    db.session.add(course)
    db.session.commit()
    workshop = factory.workshop(title="Créer son adresse e-mail", grants_attestation=True,
                                price_cheques=2, objectives="Créer une adresse")
    earlier = factory.session(site, workshop, starts_in=timedelta(days=-7, hours=-2, minutes=-30),
                              course_id=course.id)
    session = factory.session(site, workshop, starts_in=timedelta(hours=-2, minutes=-30),
                              course_id=course.id)
    person = factory.beneficiary(site, first_name="Martine", last_name="Delannoy")
    factory.booking(earlier, person, status=BookingStatus.PRESENT)
    booking = factory.booking(session, person, status=BookingStatus.PRESENT)
    programme(validity_end=date(2026, 12, 31))

    issued = {
        "certificate": documents.issue_certificate(booking, actor=actor, verify_url=VERIFY),
        "course": documents.issue_course_certificate(course, person, actor=actor,
                                                     verify_url=VERIFY),
        "receipt": vouchers.redeem_cheques(booking, "2026620101\n2026620102",
                                           actor=actor).receipt,
        "card": documents.issue_login_card(person, site, actor=actor,
                                           portal_address="portail.example.fr",
                                           code_validity=timedelta(days=25)),
        "sheet": documents.issue_attendance_sheet(session, actor=actor),
        "deposit": documents.issue_deposit_slip(site, 2026, 12, actor=actor),
    }
    texts = {name: " ".join(flat(pdf_text(fresh(doc).pdf)).split())
             for name, doc in issued.items()}
    for name, text in texts.items():
        assert not ENGLISH_DATES.findall(text), (name, ENGLISH_DATES.findall(text))
    assert "Le mardi 1er décembre 2026, de 14:00 à 16:00" in texts["certificate"]
    assert "Fait à Méricourt, le 1er décembre 2026" in texts["certificate"]
    assert "Du mardi 24 novembre 2026 au mardi 1er décembre 2026" in texts["course"]
    assert "Séance du mardi 1er décembre 2026, de 14:00 à 16:00" in texts["receipt"]
    assert "20,00 €" in texts["receipt"] and "20.00" not in texts["receipt"]
    assert "valable jusqu’au 26 décembre 2026" in texts["card"]
    assert "Mardi 1er décembre 2026" in texts["sheet"]
    assert "Mois de décembre 2026" in texts["deposit"] and "20,00 €" in texts["deposit"]
