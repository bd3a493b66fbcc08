"""Closing a session after check-in, and an administrator reopening it (no HTTP).

The clock is frozen on Thursday 26 November 2026 at 14:00 in Paris; the session under test
ran from 11:50 to 13:50 that day.
"""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, Course, Document, WorkshopSession
from portal.models.vocab import (
    BookingStatus,
    CompletionRule,
    DocumentKind,
    SessionStatus,
    StaffRole,
)
from portal.pdf.render import PdfRenderError
from portal.services import checkin, closing, issuing
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from tests.pdf.helpers import accessibility_problems, element_text, structure_elements, title
from tests.services.scene import NOW, VERIFY, code_of, fresh, seats_add_up

pytestmark = pytest.mark.usefixtures("frozen")

ENDED = timedelta(hours=-2, minutes=-10)


@pytest.fixture
def admin(factory, site) -> Actor:
    return Actor.of(factory.staff(site, StaffRole.ADMIN, full_name="Nathalie Caron"))


def finished_session(factory, site, *, grants: bool = True, **fields) -> WorkshopSession:
    workshop = factory.workshop(title="Créer son adresse e-mail", grants_attestation=grants)
    return factory.session(site, workshop, starts_in=ENDED, **fields)


def docs(kind: DocumentKind | None = None) -> list[Document]:
    query = db.select(Document).order_by(Document.id)
    if kind is not None:
        query = query.filter_by(kind=kind)
    return list(db.session.scalars(query))


def holders(kind: DocumentKind) -> list[int]:
    return sorted(d.beneficiary_id for d in docs(kind) if d.revoked_at is None)


def pages(pdf: bytes) -> int:
    return len(PdfReader(BytesIO(pdf)).pages)


# --- closing -----------------------------------------------------------------------------------


def test_closing_marks_the_people_still_booked_absent(factory, site, actor, staff):
    session = finished_session(factory, site, capacity=5)
    present = [factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
               for _ in range(2)]
    booked = [factory.booking(session, factory.beneficiary(site)) for _ in range(2)]
    waiting = factory.booking(session, factory.beneficiary(site),
                              status=BookingStatus.WAITLISTED, waitlist_position=1)
    result = closing.close_session(session, actor=actor, verify_url=VERIFY)
    assert result.newly_closed and not result.documents_failed
    assert result.marked_absent == 2 and result.waitlist_cleared == 1
    assert [fresh(b).status for b in present] == [BookingStatus.PRESENT] * 2
    assert [fresh(b).status for b in booked] == [BookingStatus.ABSENT] * 2
    assert fresh(booked[0]).status_changed_by_id == staff.id
    waiting = fresh(waiting)
    assert waiting.status is BookingStatus.CANCELLED and waiting.waitlist_position is None
    session = fresh(session)
    assert session.status is SessionStatus.CLOSED
    assert session.closed_at == NOW and session.closed_by_id == staff.id
    assert seats_add_up(session) == 2
    [event] = db.session.scalars(db.select(AuditEvent).filter_by(action="session.closed"))
    assert event.actor_id == staff.id and event.at == NOW
    assert event.details == {"marked_absent": 2, "waitlist_cleared": 1}


def test_the_preview_says_what_closing_will_do(factory, site, actor):
    session = finished_session(factory, site)
    present = factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    booked = factory.booking(session, factory.beneficiary(site))
    factory.booking(session, factory.beneficiary(site), status=BookingStatus.WAITLISTED,
                    waitlist_position=1)
    shown = closing.preview(session)
    assert not shown.already_closed
    assert [b.id for b in shown.still_booked] == [booked.id]
    assert [b.id for b in shown.present] == [present.id]
    assert shown.waiting == 1
    assert shown.grants_attestation and shown.certificates_to_issue == 1
    assert shown.course is None and shown.completing == []
    assert docs() == []  # previewing issues nothing
    closing.close_session(session, actor=actor, verify_url=VERIFY)
    shown = closing.preview(fresh(session))
    assert shown.already_closed and shown.still_booked == [] and shown.waiting == 0
    assert shown.certificates_to_issue == 0


