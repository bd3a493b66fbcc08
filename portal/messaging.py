"""Delivering the outbox: e-mail over SMTP, SMS through a pluggable backend.

``flask send-messages`` (from cron, every few minutes) calls ``deliver_pending``. Several
runs may overlap, on one host or many: each message is claimed with a conditional UPDATE
committed before it is sent, so it is sent by one run only. A claim also pushes the next
try back (5 minutes × attempts), so a run that dies while sending is retried later.

Delivery is at least once (docs/architecture.md#delivery-guarantees): a run killed after the
server took a message but before ``sent_at`` was committed sends it again once its claim has
expired; every copy of one outbox row carries the same Message-ID, so a mail system can drop
the duplicate.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from types import TracebackType
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import Row, select, update
from werkzeug.utils import import_string

from portal.clock import now
from portal.config import ConfigurationError
from portal.extensions import db
from portal.log import escape_controls
from portal.models.messages import OutboxMessage
from portal.models.vocab import MessageChannel
from portal.services.gsm7 import segments, to_gsm7

MAX_ATTEMPTS = 5
RETRY_STEP = timedelta(minutes=5)
DEFAULT_SMS_BACKEND = "portal.messaging.LogSmsBackend"
ERROR_LENGTH = 300  # OutboxMessage.last_error
_SECRET_SUFFIXES = ("PASSWORD", "KEY", "TOKEN", "SECRET")

logger = logging.getLogger("portal.messaging")
sms_logger = logging.getLogger("portal.sms")


class BackendUnavailable(Exception):
    """The service itself cannot be reached: the run stops using this channel."""


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int


# --- SMS -------------------------------------------------------------------------------

class SmsBackend(Protocol):
    """What ``SMS_BACKEND`` names: built with the app config, sends one GSM-7 text."""

    def __init__(self, config: Mapping[str, Any]) -> None: ...

    def send(self, recipient: str, body: str) -> None: ...


class LogSmsBackend:
    """Writes each SMS to the ``portal.sms`` logger (development, demonstration)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        if config.get("ENV_NAME") == "production":
            logger.warning("SMS_BACKEND is the log backend: SMS are logged, not sent.")

    def send(self, recipient: str, body: str) -> None:
        sms_logger.info("SMS to %s (%d part(s)): %s", mask(recipient), segments(body), body)


def mask(number: str) -> str:
    """``06******78``: enough to check a log, not enough to copy a number from it."""
    return number[:2] + "*" * max(len(number) - 4, 0) + number[-2:]


def load_sms_backend(config: Mapping[str, Any]) -> SmsBackend:
    path = config.get("SMS_BACKEND") or DEFAULT_SMS_BACKEND
    try:
        backend_class = import_string(path)
    except ImportError as error:
        raise ConfigurationError(f"SMS_BACKEND {path!r} cannot be imported: {error}") from error
    backend: SmsBackend = backend_class(config)
    return backend


# --- e-mail ----------------------------------------------------------------------------

class EmailBackend:
    """Sends plain-text e-mails over SMTP, one connection per delivery run.

    Use as a context manager: the connection opens on the first message and closes at the
    end (or after an error, to start afresh with the next message).
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.server: str = config.get("MAIL_SERVER") or "localhost"
        self.port: int = int(config.get("MAIL_PORT") or 25)
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.use_ssl = bool(config.get("MAIL_USE_SSL"))
        self.username: str = config.get("MAIL_USERNAME") or ""
        self.password: str = config.get("MAIL_PASSWORD") or ""
        self.sender: str = config.get("MAIL_FROM") or "portail@localhost"
        self.timeout = float(config.get("MAIL_TIMEOUT") or 10)
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> EmailBackend:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def send(self, recipient: str, subject: str, body: str, message_id: str = "") -> None:
        """Send one e-mail; ``message_id`` (stable per outbox row) or a fresh one.

        Raises BackendUnavailable when the server cannot be reached or refuses our sender
        (the same for every message of the run), else the SMTP error of this message.
        """
        message = build_email(self.sender, recipient, subject, body, message_id=message_id)
        smtp = self._connection()
        try:
            smtp.send_message(message)
        except smtplib.SMTPSenderRefused as error:
            self.close()
            raise BackendUnavailable(smtp_error_text(error)) from error
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            self.close()  # a clear answer: say goodbye, start afresh with the next message
            raise
        except Exception:
            self.close(polite=False)  # cut, timed out: the connection may be in any state
            raise

    def close(self, *, polite: bool = True) -> None:
        """End the connection: QUIT when the server still talks, else just close it (no
        second wait for a server that stopped answering)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        if not polite:
            smtp.close()
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (smtplib.SMTPException, OSError) as error:
                raise BackendUnavailable(smtp_error_text(error)) from error
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(self.server, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.server, self.port, timeout=self.timeout)
        try:
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo_or_helo_if_needed()  # a server that hangs up after its greeting is down
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def build_email(sender: str, recipient: str, subject: str, body: str, *,
                message_id: str = "") -> EmailMessage:
    """A plain-text UTF-8 message with Date and Message-ID, marked as automatic."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = " ".join(subject.split())  # no line break can reach a header
    message["Date"] = format_datetime(now())
    message["Message-ID"] = message_id or make_msgid(domain=_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    return message


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def outbox_message_id(message_id: int, created_at: datetime, sender: str) -> str:
    """The Message-ID of every copy of one outbox row: a resend after a crash carries the
    same one, so that the receiving mail system can drop the duplicate."""
    stamp = created_at.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")
    return f"<outbox.{message_id}.{stamp}@{_domain(sender)}>"


def smtp_error_text(error: BaseException) -> str:
    """``SMTPRecipientsRefused: 550 5.1.1 Unknown user``: the server's code and words, not
    Python's reprs of bytes (nor the address: one recipient per message, kept in its row)."""
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refusals = "; ".join(f"{code} {_text(answer)}"
                             for code, answer in error.recipients.values())
        return f"{name}: {refusals}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{name}: {error.smtp_code} {_text(error.smtp_error)}"
    return f"{name}: {error}"


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer


