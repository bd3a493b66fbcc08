"""Delivering the outbox: a real SMTP server, SMS through the log, failures, claims, CLI."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from flask import Flask, current_app

from portal import clock
from portal.extensions import db
from portal.messaging import DeliveryReport, deliver_pending
from portal.models import OutboxMessage
from portal.models.vocab import MessageChannel
from portal.services import messages
from portal.services.gsm7 import is_gsm7
from tests.conftest import base_config

API_KEY = "s3cr3t-api-key"

pytestmark = pytest.mark.usefixtures("app")


# --- a real SMTP server on 127.0.0.1 ----------------------------------------------------

class Inbox:
    """aiosmtpd handler keeping every envelope it accepts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default)  # type: ignore[misc]
                for e in self.envelopes if isinstance(e.content, bytes)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def app_config(database_url: str, inbox: Inbox) -> dict[str, Any]:
    return {**base_config(database_url), "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": inbox.port,
            "MAIL_FROM": "Cyberbase de Méricourt <cyberbase@example.org>",
            "SMS_API_KEY": API_KEY}


# --- SMS backends used by the tests (named by dotted path in SMS_BACKEND) -----------------

class FailingSms:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.key = config["SMS_API_KEY"]

    def send(self, recipient: str, body: str) -> None:
        raise RuntimeError(f"gateway refused the request\nPOST /send?key={self.key}")


class SlowSms:
    """While sending its first SMS, another delivery run starts (cron overlapping)."""

    sent: ClassVar[list[str]] = []
    overlapping: ClassVar[list[DeliveryReport]] = []

    def __init__(self, config: Mapping[str, Any]) -> None:
        pass

    def send(self, recipient: str, body: str) -> None:
        SlowSms.sent.append(recipient)
        if len(SlowSms.sent) == 1:
            with current_app.app_context():  # its own database session, as another process
                SlowSms.overlapping.append(deliver_pending())


