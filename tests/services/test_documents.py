"""Issuing documents: gap-free numbers, stored bytes, certificates, revocation."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import flask
import pytest
from flask_babel import get_locale, gettext
from sqlalchemy import func

from portal import clock
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Beneficiary,
    Booking,
    Course,
    Document,
    Site,
    StaffMember,
    WorkshopSession,
)
from portal.models.vocab import BookingStatus, DocumentKind, StaffRole
from portal.pdf.render import PdfRenderError
from portal.pdf.samples import sample
from portal.services import accounts, bookings, checkin, documents, issuing, vouchers
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from tests.pdf.helpers import accessibility_problems, flat, pdf_text
from tests.services.scene import NOW, fresh, programme

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


def render_down(*args, **kwargs):
    raise PdfRenderError("rendering took more than 60 s")


def test_a_failed_render_keeps_the_number_and_issuing_again_completes_it(
        app, attended, site, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(issuing, "pdf_for", render_down)
        with pytest.raises(ServiceError) as error:
            documents.issue_certificate(attended, actor=Actor.system(), verify_url=VERIFY)
    [pending] = db.session.scalars(db.select(Document)).all()
    assert error.value.code == "document_pending" and pending.number in error.value.message
    assert pending.is_pending and pending.pdf is None and pending.sequence == 1
    assert pending.rendering_until is None  # released: issuing again retries at once
    kept = dict(pending.snapshot)
    # Not downloadable, not verifiable as valid until complete.
    assert documents.find_by_code(pending.verification_code) is None
    assert documents.documents_of(attended.beneficiary) == []
    assert documents.certificates_by_session(attended.beneficiary) == {}
    assert documents.verification_view(pending)["status"] == "pending"

    document = documents.issue_certificate(fresh(attended), actor=Actor.system(),
                                           verify_url=VERIFY)
    assert (document.id, document.sequence, document.number) == (
        pending.id, 1, pending.number)
    assert document.snapshot == kept and not document.is_pending
    assert document.sha256 == hashlib.sha256(document.pdf).hexdigest()
    assert documents.find_by_code(document.verification_code) == document
    assert kept["person_name"] in words(document.pdf)
    actions = db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.object_id == str(document.id))).all()
    assert actions == ["document.issued", "document.rendered"]


def test_a_document_another_device_renders_is_left_to_it(app, attended, site, monkeypatch):
    """The lease: a second device does not render the same pending document twice; once the
    lease has run out (a worker that died), issuing again takes it over."""
    clock.freeze(NOW)
    with monkeypatch.context() as patch:
        patch.setattr(issuing, "pdf_for", render_down)
        with pytest.raises(ServiceError):
            documents.issue_certificate(attended, actor=Actor.system(), verify_url=VERIFY)
    [pending] = db.session.scalars(db.select(Document)).all()
    pending.rendering_until = NOW + timedelta(seconds=30)  # another device is rendering it
    db.session.commit()
    with pytest.raises(ServiceError) as error:
        documents.issue_certificate(fresh(attended), actor=Actor.system(), verify_url=VERIFY)
    assert error.value.code == "document_in_preparation"
    assert fresh(pending).is_pending
    clock.freeze(NOW + issuing.RENDER_LEASE)
    document = documents.issue_certificate(fresh(attended), actor=Actor.system(),
                                           verify_url=VERIFY)
    assert document.id == pending.id and not document.is_pending


def test_every_kind_left_pending_is_completed_by_issuing_it_again(app, factory, site,
                                                                  monkeypatch):
    """Attendance sheet, login card, deposit slip and end-of-course attestation: a failed
    render keeps the number; the next issue completes that document instead of another."""
    clock.freeze(NOW)
    staff = factory.staff(site)
    actor = Actor.of(staff)
    course = Course(site_id=site.id, title="Débuter")
    db.session.add(course)
    db.session.commit()
    session = factory.session(site, factory.workshop(price_cheques=1),
                              starts_in=timedelta(hours=-3), course_id=course.id)
    person = factory.beneficiary(site, password_hash=None)
    booking = factory.booking(session, person, status=BookingStatus.PRESENT)
    programme(validity_end=date(2026, 12, 31))
    vouchers.redeem_cheques(booking, "2026620101", actor=actor)
    attempts = {
        "sheet": lambda: documents.issue_attendance_sheet(fresh(session), actor=actor),
        "card": lambda: documents.issue_login_card(
            fresh(person), fresh(site), actor=actor, portal_address="portail.example.fr",
            code_validity=timedelta(days=25)),
        "deposit": lambda: documents.issue_deposit_slip(fresh(site), 2026, 11, actor=actor),
        "course": lambda: documents.issue_course_certificate(
            fresh(course), fresh(person), actor=actor, verify_url=VERIFY),
    }
    for name, attempt in attempts.items():
        with monkeypatch.context() as patch:
            patch.setattr(issuing, "pdf_for", render_down)
            with pytest.raises(ServiceError) as error:
                attempt()
        assert error.value.code == "document_pending", name
        [pending] = db.session.scalars(db.select(Document).where(
            Document.sha256.is_(None))).all()
        document = attempt()
        assert document.id == pending.id and not document.is_pending, name
        assert db.session.scalar(db.select(func.count()).select_from(Document).where(
            Document.kind == pending.kind)) == 1, name
    card = db.session.scalars(db.select(Document).filter_by(kind=DocumentKind.LOGIN_CARD)).one()
    code = re.search(r"Code de première connexion : (\w{4}-\w{4})", words(card.pdf)).group(1)
    assert code not in str(card.snapshot)  # the code is only on paper
    assert accounts.authenticate(person.login_id, code, ip="127.0.0.1").must_choose_password


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
    assert "2 séances suivies sur 3" in document.snapshot["dates_phrase"]
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


@pytest.fixture
def every_kind(app, factory, site, english_screen) -> dict[DocumentKind, Document]:
    """One document of each kind, issued from an English screen on Tuesday 1 December 2026
    at the end of the workshop (the second and last session of a course)."""
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
        DocumentKind.CERTIFICATE: documents.issue_certificate(booking, actor=actor,
                                                              verify_url=VERIFY),
        DocumentKind.COURSE_CERTIFICATE: documents.issue_course_certificate(
            course, person, actor=actor, verify_url=VERIFY),
        DocumentKind.RECEIPT: vouchers.redeem_cheques(booking, "2026620101\n2026620102",
                                                      actor=actor).receipt,
        DocumentKind.LOGIN_CARD: documents.issue_login_card(
            person, site, actor=actor, portal_address="portail.example.fr",
            code_validity=timedelta(days=25)),
        DocumentKind.ATTENDANCE_SHEET: documents.issue_attendance_sheet(session, actor=actor),
        DocumentKind.DEPOSIT_SLIP: documents.issue_deposit_slip(site, 2026, 12, actor=actor),
    }
    return {kind: fresh(document) for kind, document in issued.items()}


def words(pdf: bytes) -> str:
    """The text of a PDF in reading order, every run of spaces and line breaks as one space."""
    return " ".join(flat(pdf_text(pdf, layout=False)).split())


def test_every_kind_issued_from_an_english_screen_is_french(every_kind):
    for kind, document in every_kind.items():
        assert accessibility_problems(document.pdf) == [], kind  # tagged, titled, in French
    texts = {kind: words(document.pdf) for kind, document in every_kind.items()}
    for kind, text in texts.items():
        assert not ENGLISH_DATES.findall(text), (kind, ENGLISH_DATES.findall(text))
    assert "Le mardi 1er décembre 2026, de 14:00 à 16:00" in texts[DocumentKind.CERTIFICATE]
    assert "Fait à Méricourt, le 1er décembre 2026" in texts[DocumentKind.CERTIFICATE]
    assert "Du mardi 24 novembre 2026 au mardi 1er décembre 2026, 2 séances suivies sur 2" \
        in texts[DocumentKind.COURSE_CERTIFICATE]
    receipt = texts[DocumentKind.RECEIPT]
    assert "Séance du mardi 1er décembre 2026, de 14:00 à 16:00" in receipt
    assert "20,00 €" in receipt and "20.00" not in receipt and "(vingt euros)" in receipt
    assert "valable jusqu’au 26 décembre 2026" in texts[DocumentKind.LOGIN_CARD]
    assert "Mardi 1er décembre 2026" in texts[DocumentKind.ATTENDANCE_SHEET]
    deposit = texts[DocumentKind.DEPOSIT_SLIP]
    assert "Mois de décembre 2026" in deposit and "20,00 €" in deposit
    assert "Chèques reçus du 1er au 31 décembre 2026 : 2 chèques" in deposit


def shape(value: Any) -> Any:
    """The keys of nested data, without the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_samples_are_what_the_services_issue(every_kind, app):
    """The samples (README pictures, `flask documents sample`) come from the same builders:
    every key a sample prints, an issued document has, and the other way round."""
    for kind, document in every_kind.items():
        assert shape(document.snapshot) == shape(sample(kind)), kind
        assert "(s)" not in json.dumps(document.snapshot, ensure_ascii=False), kind