def test_the_preview_names_the_people_who_still_owe_cheques(factory, site, actor):
    from portal.models import Cheque
    from tests.services.scene import NOW, programme

    session = factory.session(site, factory.workshop(price_cheques=2),
                              starts_in=timedelta(hours=-3))
    aptic = programme()
    owes_two = factory.booking(session, factory.beneficiary(site, last_name="Bernard"),
                               status=BookingStatus.PRESENT)
    owes_one = factory.booking(session, factory.beneficiary(site, last_name="Albert"),
                               status=BookingStatus.PRESENT)
    paid = factory.booking(session, factory.beneficiary(site, last_name="Carlier"),
                           status=BookingStatus.PRESENT)
    factory.booking(session, factory.beneficiary(site, last_name="Dumont"))  # becomes absent
    for booking, numbers in ((owes_one, ["2026620101"]), (paid, ["2026620102", "2026620103"])):
        for number in numbers:
            db.session.add(Cheque(programme_id=aptic.id, number=number, value_cents=1000,
                                  redeemed_at=NOW, booking_id=booking.id, site_id=site.id))
    db.session.commit()
    shown = closing.preview(session)
    assert [(o.person.last_name, o.owed) for o in shown.owing] == [("Albert", 1),
                                                                   ("Bernard", 2)]
    assert shown.owing[0].booking.id == owes_one.id and owes_two.id == shown.owing[1].booking.id


def test_the_preview_of_a_free_workshop_names_nobody(factory, site):
    session = factory.session(site, factory.workshop(price_cheques=0),
                              starts_in=timedelta(hours=-3))
    factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    assert closing.preview(session).owing == []


def test_certificates_go_only_to_the_people_present(factory, site, actor):
    session = finished_session(factory, site)
    present = [factory.beneficiary(site) for _ in range(2)]
    for person in present:
        factory.booking(session, person, status=BookingStatus.PRESENT)
    for status in (BookingStatus.BOOKED, BookingStatus.ABSENT, BookingStatus.EXCUSED):
        factory.booking(session, factory.beneficiary(site), status=status)
    result = closing.close_session(session, actor=actor, verify_url=VERIFY)
    assert result.new_certificates == 2
    assert sorted(c.beneficiary_id for c in result.certificates) == sorted(p.id for p in present)
    assert holders(DocumentKind.CERTIFICATE) == sorted(p.id for p in present)
    assert all(d.session_id == session.id and d.verification_code for d in
               docs(DocumentKind.CERTIFICATE))


def test_no_certificate_when_the_workshop_grants_none(factory, site, actor):
    session = finished_session(factory, site, grants=False)
    factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    result = closing.close_session(session, actor=actor, verify_url=VERIFY)
    assert result.certificates == [] and result.new_certificates == 0
    assert docs(DocumentKind.CERTIFICATE) == []
    assert result.attendance_sheet is not None
    assert closing.preview(fresh(session)).certificates_to_issue == 0
    assert closing.merged_certificates(fresh(session)) is None


def test_the_attendance_sheet_is_issued_once_with_the_final_statuses(factory, site, actor):
    session = finished_session(factory, site, grants=False)
    factory.booking(session, factory.beneficiary(site, last_name="Arnaud"),
                    status=BookingStatus.PRESENT)
    factory.booking(session, factory.beneficiary(site, last_name="Bernard"))
    result = closing.close_session(session, actor=actor, verify_url=VERIFY)
    [sheet] = docs(DocumentKind.ATTENDANCE_SHEET)
    assert result.attendance_sheet.id == sheet.id and sheet.session_id == session.id
    assert [r["status"] for r in sheet.snapshot["rows"]] == ["Présent", "Absent"]
    assert closing.final_attendance_sheet(fresh(session)).id == sheet.id


def test_closing_twice_is_harmless(factory, site, actor):
    session = finished_session(factory, site)
    for _ in range(2):
        factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    factory.booking(session, factory.beneficiary(site))
    first = closing.close_session(session, actor=actor, verify_url=VERIFY)
    before = [d.id for d in docs()]
    clock.freeze(NOW + timedelta(minutes=20))
    again = closing.close_session(fresh(session), actor=actor, verify_url=VERIFY)
    assert not again.newly_closed and again.marked_absent == 0
    assert again.new_certificates == 0
    assert sorted(c.id for c in again.certificates) == sorted(c.id for c in first.certificates)
    assert again.attendance_sheet.id == first.attendance_sheet.id
    assert [d.id for d in docs()] == before
    assert fresh(session).closed_at == NOW
    assert len(db.session.scalars(db.select(AuditEvent).filter_by(
        action="session.closed")).all()) == 1
    seats_add_up(session)