# --- delivery --------------------------------------------------------------------------

def deliver_pending(config: Mapping[str, Any] | None = None, *,
                    limit: int = 100) -> DeliveryReport:
    """Send up to ``limit`` due messages; one failure never stops the others.

    ``config`` defaults to the current app's. Raises ConfigurationError when SMS_BACKEND
    cannot be loaded (before anything is claimed).
    """
    if config is None:
        config = current_app.config
    sms = load_sms_backend(config)
    secrets = _secrets(config)
    sent = failed = 0
    down: set[MessageChannel] = set()
    with EmailBackend(config) as mail:
        for item in _candidates(limit):
            if item.channel in down or not _claim(item):
                continue
            try:
                _send(item, mail, sms)
            except BackendUnavailable as error:
                down.add(item.channel)  # leave the rest of this channel for a later run
                _record_failure(item, error, secrets)
                failed += 1
            except Exception as error:
                _record_failure(item, error, secrets)
                failed += 1
            else:
                _mark_sent(item.id)
                sent += 1
    return DeliveryReport(sent, failed)


def _candidates(limit: int) -> list[Row[Any]]:
    """Due, unsent messages not given up on, oldest first (plain rows, not ORM objects)."""
    query = (
        select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.channel,
               OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body,
               OutboxMessage.created_at)
        .where(OutboxMessage.sent_at.is_(None),
               OutboxMessage.send_after <= now(),
               OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(limit)
    )
    rows = list(db.session.execute(query).all())
    db.session.commit()  # end the read transaction before sending
    return rows


def _claim(item: Row[Any]) -> bool:
    """Take the message for this run, committed before sending; False: another run has it."""
    at = now()
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == item.id,
               OutboxMessage.sent_at.is_(None),
               OutboxMessage.attempts == item.attempts,
               OutboxMessage.send_after <= at)
        .values(attempts=OutboxMessage.attempts + 1,
                send_after=at + RETRY_STEP * (item.attempts + 1)),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return bool(result.rowcount == 1)


def _send(item: Row[Any], mail: EmailBackend, sms: SmsBackend) -> None:
    if item.channel is MessageChannel.EMAIL:
        mail.send(item.recipient, item.subject, item.body,
                  message_id=outbox_message_id(item.id, item.created_at, mail.sender))
    else:
        sms.send(item.recipient, to_gsm7(item.body))


def _mark_sent(message_id: int) -> None:
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id)
        .values(sent_at=now(), last_error=""),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()


def _record_failure(item: Row[Any], error: BaseException, secrets: list[str]) -> None:
    """Keep why it failed; the claim already set the next try (or it was the last one)."""
    text = describe(error, secrets)
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == item.id).values(last_error=text),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    attempts = item.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        logger.error("message %s given up after %d attempts: %s", item.id, attempts, text)
    else:
        logger.warning("message %s not sent (attempt %d): %s", item.id, attempts, text)


def describe(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """One line, short, with any configured secret blanked out."""
    text = " ".join(smtp_error_text(error).split())
    for secret in secrets:
        text = text.replace(secret, "***")
    return escape_controls(text)[:ERROR_LENGTH]


def _secrets(config: Mapping[str, Any]) -> list[str]:
    """Values of settings named like secrets (MAIL_PASSWORD, SMS_API_KEY …)."""
    return [str(value) for key, value in config.items()
            if key.upper().endswith(_SECRET_SUFFIXES) and isinstance(value, str)
            and len(value) >= 4]