def cheques_taken(factory, site, staff, numbers: str, *, price: int) -> Document:
    """The receipt of cheques taken from a person present at a workshop that just ran."""
    booking = factory.booking(factory.session(site, factory.workshop(price_cheques=price),
                                              starts_in=timedelta(hours=-1)),
                              factory.beneficiary(site), status=BookingStatus.PRESENT)
    programme(validity_end=date(2026, 12, 31))
    return fresh(vouchers.redeem_cheques(booking, numbers, actor=Actor.of(staff)).receipt)


def test_counts_agree_with_their_number(factory, site, frozen_now):
    """One cheque is "1 chèque", in the receipt, its total and the deposit slip."""
    staff = factory.staff(site, full_name="Karim Benali")
    text = words(cheques_taken(factory, site, staff, "2026620101", price=1).pdf)
    assert "Total : 1 chèque" in text and "Prix : 1 chèque" in text
    assert "(dix euros)" in text
    slip = documents.issue_deposit_slip(site, 2026, 11, actor=Actor.of(staff))
    assert "Chèques reçus du 1er au 30 novembre 2026 : 1 chèque pour" in words(fresh(slip).pdf)


def test_the_receipt_prints_the_site_s_regie_and_the_staff_member_s_role(factory, frozen_now):
    site = factory.site(code="LIE", name="Cyberbase de Liévin", city="Liévin",
                        regie_mention="Régie de recettes de la Ville de Liévin, arrêté n° 12.",
                        receipt_signatory_role="Mandataire de la régie")
    desk = factory.staff(site, StaffRole.RECEPTION, full_name="Sandrine Lefebvre")
    receipt = cheques_taken(factory, site, desk, "2026620101", price=2)
    text = words(receipt.pdf)
    assert "Chèques reçus par Sandrine Lefebvre (accueil)" in text
    assert "Mandataire de la régie" in text and "Le régisseur ou son mandataire" not in text
    assert "Régie de recettes de la Ville de Liévin, arrêté n° 12." in text
    assert receipt.snapshot["regie_mention"].startswith("Régie de recettes")