def test_a_session_is_closed_only_once_it_has_started(factory, site, actor):
    later = factory.session(site, starts_in=timedelta(hours=1))
    booking = factory.booking(later, factory.beneficiary(site))
    assert code_of(lambda: closing.close_session(later, actor=actor, verify_url=VERIFY)) == (
        "session_not_started")
    assert fresh(later).status is SessionStatus.SCHEDULED
    assert fresh(booking).status is BookingStatus.BOOKED
    assert docs() == []


def test_a_cancelled_session_is_not_closed(factory, site, actor):
    session = finished_session(factory, site, status=SessionStatus.CANCELLED)
    assert code_of(lambda: closing.close_session(session, actor=actor, verify_url=VERIFY)) == (
        "session_cancelled")
    assert fresh(session).status is SessionStatus.CANCELLED
    assert docs() == []


def test_staff_of_another_site_cannot_close(factory, site):
    session = finished_session(factory, site)
    stranger = Actor.of(factory.staff(factory.site(), StaffRole.ADMIN))
    assert code_of(lambda: closing.close_session(session, actor=stranger,
                                                 verify_url=VERIFY)) == "not_found"
    assert fresh(session).status is SessionStatus.SCHEDULED


def test_the_certificates_print_as_one_pdf_of_one_page_each(factory, site, actor):
    session = finished_session(factory, site)
    names = ["Martine Delannoy", "Gérard Dubois", "Aïcha Haddou"]
    for name in names:
        first, last = name.split()
        factory.booking(session, factory.beneficiary(site, first_name=first, last_name=last),
                        status=BookingStatus.PRESENT)
    factory.booking(session, factory.beneficiary(site))  # absent: no page
    closing.close_session(session, actor=actor, verify_url=VERIFY)
    merged = closing.merged_certificates(fresh(session))
    assert merged is not None and merged.startswith(b"%PDF-")
    assert pages(merged) == 3
    assert all(pages(d.pdf) == 1 for d in docs(DocumentKind.CERTIFICATE))
    # What is printed is tagged like what is stored: each person's attestation is a Document
    # of the merged structure tree, with its own text.
    assert accessibility_problems(merged) == []
    assert title(merged) == "Attestations de l’atelier «\u202fCréer son adresse e-mail\u202f» " \
        "du jeudi 26 novembre 2026"
    parts = [element_text(merged, element) for element in structure_elements(merged)
             if element.get("/S") == "/Document"]
    assert sorted(next(name for name in names if name in text) for text in parts) == \
        sorted(names)
    for document in docs(DocumentKind.CERTIFICATE):
        assert accessibility_problems(document.pdf) == []


def test_documents_whose_render_failed_are_completed_by_closing_again(factory, site, actor,
                                                                     monkeypatch):
    session = finished_session(factory, site)
    for _ in range(2):
        factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)

    def render_down(*args, **kwargs):
        raise PdfRenderError("the rendering process stopped")

    with monkeypatch.context() as patch:
        patch.setattr(issuing, "pdf_for", render_down)
        patch.setattr(issuing, "batch_pdf", render_down)
        result = closing.close_session(session, actor=actor, verify_url=VERIFY)
    assert result.newly_closed and result.documents_failed
    numbered = docs()
    assert len(numbered) == 3 and all(d.is_pending for d in numbered)  # 2 attestations, 1 sheet
    assert closing.documents_pending(fresh(session))
    assert closing.final_attendance_sheet(fresh(session)) is None  # nothing to print yet
    assert closing.certificates_for_printing(fresh(session)) == []
    assert closing.merged_certificates(fresh(session)) is None

    again = closing.close_session(fresh(session), actor=actor, verify_url=VERIFY)
    assert not again.newly_closed and not again.documents_failed
    assert again.new_certificates == 2
    assert [d.id for d in docs()] == [d.id for d in numbered]  # the same numbers, no other
    assert not any(d.is_pending for d in docs())
    assert not closing.documents_pending(fresh(session))
    assert closing.final_attendance_sheet(fresh(session)).id == numbered[-1].id
    assert pages(closing.merged_certificates(fresh(session))) == 2


# --- courses -----------------------------------------------------------------------------------


def course_of(factory, site, rule: CompletionRule = CompletionRule.ALL_SESSIONS,
              minimum: int | None = None) -> Course:
    course = Course(site_id=site.id, title="Débuter avec l'ordinateur", completion_rule=rule,
                    min_sessions_attended=minimum, grants_attestation=True)
    db.session.add(course)
    db.session.commit()
    return course


