"""APTIC cheques taken at check-in, one rule per test (no HTTP).

``vouchers.redeem_cheques`` takes every cheque entered for a booking or none of them, and
issues the numbered receipt. The clock is frozen on Thursday 26 November 2026, 14:00 Paris.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, Booking, Cheque, Document
from portal.models.vocab import ActorKind, BookingStatus, DocumentKind, StaffRole
from portal.pdf.render import PdfRenderError
from portal.services import documents, issuing, vouchers
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from portal.services.vouchers import ChequesRefused
from tests.services.scene import NOW, programme

pytestmark = pytest.mark.usefixtures("frozen")

def booking_for(factory, site, *, price: int = 2, status=BookingStatus.PRESENT,
                **fields) -> Booking:
    workshop = factory.workshop(title="Faire ses démarches en ligne", price_cheques=price)
    session = factory.session(site, workshop, starts_in=timedelta(minutes=-10))
    return factory.booking(session, factory.beneficiary(site), status=status, **fields)


@pytest.fixture
def booking(factory, site) -> Booking:
    return booking_for(factory, site)


def cheque_rows() -> list[Cheque]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Cheque).order_by(Cheque.id)))


def refusal_of(call) -> ServiceError:
    with pytest.raises(ServiceError) as error:
        call()
    return error.value


def nothing_written(documents_before: int = 0) -> None:
    assert [c.number for c in cheque_rows() if c.redeemed_at is not None] == []
    assert db.session.scalars(db.select(AuditEvent).filter_by(action="cheques.redeemed")).all() \
        == []
    assert db.session.scalar(db.select(db.func.count()).select_from(Document)) == documents_before


# --- reading the numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026620101", "2026620101"),
    ("  2026620101 ", "2026620101"),
    ("2026-6201-01", "2026620101"),
    ("2026\u20116201\u201301", "2026620101"),  # typographic dashes
    ("2026.6201.01", "2026620101"),
    ("ab-12cd.34", "AB12CD34"),
])
def test_a_number_is_normalised(raw, expected):
    assert vouchers.normalise_number(raw) == expected


@pytest.mark.parametrize("raw", [
    "2026620101\n2026620102\n2026620103",
    "2026620101\r\n2026620102\r\n2026620103\r\n",
    "2026620101, 2026620102 ,2026620103",
    "2026620101;2026620102; ;2026620103;",
    "2026620101 2026620102\t2026620103",
    "2026620101  2026620102\u00a02026620103",  # a no-break space copied from a document
    "2026-6201-01\n\n2026.6201.02;2026620103",
])
def test_several_numbers_are_split_on_spaces_lines_commas_and_semicolons(raw):
    assert vouchers.split_numbers(raw) == ["2026620101", "2026620102", "2026620103"]


def test_two_numbers_separated_by_a_space_are_two_cheques(booking, aptic, actor):
    redemption = vouchers.redeem_cheques(booking, "2026620101 2026620102", actor=actor)
    assert redemption.numbers == ["2026620101", "2026620102"]
    assert [c.number for c in cheque_rows()] == ["2026620101", "2026620102"]
    assert redemption.still_owed == 0


def test_a_number_cut_by_a_space_is_two_wrong_numbers_and_nothing_is_taken(booking, aptic,
                                                                          actor):
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "20266 20101", actor=actor))
    assert isinstance(error, ChequesRefused)
    assert [(r.number, r.code) for r in error.refusals] == [
        ("20266", "cheque_number_invalid"), ("20101", "cheque_number_invalid")]
    nothing_written()


def test_numbers_are_taken_however_they_were_typed(booking, aptic, actor):
    redemption = vouchers.redeem_cheques(booking, " 2026.6201.01 ;\n2026-6201-02 ",
                                         actor=actor)
    assert redemption.numbers == ["2026620101", "2026620102"]
    assert [c.number for c in cheque_rows()] == ["2026620101", "2026620102"]


# --- taking cheques ----------------------------------------------------------------------------


def test_a_new_cheque_is_registered_and_redeemed(booking, aptic, staff, actor, site):
    redemption = vouchers.redeem_cheques(booking, "2026620101", actor=actor)
    assert redemption.still_owed == 1 and not redemption.receipt_failed
    [cheque] = cheque_rows()
    assert cheque.programme_id == aptic.id and cheque.number == "2026620101"
    assert cheque.value_cents == 1000
    assert cheque.registered_at == NOW and cheque.redeemed_at == NOW
    assert cheque.redeemed_by_id == staff.id and cheque.site_id == site.id
    assert cheque.booking_id == booking.id and cheque.accompaniment_id is None
    assert [c.id for c in redemption.cheques] == [cheque.id]


def test_a_registered_cheque_is_redeemed_in_place(booking, aptic, staff, actor):
    known = Cheque(programme_id=aptic.id, number="2026620101", value_cents=1000,
                   registered_at=NOW - timedelta(days=40))
    db.session.add(known)
    db.session.commit()
    vouchers.redeem_cheques(booking, "2026-6201-01", actor=actor)
    [cheque] = cheque_rows()
    assert cheque.id == known.id
    assert cheque.registered_at == NOW - timedelta(days=40)
    assert cheque.redeemed_at == NOW and cheque.redeemed_by_id == staff.id
    assert cheque.booking_id == booking.id


def test_a_cheque_taken_before_is_refused_with_the_day_and_the_place(factory, aptic, actor,
                                                                     site):
    elsewhere = factory.site(name="Médiathèque de Liévin")
    first = booking_for(factory, elsewhere)
    clock.freeze(datetime(2026, 11, 23, 9, 15, tzinfo=UTC))  # Monday, 10:15 in Paris
    vouchers.redeem_cheques(first, "2026620101",
                            actor=Actor.of(factory.staff(elsewhere, StaffRole.ANIMATEUR)))
    clock.freeze(NOW)
    booking = booking_for(factory, site)
    documents_before = db.session.scalar(db.select(db.func.count()).select_from(Document))
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2026620101", actor=actor))
    assert error.code == "cheque_already_redeemed"
    assert "lundi 23 novembre 2026" in error.message and "10:15" in error.message
    assert "Médiathèque de Liévin" in error.message
    assert [c.booking_id for c in cheque_rows()] == [first.id]
    assert db.session.scalar(db.select(db.func.count()).select_from(Document)) == (
        documents_before)


def test_a_cheque_is_accepted_during_the_grace_month(factory, site, actor):
    programme(validity_end=date(2025, 12, 31), grace_days=31)  # accepted until 31 January
    clock.freeze(datetime(2026, 1, 31, 22, 30, tzinfo=UTC))   # 23:30 on the 31st in Paris
    booking = booking_for(factory, site)
    vouchers.redeem_cheques(booking, "2025620101", actor=actor)
    assert [c.number for c in cheque_rows()] == ["2025620101"]


def test_a_cheque_is_refused_after_the_grace_month(factory, site, actor):
    programme(validity_end=date(2025, 12, 31), grace_days=31)
    clock.freeze(datetime(2026, 1, 31, 23, 30, tzinfo=UTC))   # 00:30 on 1 February in Paris
    booking = booking_for(factory, site)
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2025620101", actor=actor))
    assert error.code == "cheque_expired"
    assert "31 janvier 2026" in error.message
    nothing_written()


def test_a_registered_cheque_expires_too(factory, site, actor):
    old = programme(validity_end=date(2025, 12, 31), grace_days=0)
    db.session.add(Cheque(programme_id=old.id, number="2025620101", value_cents=1000))
    db.session.commit()
    error = refusal_of(lambda: vouchers.redeem_cheques(booking_for(factory, site),
                                                       "2025620101", actor=actor))
    assert error.code == "cheque_expired"
    nothing_written()


@pytest.mark.parametrize("raw", ["12345", "20266201011", "ABCDEFGHIJ", "2026620I01"])
def test_a_number_that_matches_no_programme_is_refused(booking, aptic, actor, raw):
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, raw, actor=actor))
    assert error.code == "cheque_number_invalid"
    nothing_written()


def test_a_number_two_programmes_could_own_must_be_given_its_programme(booking, aptic,
                                                                        actor):
    other = programme(name="Pass Numérique Hauts-de-France", issuer="Région",
                      number_pattern=r"[0-9]{8,12}")
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2026620101", actor=actor))
    assert error.code == "programme_ambiguous"
    nothing_written()
    vouchers.redeem_cheques(booking, "2026620101", actor=actor, programme_id=other.id)
    assert [(c.number, c.programme_id) for c in cheque_rows()] == [("2026620101", other.id)]


def test_a_cheque_of_a_closed_programme_is_refused(booking, actor):
    closed = programme(is_active=False)
    db.session.add(Cheque(programme_id=closed.id, number="2026620101", value_cents=1000))
    db.session.commit()
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2026620101", actor=actor))
    assert error.code == "programme_closed"
    assert "APTIC Pas-de-Calais 2026" in error.message
    nothing_written()


def test_a_cheque_entered_twice_is_refused(booking, aptic, actor):
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2026620101\n2026-6201-01",
                                                       actor=actor))
    assert error.code == "cheque_entered_twice"
    assert [r.number for r in error.refusals] == ["2026620101"]
    nothing_written()


def test_no_more_cheques_than_the_workshop_still_asks(booking, aptic, actor):
    vouchers.redeem_cheques(booking, "2026620101", actor=actor)  # costs 2: one left
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2026620102\n2026620103",
                                                       actor=actor))
    assert error.code == "cheques_too_many"
    assert error.details["still_owed"] == 1
    assert [c.number for c in cheque_rows()] == ["2026620101"]
    vouchers.redeem_cheques(booking, "2026620102", actor=actor)
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2026620103", actor=actor))
    assert error.code == "cheques_too_many" and error.details["still_owed"] == 0
    assert len(cheque_rows()) == 2


def test_a_free_workshop_takes_no_cheque(factory, site, aptic, actor):
    booking = booking_for(factory, site, price=0)
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2026620101", actor=actor))
    assert error.code == "cheques_not_needed"
    nothing_written()


@pytest.mark.parametrize(("status", "fields"), [
    (BookingStatus.CANCELLED, {"cancelled_at": NOW}),
    (BookingStatus.WAITLISTED, {"waitlist_position": 1}),
    (BookingStatus.ABSENT, {}),
])
def test_cheques_only_for_someone_booked_or_present(factory, site, aptic, actor, status,
                                                    fields):
    booking = booking_for(factory, site, status=status, **fields)
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2026620101", actor=actor))
    assert error.code == "booking_not_payable"
    nothing_written()


def test_one_bad_number_and_none_is_taken(factory, site, aptic, actor):
    booking = booking_for(factory, site, price=3)
    with pytest.raises(ChequesRefused) as error:
        vouchers.redeem_cheques(booking, "2026620101\n20266201\n2026620103", actor=actor)
    assert error.value.code == "cheque_number_invalid"
    assert [(r.number, r.code) for r in error.value.refusals] == [
        ("20266201", "cheque_number_invalid")]
    assert cheque_rows() == []
    nothing_written()


def test_every_refusal_is_listed(factory, site, aptic, actor):
    taken = booking_for(factory, site)
    vouchers.redeem_cheques(taken, "2026620102", actor=actor)
    documents_before = db.session.scalar(db.select(db.func.count()).select_from(Document))
    booking = booking_for(factory, site, price=3)
    with pytest.raises(ChequesRefused) as error:
        vouchers.redeem_cheques(booking, "2026620101;2026620102;123", actor=actor)
    assert [(r.number, r.code) for r in error.value.refusals] == [
        ("2026620102", "cheque_already_redeemed"), ("123", "cheque_number_invalid")]
    assert [c.booking_id for c in cheque_rows()] == [taken.id]
    assert db.session.scalar(db.select(db.func.count()).select_from(Document)) == (
        documents_before)


@pytest.mark.parametrize(("raw", "code"), [
    ("", "cheque_number_missing"),
    (" ;\n, ", "cheque_number_missing"),
    ("\n".join(str(2026620100 + i) for i in range(21)), "too_many_cheques"),
])
def test_an_entry_without_a_usable_count_of_numbers_is_refused(factory, site, aptic, actor,
                                                               raw, code):
    booking = booking_for(factory, site, price=20)  # the most a workshop may cost
    assert refusal_of(lambda: vouchers.redeem_cheques(booking, raw, actor=actor)).code == code
    nothing_written()


# --- the receipt -------------------------------------------------------------------------------


def test_the_receipt_is_issued_with_the_cheques(booking, aptic, actor, site):
    redemption = vouchers.redeem_cheques(booking, "2026620101\n2026620102", actor=actor)
    receipt = redemption.receipt
    assert receipt is not None and not redemption.receipt_failed
    assert receipt.kind is DocumentKind.RECEIPT and receipt.site_id == site.id
    assert receipt.number.startswith("REC-2026-MER-")
    assert receipt.beneficiary_id == booking.beneficiary_id
    assert receipt.session_id == booking.session_id
    assert receipt.pdf.startswith(b"%PDF-")
    assert [c["number"] for c in receipt.snapshot["cheques"]] == ["2026-6201-01", "2026-6201-02"]
    assert all(c.receipt_id == receipt.id for c in cheque_rows())
    assert vouchers.receipts_of(booking) == [receipt]


def test_a_receipt_that_failed_to_print_is_issued_later(booking, aptic, actor, monkeypatch):
    def broken(cheques, *, actor):
        raise TimeoutError("the renderer took too long")

    with monkeypatch.context() as patch:
        patch.setattr(documents, "issue_receipt", broken)
        redemption = vouchers.redeem_cheques(booking, "2026620101", actor=actor)
    assert redemption.receipt is None and redemption.receipt_failed
    [cheque] = cheque_rows()
    assert cheque.redeemed_at == NOW and cheque.receipt_id is None  # the payment stays
    receipt = vouchers.issue_missing_receipt(booking, actor=actor)
    assert receipt.kind is DocumentKind.RECEIPT
    assert [c.receipt_id for c in cheque_rows()] == [receipt.id]
    error = refusal_of(lambda: vouchers.issue_missing_receipt(booking, actor=actor))
    assert error.code == "receipt_exists"


def test_a_receipt_whose_render_failed_keeps_its_number_and_is_completed_later(
        booking, aptic, actor, monkeypatch):
    """The cheques are taken and put on the numbered receipt at once; the render fails; the
    check-in screen offers "Éditer le reçu" (the cheques still wait for a printed receipt),
    which completes that receipt with its number: no gap in the régie's series."""
    def render_down(*args, **kwargs):
        raise PdfRenderError("rendering took more than 60 s")

    with monkeypatch.context() as patch:
        patch.setattr(issuing, "pdf_for", render_down)
        redemption = vouchers.redeem_cheques(booking, "2026620101;2026620102", actor=actor)
    assert redemption.receipt is None and redemption.receipt_failed
    [pending] = db.session.scalars(db.select(Document)).all()
    assert pending.is_pending and pending.kind is DocumentKind.RECEIPT
    assert [c.receipt_id for c in cheque_rows()] == [pending.id, pending.id]
    assert [c.number for c in vouchers.without_receipt(booking)] == [
        "2026620101", "2026620102"]
    assert vouchers.receipts_of(booking) == [pending]
    receipt = vouchers.issue_missing_receipt(booking, actor=actor)
    assert (receipt.id, receipt.number) == (pending.id, pending.number)
    assert not receipt.is_pending and receipt.pdf.startswith(b"%PDF-")
    assert vouchers.without_receipt(booking) == []
    assert refusal_of(lambda: vouchers.issue_missing_receipt(booking, actor=actor)).code == (
        "receipt_exists")


def test_the_redemption_is_audited(booking, aptic, staff, actor):
    vouchers.redeem_cheques(booking, "2026620101;2026620102", actor=actor)
    [event] = db.session.scalars(db.select(AuditEvent).filter_by(action="cheques.redeemed"))
    assert event.actor_kind is ActorKind.STAFF and event.actor_id == staff.id
    assert event.at == NOW
    assert event.object_type == "booking" and event.object_id == str(booking.id)
    assert event.details["cheques"] == ["2026620101", "2026620102"]
    assert event.details["total_cents"] == 2000


def test_staff_of_another_site_cannot_take_cheques(factory, booking, aptic):
    stranger = Actor.of(factory.staff(factory.site(), StaffRole.ADMIN))
    error = refusal_of(lambda: vouchers.redeem_cheques(booking, "2026620101", actor=stranger))
    assert error.code == "not_found"
    error = refusal_of(lambda: vouchers.issue_missing_receipt(booking, actor=stranger))
    assert error.code == "not_found"
    nothing_written()