# --- rendering outside the write transaction ----------------------------------------------------


def test_check_ins_and_bookings_commit_while_certificates_render(app, factory, site,
                                                                 monkeypatch):
    """A batch of attestations renders for seconds; the rest of the centre must not wait for
    it (on SQLite a write transaction blocks every other writer). The render is held until
    another device has checked someone in and booked someone: ordering, not timing."""
    clock.freeze(NOW)
    staff = factory.staff(site)
    workshop = factory.workshop(grants_attestation=True)
    ended = factory.session(site, workshop, starts_in=timedelta(hours=-2, minutes=-10))
    for _ in range(2):
        factory.booking(ended, factory.beneficiary(site), status=BookingStatus.PRESENT)
    running = factory.session(site, factory.workshop(), starts_in=timedelta(minutes=-10))
    arriving = factory.booking(running, factory.beneficiary(site))
    later = factory.session(site, factory.workshop(), starts_in=timedelta(days=2))
    newcomer = factory.beneficiary(site)
    ids = {"ended": ended.id, "arriving": arriving.id, "later": later.id,
           "newcomer": newcomer.id, "staff": staff.id}
    db.session.remove()

    events: list[str] = []
    errors: list[BaseException] = []
    rendering, may_finish = threading.Event(), threading.Event()
    real_batch = issuing.batch_pdf

    def held_batch(*args, **kwargs):
        events.append("render started")
        rendering.set()
        may_finish.wait(60)
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(issuing, "batch_pdf", held_batch)

    def issue() -> None:
        with app.app_context():
            try:
                session = db.session.get(WorkshopSession, ids["ended"])
                staff_member = db.session.get(StaffMember, ids["staff"])
                documents.issue_session_certificates(session, actor=Actor.of(staff_member),
                                                     verify_url=VERIFY)
                events.append("certificates stored")
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    def desk() -> None:
        rendering.wait(60)
        with app.app_context():
            try:
                actor = Actor.of(db.session.get(StaffMember, ids["staff"]))
                checkin.check_in(db.session.get(Booking, ids["arriving"]), actor=actor)
                events.append("checked in")
                bookings.book(db.session.get(WorkshopSession, ids["later"]),
                              db.session.get(Beneficiary, ids["newcomer"]), actor=actor)
                events.append("booked")
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()
                may_finish.set()

    threads = [threading.Thread(target=issue), threading.Thread(target=desk)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert events == ["render started", "checked in", "booked", "certificates stored"]
    stored = db.session.scalars(db.select(Document).filter_by(
        kind=DocumentKind.CERTIFICATE, session_id=ids["ended"])).all()
    assert len(stored) == 2 and all(d.pdf.startswith(b"%PDF-") for d in stored)
    assert [d.sequence for d in sorted(stored, key=lambda d: d.sequence)] == [1, 2]


def test_the_pending_documents_command_completes_them(app, attended, site, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(issuing, "pdf_for", render_down)
        with pytest.raises(ServiceError):
            documents.issue_certificate(attended, actor=Actor.system(), verify_url=VERIFY)
    [pending] = db.session.scalars(db.select(Document)).all()
    with monkeypatch.context() as patch:
        patch.setattr(issuing, "pdf_for", render_down)
        failed = app.test_cli_runner().invoke(args=["documents", "complete-pending"])
    assert failed.exit_code == 1
    assert failed.output.strip() == "0 document terminé, 1 encore en attente."
    done = app.test_cli_runner().invoke(args=["documents", "complete-pending"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "1 document terminé, 0 encore en attente."
    assert not fresh(pending).is_pending
