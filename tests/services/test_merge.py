"""Merging two records of one person: every row moves to the record kept, nothing is lost nor
left pointing at the other record, the audit trail follows; all or nothing. No HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect

from portal.extensions import db
from portal.models import (
    Accompaniment,
    AuditEvent,
    Beneficiary,
    Booking,
    Cheque,
    ChequeProgramme,
    Document,
    LoginSession,
    OutboxMessage,
)
from portal.models.vocab import BookingStatus, DocumentKind, MessageChannel, StaffRole
from portal.services import login_sessions, merging, people
from portal.services.audit import Actor
from tests.services.scene import NOW, code_of, programme, seats_add_up

pytestmark = pytest.mark.usefixtures("frozen")


def cheque(booking=None, help_=None, *, site) -> Cheque:
    aptic = db.session.scalar(db.select(ChequeProgramme)) or programme()
    n = db.session.scalar(db.select(db.func.count(Cheque.id))) + 1
    row = Cheque(programme_id=aptic.id, number=f"2026600{n:03d}", value_cents=1000,
                 redeemed_at=NOW, booking_id=booking.id if booking else None,
                 accompaniment_id=help_.id if help_ else None, site_id=site.id)
    db.session.add(row)
    db.session.commit()
    return row


def everything_of(person_id: int) -> dict[str, set[int]]:
    """Every row that names the person, by table."""
    db.session.expire_all()
    return {
        "booking": set(db.session.scalars(db.select(Booking.id).filter_by(
            beneficiary_id=person_id))),
        "document": set(db.session.scalars(db.select(Document.id).filter_by(
            beneficiary_id=person_id))),
        "accompaniment": set(db.session.scalars(db.select(Accompaniment.id).filter_by(
            beneficiary_id=person_id))),
        "outbox": set(db.session.scalars(db.select(OutboxMessage.id).filter_by(
            beneficiary_id=person_id))),
        "cheque": set(db.session.scalars(
            db.select(Cheque.id).join(Booking, Booking.id == Cheque.booking_id)
            .where(Booking.beneficiary_id == person_id)
            .union(db.select(Cheque.id).join(Accompaniment,
                                            Accompaniment.id == Cheque.accompaniment_id)
                   .where(Accompaniment.beneficiary_id == person_id)))),
    }


@pytest.fixture
def twins(factory, site):
    """Two records of Hélène Durand, each with a bit of her history."""
    kept = factory.beneficiary(site, first_name="Hélène", last_name="Durand",
                               staff_notes="Vient le mardi")
    other = factory.beneficiary(site, first_name="Helene", last_name="Durant", birth_year=1950,
                                phone="06 12 34 56 78", staff_notes="Malentendante",
                                calendar_token_hash="f" * 64)
    return kept, other


def test_merging_keeps_every_row_and_orphans_nothing(factory, site, staff, actor, twins):
    kept, other = twins
    past = factory.session(site, starts_in=timedelta(days=-3))
    shared = factory.session(site, starts_in=timedelta(days=-1))
    later = factory.session(site, starts_in=timedelta(days=2))
    mine_only = factory.booking(past, kept, BookingStatus.PRESENT)
    theirs_only = factory.booking(later, other)
    ours = factory.booking(shared, kept, BookingStatus.ABSENT)
    theirs = factory.booking(shared, other, BookingStatus.PRESENT)
    paid_ours, paid_theirs = cheque(ours, site=site), cheque(theirs, site=site)
    cheque(mine_only, site=site)
    help_ = Accompaniment(site_id=site.id, beneficiary_id=other.id, started_at=NOW,
                          duration_minutes=30)
    db.session.add(help_)
    db.session.add(Document(kind=DocumentKind.CERTIFICATE, site_id=site.id, year=2026,
                            sequence=1, number="ATT-2026-MER-000001", title="Attestation",
                            beneficiary_id=other.id))
    db.session.add(OutboxMessage(channel=MessageChannel.SMS, recipient="0612345678",
                                 body="Rappel", topic="reminder", beneficiary_id=other.id))
    db.session.commit()
    help_cheque = cheque(help_=help_, site=site)
    login_sessions.start(other, idle_timeout=timedelta(hours=1),
                         absolute_lifetime=timedelta(hours=8))
    db.session.commit()
    before = everything_of(kept.id), everything_of(other.id)
    all_cheques = db.session.scalar(db.select(db.func.count(Cheque.id)))

    merging.merge(kept, other, take_from_other=["birth_year", "phone"], actor=actor)

    after = everything_of(kept.id)
    assert everything_of(other.id) == {name: set() for name in after}
    # Every row but the worse booking of the shared session is now the kept person's.
    assert after["booking"] == {mine_only.id, theirs_only.id, theirs.id}
    assert after["document"] == before[1]["document"]
    assert after["accompaniment"] == {help_.id} and after["outbox"] == before[1]["outbox"]
    assert after["cheque"] == before[0]["cheque"] | before[1]["cheque"]
    assert help_cheque.id in after["cheque"]
    assert db.session.scalar(db.select(db.func.count(Cheque.id))) == all_cheques
    # The better status stays, with both cheques on it.
    assert db.session.get(Booking, theirs.id).status is BookingStatus.PRESENT
    assert {db.session.get(Cheque, c.id).booking_id for c in (paid_ours, paid_theirs)} == {
        theirs.id}
    assert db.session.get(Booking, ours.id) is None
    seats_add_up(shared)
    seats_add_up(later)
    # The details chosen, both notes, the calendar link.
    kept, other = db.session.get(Beneficiary, kept.id), db.session.get(Beneficiary, other.id)
    assert (kept.first_name, kept.birth_year, kept.phone) == ("Hélène", 1950, "06 12 34 56 78")
    assert kept.staff_notes == "Vient le mardi\n\nMalentendante"
    assert kept.calendar_token_hash == "f" * 64 and other.calendar_token_hash is None
    # The other record is a tombstone.
    assert (other.merged_into_id, other.is_active) == (kept.id, False)
    assert db.session.scalar(db.select(db.func.count(LoginSession.id)).where(
        LoginSession.beneficiary_id == other.id, LoginSession.revoked_at.is_(None))) == 0
    assert people.search(staff, "Helene") == [kept]
    assert merging.kept_record(other).id == kept.id
    # The trail: an event on both ids, and the kept person's history covers both.
    events = db.session.scalars(db.select(AuditEvent).filter_by(action="person.merged")).all()
    assert {e.object_id for e in events} == {str(kept.id), str(other.id)}
    assert sorted(merging.record_ids(kept)) == sorted([kept.id, other.id])


@pytest.mark.parametrize(("mine", "theirs", "stays"), [
    (BookingStatus.BOOKED, BookingStatus.WAITLISTED, "mine"),
    (BookingStatus.WAITLISTED, BookingStatus.BOOKED, "theirs"),
    (BookingStatus.CANCELLED, BookingStatus.EXCUSED, "theirs"),
    (BookingStatus.BOOKED, BookingStatus.BOOKED, "mine"),
])
def test_on_a_shared_session_the_better_status_stays_and_the_seats_add_up(
        factory, site, actor, twins, mine, theirs, stays):
    kept, other = twins
    session = factory.session(site, starts_in=timedelta(days=2))
    extra = {"waitlist_position": 1}
    ours = factory.booking(session, kept, mine,
                           **(extra if mine is BookingStatus.WAITLISTED else {}))
    their = factory.booking(session, other, theirs,
                            **(extra if theirs is BookingStatus.WAITLISTED else {}))
    merging.merge(kept, other, take_from_other=[], actor=actor)
    left = db.session.scalars(db.select(Booking).filter_by(session_id=session.id)).all()
    assert [b.id for b in left] == [ours.id if stays == "mine" else their.id]
    assert left[0].beneficiary_id == kept.id
    seats_add_up(session)


def test_a_failure_changes_nothing(factory, site, actor, twins, monkeypatch):
    kept, other = twins
    booking = factory.booking(factory.session(site), other)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(merging.login_sessions, "revoke_all", broken)
    with pytest.raises(RuntimeError):
        merging.merge(kept, other, take_from_other=["phone"], actor=actor)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).beneficiary_id == other.id
    assert db.session.get(Beneficiary, other.id).merged_into_id is None
    assert db.session.get(Beneficiary, kept.id).phone == ""
    assert not db.session.scalar(db.select(AuditEvent).filter_by(action="person.merged"))
    assert not inspect(db.session.get(Beneficiary, kept.id)).modified


def test_reception_may_not_merge_nor_merge_a_person_with_themselves(factory, site, twins,
                                                                     actor):
    kept, other = twins
    desk = Actor.of(factory.staff(site, StaffRole.RECEPTION))
    assert code_of(lambda: merging.merge(kept, other, take_from_other=[],
                                         actor=desk)) == "role_required"
    assert code_of(lambda: merging.merge(kept, kept, take_from_other=[],
                                         actor=actor)) == "same_person"
    stranger = factory.beneficiary(factory.site(code="AUT"))
    assert code_of(lambda: merging.merge(kept, stranger, take_from_other=[],
                                         actor=actor)) == "unknown_person"


def test_a_merged_record_cannot_be_merged_again(factory, site, actor, twins):
    kept, other = twins
    merging.merge(kept, other, take_from_other=[], actor=actor)
    third = factory.beneficiary(site)
    assert code_of(lambda: merging.merge(third, other, take_from_other=[],
                                         actor=actor)) == "person_merged"
