"""Messages are neither lost nor sent twice when the mail server misbehaves or the sender crashes.

Against real SMTP servers on this machine (aiosmtpd, and a hand-written one for the faults
aiosmtpd cannot play): refusals, a server that never answers, one that hangs up, one that
demands TLS, a connection cut in the middle of a message; then the real ``flask
send-messages`` program killed while the server holds a message, and two of them at once.
The guarantee proved is the documented one (docs/architecture.md#delivery-guarantees):
at least once, every copy with the same Message-ID, never two copies from two runs at once.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, update

from portal import clock, create_app
from portal.config import ConfigurationError
from portal.extensions import db
from portal.messaging import DeliveryReport, deliver_pending
from portal.models import OutboxMessage
from portal.models.vocab import MessageChannel
from tests.conftest import SECRET, base_config
from tests.smtp_faults import (
    BOUNCED,
    BUSY,
    DROP,
    HOLD,
    REFUSED,
    SLOW,
    FaultyServer,
    Picky,
    parse,
    picky_server,
    wait_for,
)
from tests.test_messaging_delivery import queue, reload

ROOT = Path(__file__).parents[1]
SENDER = "Cyberbase <cyberbase@example.org>"
TIMEOUT = 0.5  # MAIL_TIMEOUT in this process: a server silent this long is given up on

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def picky() -> Iterator[tuple[Picky, int]]:
    with picky_server() as server:
        yield server


@pytest.fixture
def app_config(database_url: str, picky: tuple[Picky, int]) -> dict[str, Any]:
    return {**base_config(database_url), "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": picky[1],
            "MAIL_FROM": SENDER, "MAIL_TIMEOUT": TIMEOUT}


def email(recipient: str) -> OutboxMessage:
    return queue(MessageChannel.EMAIL, recipient, "Bonjour", subject="Votre atelier")


# --- a server that refuses or stays silent, message by message ---------------------------

def test_refusals_and_silences_fail_one_message_each_and_are_retried(
        app: Flask, picky: tuple[Picky, int], frozen_now: datetime,
        caplog: pytest.LogCaptureFixture) -> None:
    server, _ = picky
    first = email("ok1@example.org")
    refused = email(f"{REFUSED}@example.org")
    busy = email(f"{BUSY}@example.org")
    bounced = email(f"{BOUNCED}@example.org")
    slow = email(f"{SLOW}@example.org")
    last = email("ok2@example.org")
    sms = queue(MessageChannel.SMS, "0612345678", "Bonjour")

    assert deliver_pending() == DeliveryReport(sent=3, failed=4)

    assert [m["To"] for m in server.accepted_for("ok")] == ["ok1@example.org", "ok2@example.org"]
    for done in (first, last, sms):
        assert reload(done).sent_at == frozen_now
    errors = {
        refused: "SMTPRecipientsRefused: 550 5.1.1 Unknown user",
        busy: "SMTPRecipientsRefused: 451 4.3.0 Mailbox busy, try again later",
        bounced: "SMTPDataError: 554 5.6.0 Message refused",
        slow: "SMTPServerDisconnected: Connection unexpectedly closed: timed out",
    }
    for message, error in errors.items():
        failed = reload(message)
        assert (failed.sent_at, failed.attempts, failed.last_error) == (None, 1, error)
        assert failed.send_after == frozen_now + timedelta(minutes=5)  # retried later

    assert deliver_pending() == DeliveryReport(0, 0)  # not before the next try
    server.healed = True  # the temporary troubles are over; the unknown user stays unknown
    clock.freeze(frozen_now + timedelta(minutes=5))
    assert deliver_pending() == DeliveryReport(sent=3, failed=1)
    for message in (busy, bounced, slow):
        assert (reload(message).attempts, reload(message).last_error) == (2, "")
    # The silent server had the slow message already: the copy sent again is the same
    # message, by its Message-ID, so the receiving system can drop it.
    [held] = server.held
    [again] = server.accepted_for(SLOW)
    assert parse(held)["Message-ID"] == again["Message-ID"]
    assert again["Message-ID"] != server.accepted_for(BUSY)[0]["Message-ID"]

    logger = logging.getLogger("portal.messaging")  # "portal" keeps its records to itself
    logger.addHandler(caplog.handler)
    try:
        for hour in range(1, 4):  # the permanent refusal: five attempts, then given up
            clock.freeze(frozen_now + timedelta(hours=hour))
            assert deliver_pending() == DeliveryReport(0, 1)
    finally:
        logger.removeHandler(caplog.handler)
    clock.freeze(frozen_now + timedelta(days=1))
    assert deliver_pending() == DeliveryReport(0, 0)
    given_up = reload(refused)
    assert (given_up.sent_at, given_up.attempts) == (None, 5)
    assert given_up.last_error.startswith("SMTPRecipientsRefused: 550")
    assert f"message {refused.id} given up after 5 attempts" in caplog.text
    assert len(server.accepted) == 5  # ok1, ok2, busy, bounce, slow: once each


# --- a server that cuts the line, or cannot be used at all -------------------------------

FAULTS = {  # the last one leaves both e-mails waiting for the repaired server
    "drop": r"(SMTPServerDisconnected|ConnectionResetError|BrokenPipeError): .+",
    "silent": "BackendUnavailable: SMTPServerDisconnected: Connection unexpectedly closed: "
              "timed out",
    # Closed after the greeting: the client may read the close or a reset (a race of the OS).
    "hangup": "BackendUnavailable: SMTPServerDisconnected: Connection unexpectedly closed"
              "(: .+)?",
    "tls": "BackendUnavailable: SMTPSenderRefused: 530 5.7.0 Must issue a STARTTLS command "
           "first",
}


def test_a_broken_server_costs_one_attempt_and_never_blocks_the_sms(
        app: Flask, picky: tuple[Picky, int], frozen_now: datetime) -> None:
    for mode, error in FAULTS.items():
        db.session.execute(delete(OutboxMessage))
        db.session.commit()
        first = email(f"{DROP}@example.org")
        second = email("ok@example.org")
        sms = queue(MessageChannel.SMS, "0612345678", "Bonjour")
        with FaultyServer(mode) as server:
            app.config["MAIL_PORT"] = server.port
            report = deliver_pending()
        failed = reload(first)
        assert (failed.sent_at, failed.attempts) == (None, 1), mode
        assert re.fullmatch(error, failed.last_error), (mode, failed.last_error)
        assert reload(sms).sent_at == frozen_now, mode
        if mode == "drop":  # only that message was cut: the next one went through
            assert report == DeliveryReport(sent=2, failed=1)
            assert server.received == ["ok@example.org"]
            assert reload(second).sent_at == frozen_now
        else:  # the server is down for everyone: the others wait for the next run, untried
            assert report == DeliveryReport(sent=1, failed=1), mode
            assert reload(second).attempts == 0, mode

    app.config["MAIL_PORT"] = picky[1]  # the server is repaired
    clock.freeze(frozen_now + timedelta(minutes=5))
    assert deliver_pending() == DeliveryReport(sent=2, failed=0)
    assert reload(first).sent_at is not None and reload(second).sent_at is not None


def test_the_smtp_timeout_must_stay_far_below_a_claim(database_url: str) -> None:
    for wrong in (0, -1, 61, 300):
        with pytest.raises(ConfigurationError, match="PORTAL_MAIL_TIMEOUT"):
            create_app({**base_config(database_url), "MAIL_TIMEOUT": wrong})
    assert create_app({**base_config(database_url), "MAIL_TIMEOUT": 60}).config[
        "MAIL_TIMEOUT"] == 60


# --- the real sender program, killed, and two at once --------------------------------------

def send_messages(app: Flask, port: int, instance: Path) -> subprocess.Popen[str]:
    """``flask send-messages`` in a process of its own, on the test database (and an empty
    instance folder: never the checkout's own configuration)."""
    env = {**os.environ, "PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PORTAL_INSTANCE_PATH": str(instance),
           "PORTAL_SECRET_KEY": SECRET, "PORTAL_MAIL_SERVER": "127.0.0.1",
           "PORTAL_MAIL_PORT": str(port), "PORTAL_MAIL_FROM": SENDER,
           "PORTAL_MAIL_TIMEOUT": "60", "PORTAL_ENV": "development"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "portal", "send-messages"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(run: subprocess.Popen[str]) -> str:
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    return out.strip()


def test_a_sender_killed_before_marking_sent_sends_again_later_with_the_same_message_id(
        app: Flask, picky: tuple[Picky, int], tmp_path: Path) -> None:
    server, port = picky
    held = email(f"{HOLD}@example.org")
    other = email("ok@example.org")

    run = send_messages(app, port, tmp_path)
    wait_for(lambda: server.held)  # the server has the whole message; the sender waits
    run.kill()  # SIGKILL: no chance to mark anything
    run.communicate(timeout=20)
    server.released.set()
    crashed = reload(held)
    assert (crashed.sent_at, crashed.attempts, crashed.last_error) == (None, 1, "")

    # At once: the claim still holds, so the message is not sent a second time yet, and the
    # crash holds nothing else back.
    assert finish(send_messages(app, port, tmp_path)) == "1 envoyé, 0 en échec"
    assert [m["To"] for m in server.accepted_for("")] == ["ok@example.org"]
    assert reload(other).sent_at is not None

    # Five minutes later the claim has expired: at least once, so it is sent again (by this
    # process, the same code), with the Message-ID of the copy the server already had.
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == held.id)
                       .values(send_after=clock.now() - timedelta(seconds=1)))
    db.session.commit()
    assert deliver_pending() == DeliveryReport(sent=1, failed=0)
    [again] = server.accepted_for(HOLD)
    assert again["Message-ID"] == parse(server.held[0])["Message-ID"]
    assert re.fullmatch(rf"<outbox\.{held.id}\.\d{{20}}@example\.org>", again["Message-ID"])
    done = reload(held)
    assert (done.sent_at is not None, done.attempts) == (True, 2)
    assert deliver_pending() == DeliveryReport(0, 0)
    assert len(server.accepted) == 2


def test_two_senders_at_once_never_send_a_message_twice(app: Flask, picky: tuple[Picky, int],
                                                        tmp_path: Path) -> None:
    server, port = picky
    server.wait_for_peers = 2  # the first delivery waits until the other run is sending too
    server.delay = 0.01
    queued = [email(f"p{n}@example.org").id for n in range(20)]

    runs = [send_messages(app, port, tmp_path), send_messages(app, port, tmp_path)]
    outputs = [finish(run) for run in runs]

    sent = [int(re.match(r"(\d+) envoyés?, 0 en échec", out).group(1))  # type: ignore[union-attr]
            for out in outputs]
    assert sum(sent) == 20 and min(sent) >= 1, outputs  # both runs delivered some
    assert len(server.peers) == 2
    ids = [message["Message-ID"] for message in server.accepted_for("p")]
    assert len(ids) == len(set(ids)) == 20
    db.session.expire_all()
    for message_id in queued:
        message = db.session.get(OutboxMessage, message_id)
        assert message is not None
        assert (message.sent_at is not None, message.attempts) == (True, 1)
