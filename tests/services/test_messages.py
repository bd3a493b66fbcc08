"""Queuing messages to beneficiaries: channel, wording, idempotence, reminders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import get_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Beneficiary, Booking, OutboxMessage, Site, WorkshopSession
from portal.models.vocab import BookingStatus, Language, MessageChannel, SessionStatus
from portal.services import messages
from portal.services.gsm7 import segments

TUESDAY_2PM = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 14:00 in Paris
WHEN_FR = "mardi 1er décembre à 14:00"


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


@pytest.fixture
def site(factory: Any) -> Site:
    return factory.site(name="Cyberbase de Méricourt", phone="03 21 00 00 00",
                        address="1 rue Jean Jaurès", postcode="62680", city="Méricourt")


@pytest.fixture
def session(factory: Any, site: Site, frozen_now: datetime) -> WorkshopSession:
    workshop = factory.workshop(title="Découvrir la tablette")
    return factory.session(site, workshop, starts_in=TUESDAY_2PM - frozen_now, room="Salle 1")


@pytest.fixture
def by_email(factory: Any, site: Site) -> Beneficiary:
    return factory.beneficiary(site, first_name="Marie", email="marie@example.org",
                               phone="06 12 34 56 78")


@pytest.fixture
def by_sms(factory: Any, site: Site) -> Beneficiary:
    return factory.beneficiary(site, first_name="Jean", phone="06 12 34 56 78")


# --- channel ---------------------------------------------------------------------------

def test_email_comes_first(by_email: Beneficiary) -> None:
    assert messages.channel_for(by_email) == (MessageChannel.EMAIL, "marie@example.org")


def test_sms_to_a_mobile_when_there_is_no_email(by_sms: Beneficiary) -> None:
    assert messages.channel_for(by_sms) == (MessageChannel.SMS, "0612345678")


@pytest.mark.parametrize("fields", [
    {},
    {"phone": "06 12 34 56 78", "has_no_phone": True},
    {"phone": "03 21 00 00 00"},  # a landline cannot receive an SMS
    {"email": "  "},
])
def test_nobody_to_write_to(factory: Any, fields: dict[str, Any]) -> None:
    assert messages.channel_for(factory.beneficiary(**fields)) is None


def test_anonymised_people_get_nothing(factory: Any, frozen_now: datetime) -> None:
    person = factory.beneficiary(email="x@example.org", anonymised_at=frozen_now)
    assert messages.channel_for(person) is None


@pytest.mark.parametrize(("phone", "number"), [
    ("06 12 34 56 78", "0612345678"),
    ("07.12.34.56.78", "0712345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "+33612345678"),
    ("0033 6 12 34 56 78", "+33612345678"),
    ("+32 470 12 34 56", "+32470123456"),
    ("03 21 00 00 00", None),
    ("+33 3 21 00 00 00", None),
    ("0612", None),
    ("612345678", None),
    ("appeler la fille", None),
])
def test_sms_number(phone: str, number: str | None) -> None:
    assert messages.sms_number(phone) == number


# --- wording ---------------------------------------------------------------------------

def test_confirmation_by_email(factory: Any, session: WorkshopSession,
                               by_email: Beneficiary) -> None:
    booking = factory.booking(session, by_email)
    message = messages.queue_booking_confirmed(booking)
    assert message is not None
    assert (message.channel, message.recipient) == (MessageChannel.EMAIL, "marie@example.org")
    assert message.subject == "Inscription confirmée : Découvrir la tablette"
    assert message.topic == messages.BOOKING_CONFIRMED
    assert message.beneficiary_id == by_email.id
    for text in ("Bonjour Marie,", "Votre inscription est confirmée.",
                 "Atelier : Découvrir la tablette", f"Date : {WHEN_FR}",
                 "Lieu : Cyberbase de Méricourt, Salle 1",
                 "Adresse : 1 rue Jean Jaurès, 62680 Méricourt",
                 "Appelez le 03 21 00 00 00"):
        assert text in message.body


def test_queuing_does_not_commit(factory: Any, session: WorkshopSession,
                                 by_email: Beneficiary) -> None:
    booking = factory.booking(session, by_email)
    message = messages.queue_booking_confirmed(booking)
    assert message in db.session.new
    db.session.rollback()  # the booking service failed later: no message either
    assert outbox_count() == 0


CASES: list[tuple[Callable[[Booking], OutboxMessage | None], BookingStatus, str]] = [
    (messages.queue_booking_confirmed, BookingStatus.BOOKED, "Votre inscription est confirmée"),
    (messages.queue_waitlisted, BookingStatus.WAITLISTED, "numéro 2 sur la liste d'attente"),
    (messages.queue_promoted, BookingStatus.BOOKED, "une place s'est libérée"),
]


@pytest.mark.parametrize(("queue", "status", "news"), CASES)
def test_each_sms_has_title_day_place_and_phone(factory: Any, session: WorkshopSession,
                                                by_sms: Beneficiary,
                                                queue: Callable[[Booking], OutboxMessage | None],
                                                status: BookingStatus, news: str) -> None:
    position = 2 if status is BookingStatus.WAITLISTED else None
    booking = factory.booking(session, by_sms, status, waitlist_position=position)
    message = queue(booking)
    assert message is not None
    assert (message.channel, message.recipient, message.subject) == (
        MessageChannel.SMS, "0612345678", "")
    for text in (news, "Découvrir la tablette", WHEN_FR, "Cyberbase de Méricourt, Salle 1",
                 "03 21 00 00 00"):
        assert text in message.body
    assert segments(message.body) <= messages.SMS_MAX_SEGMENTS


def test_session_cancelled_gives_the_reason(factory: Any, session: WorkshopSession,
                                            by_sms: Beneficiary, by_email: Beneficiary) -> None:
    sms = messages.queue_session_cancelled(factory.booking(session, by_sms),
                                           "L'animateur est malade.")
    email = messages.queue_session_cancelled(factory.booking(session, by_email),
                                             "L'animateur est malade.")
    assert sms is not None and email is not None
    assert email.subject == "Atelier annulé : Découvrir la tablette"
    for message in (sms, email):
        for text in ("est annulé", "Raison : L'animateur est malade.",
                     "Découvrir la tablette", WHEN_FR, "03 21 00 00 00"):
            assert text in message.body
    assert segments(sms.body) <= messages.SMS_MAX_SEGMENTS


def test_long_sms_is_shortened_to_two_parts(factory: Any, site: Site, by_sms: Beneficiary,
                                            frozen_now: datetime) -> None:
    workshop = factory.workshop(title="Créer son espace personnel sur le site de l'Assurance "
                                      "maladie et télécharger une attestation de droits")
    session = factory.session(site, workshop, starts_in=TUESDAY_2PM - frozen_now,
                              room="Grande salle du rez-de-chaussée, à gauche de l'accueil")
    message = messages.queue_booking_confirmed(factory.booking(session, by_sms))
    assert message is not None
    assert segments(message.body) == 2
    assert workshop.title in message.body and "03 21 00 00 00" in message.body


def test_no_message_without_a_channel(factory: Any, session: WorkshopSession) -> None:
    person = factory.beneficiary(has_no_phone=True)
    assert messages.queue_booking_confirmed(factory.booking(session, person)) is None
    db.session.commit()
    assert outbox_count() == 0


def test_no_message_about_a_session_already_started(factory: Any, site: Site,
                                                    by_sms: Beneficiary) -> None:
    started = factory.session(site, starts_in=-timedelta(minutes=10))
    assert messages.queue_booking_confirmed(factory.booking(started, by_sms)) is None


def test_english_when_the_person_prefers_it(factory: Any, session: WorkshopSession) -> None:
    person = factory.beneficiary(email="john@example.org", preferred_language=Language.EN)
    message = messages.queue_booking_confirmed(factory.booking(session, person))
    assert message is not None
    assert "Tuesday 1 December" in message.body  # Babel formats in the person's language
    assert "décembre" not in message.body
    assert str(get_locale()) == "fr"  # and the locale is back to what it was


# --- the same event is queued once -----------------------------------------------------

def test_same_event_twice_is_one_message(factory: Any, session: WorkshopSession,
                                         by_sms: Beneficiary) -> None:
    booking = factory.booking(session, by_sms)
    first = messages.queue_booking_confirmed(booking)
    assert messages.queue_booking_confirmed(booking) is first  # not committed yet
    db.session.commit()
    again = messages.queue_booking_confirmed(booking)
    db.session.commit()
    assert again is not None and first is not None and again.id == first.id
    assert outbox_count() == 1
    assert first.dedupe_key == (f"booking_confirmed:{booking.id}:"
                                f"{booking.status_changed_at.isoformat()}")


def test_a_new_event_is_a_new_message(factory: Any, session: WorkshopSession,
                                      by_sms: Beneficiary, frozen_now: datetime) -> None:
    booking = factory.booking(session, by_sms)
    messages.queue_booking_confirmed(booking)
    booking.status_changed_at = frozen_now + timedelta(hours=1)  # cancelled, booked again
    messages.queue_booking_confirmed(booking)
    db.session.commit()
    assert outbox_count() == 2


def test_a_new_booking_row_is_flushed_for_its_key(session: WorkshopSession,
                                                  by_sms: Beneficiary) -> None:
    booking = Booking(session_id=session.id, beneficiary_id=by_sms.id, code="NEW0001")
    db.session.add(booking)
    message = messages.queue_booking_confirmed(booking)
    assert message is not None and booking.id is not None
    assert message.dedupe_key is not None
    assert message.dedupe_key.startswith(f"booking_confirmed:{booking.id}:")


# --- reminders -------------------------------------------------------------------------

@pytest.fixture
def scene(factory: Any, site: Site, frozen_now: datetime) -> dict[str, Any]:
    """Who should and should not be reminded (now is Thursday 26 November, 09:00 UTC)."""
    tomorrow = factory.session(site, starts_in=timedelta(hours=24))
    later = factory.session(site, starts_in=timedelta(days=3))
    edge = factory.session(site, starts_in=timedelta(hours=47, minutes=59))
    off = factory.session(site, starts_in=timedelta(hours=24), status=SessionStatus.CANCELLED)
    begun = factory.session(site, starts_in=-timedelta(minutes=30))
    person = factory.beneficiary
    return {
        "booked": factory.booking(tomorrow, person(phone="0611111111")),
        "edge": factory.booking(edge, person(email="edge@example.org")),
        "waiting": factory.booking(tomorrow, person(phone="0622222222"),
                                   BookingStatus.WAITLISTED, waitlist_position=1),
        "cancelled": factory.booking(tomorrow, person(phone="0633333333"),
                                     BookingStatus.CANCELLED),
        "no_channel": factory.booking(tomorrow, person(has_no_phone=True)),
        "in_3_days": factory.booking(later, person(phone="0644444444")),
        "session_off": factory.booking(off, person(phone="0655555555")),
        "started": factory.booking(begun, person(phone="0666666666")),
    }


def test_reminders_only_for_booked_people_of_sessions_in_the_next_48_hours(
        scene: dict[str, Any]) -> None:
    assert messages.queue_reminders() == 2
    sent = outbox()
    assert {m.recipient for m in sent} == {"0611111111", "edge@example.org"}
    assert {m.topic for m in sent} == {messages.REMINDER}
    booked = scene["booked"]
    assert any(m.dedupe_key == f"reminder:{booked.id}:{booked.session.starts_at.isoformat()}"
               for m in sent)
    email = next(m for m in sent if m.channel is MessageChannel.EMAIL)
    assert email.subject.startswith("Rappel : ")


def test_reminders_are_idempotent(scene: dict[str, Any]) -> None:
    assert messages.queue_reminders() == 2
    assert messages.queue_reminders() == 0
    assert outbox_count() == 2


def test_reminder_window_is_a_setting(app: Flask, scene: dict[str, Any]) -> None:
    app.config["REMINDER_BEFORE"] = timedelta(hours=72)
    assert messages.queue_reminders() == 3


def test_reminders_at_a_given_time(scene: dict[str, Any], frozen_now: datetime) -> None:
    # From 36 hours on: the session at 47:59 and the one in 3 days.
    assert messages.queue_reminders(at=frozen_now + timedelta(hours=36)) == 2


def test_a_moved_session_is_reminded_again(scene: dict[str, Any],
                                           frozen_now: datetime) -> None:
    assert messages.queue_reminders() == 2
    session = scene["booked"].session
    session.starts_at = frozen_now + timedelta(hours=30)
    session.ends_at = session.starts_at + timedelta(hours=2)
    db.session.commit()
    assert messages.queue_reminders() == 1


def test_overlapping_runs_do_not_duplicate(app: Flask, scene: dict[str, Any],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Run B queues everything between run A's check and run A's inserts."""
    original = messages._existing_keys

    def racing(keys: list[str]) -> set[str]:
        seen_by_a = original(keys)
        monkeypatch.setattr(messages, "_existing_keys", original)
        with app.app_context():  # another session, as in another process
            assert messages.queue_reminders() == 2
        return seen_by_a

    monkeypatch.setattr(messages, "_existing_keys", racing)
    assert messages.queue_reminders() == 0
    assert outbox_count() == 2


def test_one_conflict_does_not_stop_the_other_reminders(app: Flask, scene: dict[str, Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    booked = scene["booked"]
    key = f"reminder:{booked.id}:{booked.session.starts_at.isoformat()}"
    original = messages._existing_keys

    def racing(keys: list[str]) -> set[str]:
        seen_by_a = original(keys)
        with app.app_context():  # run B got only as far as one reminder
            db.session.add(OutboxMessage(channel=MessageChannel.SMS, recipient="0611111111",
                                         body="…", topic="reminder", dedupe_key=key))
            db.session.commit()
        return seen_by_a

    monkeypatch.setattr(messages, "_existing_keys", racing)
    assert messages.queue_reminders() == 1
    assert outbox_count() == 2