def test_closing_the_last_session_completes_the_course(factory, site, actor):
    course = course_of(factory, site)
    workshop = factory.workshop(title="Le clavier et la souris", grants_attestation=True)
    earlier = factory.session(site, workshop, starts_in=timedelta(days=-7), course_id=course.id,
                              status=SessionStatus.CLOSED)
    last = factory.session(site, workshop, starts_in=ENDED, course_id=course.id)
    assiduous, missed_one = factory.beneficiary(site), factory.beneficiary(site)
    factory.booking(earlier, assiduous, status=BookingStatus.PRESENT)
    factory.booking(earlier, missed_one, status=BookingStatus.ABSENT)
    for person in (assiduous, missed_one):
        factory.booking(last, person, status=BookingStatus.PRESENT)
    shown = closing.preview(last)
    assert shown.course.id == course.id
    assert [p.id for p in shown.completing] == [assiduous.id]
    result = closing.close_session(last, actor=actor, verify_url=VERIFY)
    assert [d.beneficiary_id for d in result.course_certificates] == [assiduous.id]
    [certificate] = docs(DocumentKind.COURSE_CERTIFICATE)
    assert certificate.course_id == course.id and certificate.beneficiary_id == assiduous.id
    assert certificate.verification_code
    assert holders(DocumentKind.CERTIFICATE) == sorted([assiduous.id, missed_one.id])
    # the session's two attestations and the end-of-course one, printed together
    assert pages(closing.merged_certificates(fresh(last))) == 3
    # closing again issues no second end-of-course attestation
    again = closing.close_session(fresh(last), actor=actor, verify_url=VERIFY)
    assert again.course_certificates == []
    assert len(docs(DocumentKind.COURSE_CERTIFICATE)) == 1


def test_a_course_with_a_threshold_is_completed_before_its_end(factory, site, actor):
    course = course_of(factory, site, CompletionRule.THRESHOLD, minimum=2)
    workshop = factory.workshop(title="Internet pas à pas")
    first = factory.session(site, workshop, starts_in=timedelta(days=-7), course_id=course.id,
                            status=SessionStatus.CLOSED)
    today = factory.session(site, workshop, starts_in=ENDED, course_id=course.id)
    factory.session(site, workshop, starts_in=timedelta(days=7), course_id=course.id)
    twice, once = factory.beneficiary(site), factory.beneficiary(site)
    factory.booking(first, twice, status=BookingStatus.PRESENT)
    factory.booking(today, twice, status=BookingStatus.PRESENT)
    factory.booking(today, once, status=BookingStatus.PRESENT)
    result = closing.close_session(today, actor=actor, verify_url=VERIFY)
    assert [d.beneficiary_id for d in result.course_certificates] == [twice.id]
    assert holders(DocumentKind.COURSE_CERTIFICATE) == [twice.id]
    assert docs(DocumentKind.CERTIFICATE) == []  # this workshop grants none by itself


def test_a_course_is_not_completed_while_sessions_remain(factory, site, actor):
    course = course_of(factory, site)
    workshop = factory.workshop(title="Internet pas à pas")
    today = factory.session(site, workshop, starts_in=ENDED, course_id=course.id)
    factory.session(site, workshop, starts_in=timedelta(days=7), course_id=course.id)
    factory.booking(today, factory.beneficiary(site), status=BookingStatus.PRESENT)
    assert closing.preview(today).completing == []
    result = closing.close_session(today, actor=actor, verify_url=VERIFY)
    assert result.course_certificates == [] and docs(DocumentKind.COURSE_CERTIFICATE) == []


# --- reopening ---------------------------------------------------------------------------------


@pytest.fixture
def closed(factory, site, actor) -> WorkshopSession:
    session = finished_session(factory, site)
    factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    factory.booking(session, factory.beneficiary(site))
    closing.close_session(session, actor=actor, verify_url=VERIFY)
    return fresh(session)


@pytest.mark.parametrize("role", [StaffRole.ANIMATEUR, StaffRole.RECEPTION])
def test_only_an_administrator_reopens(factory, site, closed, role):
    someone = Actor.of(factory.staff(site, role))
    assert code_of(lambda: closing.reopen_session(closed, "Oubli de pointage",
                                                  actor=someone)) == "role_required"
    assert fresh(closed).status is SessionStatus.CLOSED