@pytest.fixture
def sms_log(caplog: pytest.LogCaptureFixture,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of ``portal.sms``, once ("portal" does not propagate to the root logger)."""
    logger = logging.getLogger("portal.sms")
    monkeypatch.setattr(logger, "propagate", False)
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def queue(channel: MessageChannel, recipient: str, body: str, subject: str = "",
          **fields: Any) -> OutboxMessage:
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body,
                            topic="test", **fields)
    db.session.add(message)
    db.session.commit()
    return message


def reload(message: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    fresh = db.session.get(OutboxMessage, message.id)
    assert fresh is not None
    return fresh


# --- e-mail ----------------------------------------------------------------------------

def test_email_reaches_a_real_smtp_server(inbox: Inbox, frozen_now: datetime) -> None:
    body = "Bonjour Marie,\n\nÀ mardi 14:00 – salle « Œuvre », 10 € …\n"
    message = queue(MessageChannel.EMAIL, "marie@example.org", body,
                    subject="Inscription confirmée : Découvrir la tablette")

    assert deliver_pending() == DeliveryReport(sent=1, failed=0)

    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["marie@example.org"]
    assert envelope.mail_from == "cyberbase@example.org"
    [received] = inbox.messages()
    assert received["Subject"] == "Inscription confirmée : Découvrir la tablette"
    assert received["From"] == "Cyberbase de Méricourt <cyberbase@example.org>"
    assert received["To"] == "marie@example.org"
    assert received["Date"].datetime == frozen_now
    assert received["Message-ID"].endswith("@example.org>")
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"
    assert received.get_content().replace("\r\n", "\n") == body
    sent = reload(message)
    assert (sent.sent_at, sent.attempts, sent.last_error) == (frozen_now, 1, "")


def test_a_booking_confirmation_end_to_end(inbox: Inbox, factory: Any,
                                           frozen_now: datetime) -> None:
    site = factory.site(name="Cyberbase", phone="03 21 00 00 00")
    session = factory.session(site, factory.workshop(title="Premiers pas"),
                              starts_in=timedelta(days=5, hours=4))
    person = factory.beneficiary(first_name="Marie", email="marie@example.org")
    messages.queue_booking_confirmed(factory.booking(session, person))
    db.session.commit()

    assert deliver_pending() == DeliveryReport(sent=1, failed=0)
    [received] = inbox.messages()
    assert received["Subject"] == "Inscription confirmée : Premiers pas"
    assert "mardi 1er décembre à 14:00" in received.get_content()


def test_a_message_is_sent_once(inbox: Inbox, frozen_now: datetime) -> None:
    queue(MessageChannel.EMAIL, "marie@example.org", "Bonjour", subject="Test")
    assert deliver_pending() == DeliveryReport(1, 0)
    assert deliver_pending() == DeliveryReport(0, 0)
    assert len(inbox.envelopes) == 1


def test_not_before_its_time(inbox: Inbox, frozen_now: datetime) -> None:
    queue(MessageChannel.EMAIL, "marie@example.org", "Plus tard", subject="Test",
          send_after=frozen_now + timedelta(minutes=1))
    assert deliver_pending() == DeliveryReport(0, 0)
    clock.freeze(frozen_now + timedelta(minutes=1))
    assert deliver_pending() == DeliveryReport(1, 0)


def test_smtp_server_down_fails_one_message_and_leaves_the_others(
        app: Flask, frozen_now: datetime, sms_log: pytest.LogCaptureFixture) -> None:
    app.config["MAIL_PORT"] = free_port()  # nobody listens there
    first = queue(MessageChannel.EMAIL, "a@example.org", "Un", subject="Un")
    second = queue(MessageChannel.EMAIL, "b@example.org", "Deux", subject="Deux")
    sms = queue(MessageChannel.SMS, "0612345678", "Trois")

    assert deliver_pending() == DeliveryReport(sent=1, failed=1)

    assert reload(first).attempts == 1
    assert reload(first).last_error.startswith("BackendUnavailable: ConnectionRefusedError")
    assert reload(second).attempts == 0  # not tried: the server was known to be down
    assert reload(sms).sent_at == frozen_now


# --- SMS -------------------------------------------------------------------------------

def test_sms_goes_to_the_log_in_gsm7(sms_log: pytest.LogCaptureFixture,
                                     frozen_now: datetime) -> None:
    message = queue(MessageChannel.SMS, "0612345678",
                    "Être à l’heure, ça compte ! « Merci » 🙂")

    assert deliver_pending() == DeliveryReport(sent=1, failed=0)

    [record] = [r for r in sms_log.records if r.name == "portal.sms"]
    text = record.getMessage()
    assert "Etre à l'heure, ca compte ! \" Merci \" " in text
    assert is_gsm7(text.split(": ", 1)[1])
    assert "06******78" in text and "0612345678" not in text
    assert reload(message).sent_at == frozen_now


def test_a_failing_backend_is_retried_later(app: Flask, frozen_now: datetime,
                                            sms_log: pytest.LogCaptureFixture) -> None:
    app.config["SMS_BACKEND"] = "tests.test_messaging_delivery.FailingSms"
    message = queue(MessageChannel.SMS, "0612345678", "Bonjour")

    assert deliver_pending() == DeliveryReport(sent=0, failed=1)
    failed = reload(message)
    assert (failed.sent_at, failed.attempts) == (None, 1)
    assert failed.send_after == frozen_now + timedelta(minutes=5)
    assert failed.last_error.startswith("RuntimeError: gateway refused the request")
    assert API_KEY not in failed.last_error and "\n" not in failed.last_error

    assert deliver_pending() == DeliveryReport(0, 0)  # not before its next try
    clock.freeze(frozen_now + timedelta(minutes=5))
    assert deliver_pending() == DeliveryReport(0, 1)
    assert reload(message).attempts == 2
    assert reload(message).send_after == frozen_now + timedelta(minutes=15)

    app.config["SMS_BACKEND"] = "portal.messaging.LogSmsBackend"  # the gateway is back
    clock.freeze(frozen_now + timedelta(minutes=15))
    assert deliver_pending() == DeliveryReport(1, 0)
    sent = reload(message)
    assert (sent.attempts, sent.last_error) == (3, "")


def test_given_up_after_five_attempts(app: Flask, frozen_now: datetime) -> None:
    app.config["SMS_BACKEND"] = "tests.test_messaging_delivery.FailingSms"
    message = queue(MessageChannel.SMS, "0612345678", "Bonjour")
    for hour in range(1, 6):
        assert deliver_pending() == DeliveryReport(0, 1)
        clock.freeze(frozen_now + timedelta(hours=hour))
    assert deliver_pending() == DeliveryReport(0, 0)
    assert reload(message).attempts == 5


def test_one_failure_does_not_stop_the_others(app: Flask, inbox: Inbox,
                                              frozen_now: datetime) -> None:
    app.config["SMS_BACKEND"] = "tests.test_messaging_delivery.FailingSms"
    queue(MessageChannel.SMS, "0612345678", "Bonjour")
    queue(MessageChannel.EMAIL, "marie@example.org", "Bonjour", subject="Test")
    assert deliver_pending() == DeliveryReport(sent=1, failed=1)
    assert len(inbox.envelopes) == 1


# --- two runs at once ------------------------------------------------------------------

@pytest.fixture
def slow_sms(app: Flask) -> Iterator[type[SlowSms]]:
    app.config["SMS_BACKEND"] = "tests.test_messaging_delivery.SlowSms"
    SlowSms.sent, SlowSms.overlapping = [], []
    yield SlowSms
    SlowSms.sent, SlowSms.overlapping = [], []


def test_a_message_being_sent_is_not_taken_by_another_run(slow_sms: type[SlowSms],
                                                          frozen_now: datetime) -> None:
    message = queue(MessageChannel.SMS, "0612345678", "Bonjour")
    assert deliver_pending() == DeliveryReport(1, 0)
    assert slow_sms.overlapping == [DeliveryReport(0, 0)]
    assert slow_sms.sent == ["0612345678"]
    assert reload(message).attempts == 1


def test_a_stale_candidate_is_not_claimed(monkeypatch: pytest.MonkeyPatch,
                                          sms_log: pytest.LogCaptureFixture,
                                          frozen_now: datetime) -> None:
    """Two runs read the same due messages; only the first claim wins."""
    from portal import messaging

    queue(MessageChannel.SMS, "0612345678", "Bonjour")
    seen = messaging._candidates(100)  # what both runs read before either claimed
    monkeypatch.setattr(messaging, "_candidates", lambda limit: seen)
    assert deliver_pending() == DeliveryReport(1, 0)
    assert deliver_pending() == DeliveryReport(0, 0)
    assert len([r for r in sms_log.records if r.name == "portal.sms"]) == 1


# --- commands --------------------------------------------------------------------------

def test_send_messages_command(app: Flask, inbox: Inbox, frozen_now: datetime) -> None:
    for n in range(3):
        queue(MessageChannel.EMAIL, f"p{n}@example.org", "Bonjour", subject="Test")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["send-messages", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 envoyés, 0 en échec"

    result = runner.invoke(args=["send-messages"])
    assert result.output.strip() == "1 envoyé, 0 en échec"
    assert len(inbox.envelopes) == 3


def test_send_messages_refuses_an_unknown_sms_backend(app: Flask) -> None:
    app.config["SMS_BACKEND"] = "portal.nowhere.Backend"
    result = app.test_cli_runner().invoke(args=["send-messages"])
    assert result.exit_code == 1
    assert "Erreur de configuration" in result.output


def test_send_reminders_command(app: Flask, factory: Any, frozen_now: datetime) -> None:
    site = factory.site()
    session = factory.session(site, starts_in=timedelta(hours=20))
    factory.booking(session, factory.beneficiary(phone="0612345678"))
    runner = app.test_cli_runner()

    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 rappel mis en file d'attente."
    assert runner.invoke(args=["send-reminders"]).output.strip() == (
        "0 rappel mis en file d'attente.")