def test_an_administrator_of_another_site_does_not_see_the_session(factory, closed):
    stranger = Actor.of(factory.staff(factory.site(), StaffRole.ADMIN))
    assert code_of(lambda: closing.reopen_session(closed, "Oubli de pointage",
                                                  actor=stranger)) == "not_found"


@pytest.mark.parametrize("reason", ["", "   ", "oups", "x" * 301])
def test_reopening_needs_a_reason(closed, admin, reason):
    assert code_of(lambda: closing.reopen_session(closed, reason, actor=admin)) == (
        "reason_required")
    assert fresh(closed).status is SessionStatus.CLOSED


def test_only_a_closed_session_is_reopened(factory, site, admin):
    session = finished_session(factory, site)
    assert code_of(lambda: closing.reopen_session(session, "Oubli de pointage",
                                                  actor=admin)) == "session_not_closed"
    assert fresh(session).reopened_at is None


def test_reopening_keeps_who_why_and_when(closed, admin):
    clock.freeze(NOW + timedelta(days=1))
    closing.reopen_session(closed, "  Mme Bernard était  là ", actor=admin)
    session = fresh(closed)
    assert session.status is SessionStatus.SCHEDULED and session.closed_at is None
    assert session.reopened_at == NOW + timedelta(days=1)
    assert session.reopened_by_id == admin.id
    assert session.reopen_reason == "Mme Bernard était là"
    [event] = db.session.scalars(db.select(AuditEvent).filter_by(action="session.reopened"))
    assert event.actor_id == admin.id and event.details["reason"] == "Mme Bernard était là"


def test_after_reopening_attendance_is_corrected_and_the_missing_certificate_issued(
        factory, site, staff, actor, admin):
    session = finished_session(factory, site)
    present = factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    forgotten = factory.booking(session, factory.beneficiary(site))
    first = closing.close_session(session, actor=actor, verify_url=VERIFY)
    assert fresh(forgotten).status is BookingStatus.ABSENT
    assert holders(DocumentKind.CERTIFICATE) == [present.beneficiary_id]

    clock.freeze(NOW + timedelta(days=1, hours=-3))  # the next morning, 11:00
    closing.reopen_session(fresh(session), "Mme Bernard était présente", actor=admin)
    marked = checkin.check_in(fresh(forgotten), actor=actor)
    assert marked.code == "checked_in"
    assert fresh(forgotten).checked_in_at == NOW + timedelta(days=1, hours=-3)
    seats_add_up(session)

    clock.freeze(NOW + timedelta(days=1, hours=-2))
    again = closing.close_session(fresh(session), actor=actor, verify_url=VERIFY)
    assert again.newly_closed and again.new_certificates == 1
    assert holders(DocumentKind.CERTIFICATE) == sorted([present.beneficiary_id,
                                                        forgotten.beneficiary_id])
    sheets = docs(DocumentKind.ATTENDANCE_SHEET)
    assert [s.id for s in sheets] == [first.attendance_sheet.id, again.attendance_sheet.id]
    assert [r["status"] for r in again.attendance_sheet.snapshot["rows"]] == ["Présent"] * 2
    assert seats_add_up(session) == 2


def test_after_reopening_a_person_marked_absent_keeps_no_certificate(factory, site, actor,
                                                                     admin):
    """Certificates go only to people present (docs/architecture.md): correcting someone
    to absent after the closing must not leave a valid attestation in their name."""
    session = finished_session(factory, site)
    wrongly_present = factory.booking(session, factory.beneficiary(site),
                                      status=BookingStatus.PRESENT)
    factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
    closing.close_session(session, actor=actor, verify_url=VERIFY)
    assert wrongly_present.beneficiary_id in holders(DocumentKind.CERTIFICATE)

    clock.freeze(NOW + timedelta(days=1))
    closing.reopen_session(fresh(session), "M. Durand était absent", actor=admin)
    try:
        checkin.mark_absent(fresh(wrongly_present), actor=actor)
    except ServiceError:
        return  # refusing the correction is an acceptable rule too
    closing.close_session(fresh(session), actor=actor, verify_url=VERIFY)
    assert fresh(wrongly_present).status is BookingStatus.ABSENT
    assert wrongly_present.beneficiary_id not in holders(DocumentKind.CERTIFICATE)
    printed = closing.certificates_for_printing(fresh(session))
    assert wrongly_present.beneficiary_id not in [d.beneficiary_id for d in printed]
