"""Messages to beneficiaries, queued in the outbox and sent later by ``flask send-messages``.

The booking services call the ``queue_*`` functions INSIDE their unit of work: the message
is added to the session and committed with the change it announces, never on its own.
``queue_reminders`` is a job of its own (``flask send-reminders``, from cron) and commits.

Texts are short and plain (FALC spirit), written in French, translated by the English
catalogue, composed in the person's language; days and times are those of Europe/Paris.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from portal.clock import now
from portal.extensions import db
from portal.formatting import day_without_year, hour
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.messages import OutboxMessage
from portal.models.people import Beneficiary, Site
from portal.models.vocab import BookingStatus, ContactChannel, MessageChannel, SessionStatus
from portal.services.gsm7 import segments

# Topics (stored in OutboxMessage.topic and at the start of each dedupe key).
BOOKING_CONFIRMED = "booking_confirmed"
WAITLISTED = "waitlisted"
PROMOTED = "promoted"
SESSION_CANCELLED = "session_cancelled"
SESSION_CHANGED = "session_changed"
REMINDER = "reminder"

#: an SMS is shortened to fit in this many parts when it can be.
SMS_MAX_SEGMENTS = 2


# --- whom and how ----------------------------------------------------------------------

def channel_for(person: Beneficiary) -> tuple[MessageChannel, str] | None:
    """The channel the person chose (``preferred_channel``) when it can reach them, else
    e-mail if they have one, else SMS to a mobile; None (and always for "paper"): staff tell
    them in person, with a convocation."""
    if person.is_anonymised or person.preferred_channel is ContactChannel.PAPER:
        return None
    email = person.email.strip()
    if person.preferred_channel is ContactChannel.SMS and not person.has_no_phone:
        number = sms_number(person.phone)
        if number:
            return MessageChannel.SMS, number
    if email:
        return MessageChannel.EMAIL, email
    if person.has_no_phone:
        return None
    number = sms_number(person.phone)
    return (MessageChannel.SMS, number) if number else None


_SEPARATORS = re.compile(r"[\s.\-/()]")
_FRENCH_MOBILE = re.compile(r"0[67]\d{8}")


def sms_number(phone: str) -> str | None:
    """The number to text, compacted (``0612345678``, ``+33612345678``, ``+32470…``), or None.

    A French landline cannot receive an SMS, and many older people give one: None.
    A number of another country, written with ``+`` or ``00``, is left to the gateway.
    """
    compact = _SEPARATORS.sub("", phone)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?\d{6,15}", compact):
        return None
    if compact.startswith("+33"):  # "+33 (0)6 12 …" is written too
        compact = "+33" + compact[3:].removeprefix("0")
        return compact if _FRENCH_MOBILE.fullmatch("0" + compact[3:]) else None
    if compact.startswith("+"):
        return compact
    return compact if _FRENCH_MOBILE.fullmatch(compact) else None


# --- queuing (inside the caller's unit of work) ----------------------------------------

def queue_booking_confirmed(booking: Booking) -> OutboxMessage | None:
    """"Your booking is confirmed." Added to the session, not committed."""
    return _queue(BOOKING_CONFIRMED, booking)


def queue_waitlisted(booking: Booking) -> OutboxMessage | None:
    """"The workshop is full, you are on the waiting list." Added, not committed."""
    return _queue(WAITLISTED, booking)


def queue_promoted(booking: Booking) -> OutboxMessage | None:
    """"A seat is free: you are booked" (promoted from the waiting list). Added, not committed."""
    return _queue(PROMOTED, booking)


def queue_session_cancelled(booking: Booking, reason: str = "") -> OutboxMessage | None:
    """"The centre cancelled this session" (with its reason). Added, not committed."""
    return _queue(SESSION_CANCELLED, booking, reason=reason)


def queue_session_changed(booking: Booking) -> OutboxMessage | None:
    """"The time, site or room of your session changed" (its new facts). Added, not committed.

    Once per change: the key holds the change's moment and the session's new time and room.
    """
    session = booking.session
    assert session.changed_at is not None
    change = "|".join((_iso(session.changed_at), _iso(session.starts_at), str(session.site_id),
                       session.room))
    key = f"{SESSION_CHANGED}:{booking.id}:{hashlib.sha256(change.encode()).hexdigest()[:32]}"
    return _queue(SESSION_CHANGED, booking, key=key)


def _queue(topic: str, booking: Booking, *, reason: str = "",
           key: str | None = None) -> OutboxMessage | None:
    """The message for one event, once: the same event queued again returns the first one.

    None when the person cannot be reached or the session has already started.
    """
    key = key or _event_key(topic, booking)  # first: it flushes a new booking
    target = channel_for(booking.beneficiary)
    if target is None or booking.session.has_started(now()):
        return None
    existing = db.session.scalar(select(OutboxMessage).filter_by(dedupe_key=key))
    if existing is not None:
        return existing
    message = _message(topic, booking, target, key, reason=reason)
    db.session.add(message)
    return message


def _event_key(topic: str, booking: Booking) -> str:
    if booking.id is None or booking.status_changed_at is None:
        db.session.flush()  # a new booking: the key needs its id and change time
    return f"{topic}:{booking.id}:{_iso(booking.status_changed_at)}"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _message(topic: str, booking: Booking, target: tuple[MessageChannel, str], key: str,
             *, reason: str = "") -> OutboxMessage:
    channel, recipient = target
    subject, body = compose(topic, booking, channel, reason=reason)
    at = now()
    return OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body,
                         topic=topic, beneficiary_id=booking.beneficiary_id, dedupe_key=key,
                         created_at=at, send_after=at, attempts=0, last_error="")


# --- reminders (a job of its own, from cron) -------------------------------------------

def queue_reminders(at: datetime | None = None) -> int:
    """Queue one reminder per booked person of each session starting within REMINDER_BEFORE.

    Idempotent (one reminder per booking and start time: a moved session is reminded
    again) and safe when two runs overlap: the unique dedupe key settles it. Each reminder
    is committed on its own. Returns how many were queued by this run.
    """
    at = at or now()
    due = {_reminder_key(booking): booking for booking in _due_bookings(at)}
    known = _existing_keys(list(due))
    pending = []
    for key, booking in due.items():
        target = channel_for(booking.beneficiary)
        if key not in known and target is not None:
            pending.append(_message(REMINDER, booking, target, key))
    queued = 0
    for message in pending:  # built first: committing expires the bookings
        db.session.add(message)
        try:
            db.session.commit()
        except IntegrityError:  # queued meanwhile by an overlapping run
            db.session.rollback()
        else:
            queued += 1
    return queued


def _due_bookings(at: datetime) -> list[Booking]:
    horizon = at + current_app.config["REMINDER_BEFORE"]
    query = (
        select(Booking)
        .join(Booking.session)
        .options(contains_eager(Booking.session), joinedload(Booking.beneficiary))
        .where(Booking.status == BookingStatus.BOOKED,
               WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.starts_at > at,
               WorkshopSession.starts_at <= horizon)
        .order_by(WorkshopSession.starts_at, Booking.id)
    )
    return list(db.session.scalars(query).unique())


def _reminder_key(booking: Booking) -> str:
    return f"{REMINDER}:{booking.id}:{_iso(booking.session.starts_at)}"


def _existing_keys(keys: list[str]) -> set[str]:
    if not keys:
        return set()
    found = db.session.scalars(
        select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))
    )
    return {key for key in found if key}


# --- wording ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Wording:
    subject: str
    news: str  # what happened
    advice: str  # what to do next (may be empty)


def compose(topic: str, booking: Booking, channel: MessageChannel, *,
            reason: str = "") -> tuple[str, str]:
    """(subject, body) of a message, in the person's language. SMS have no subject."""
    person = booking.beneficiary
    with force_locale(_language(person)):
        wording = _wording(topic, booking, reason)
        if channel is MessageChannel.EMAIL:
            return _one_line(wording.subject)[:200], _email_body(person, booking, wording)
        return "", _sms_body(person, booking, wording)


def _language(person: Beneficiary) -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = person.preferred_language.value if person.preferred_language else ""
    return chosen if chosen in languages else languages[0]


def _wording(topic: str, booking: Booking, reason: str) -> Wording:
    title = booking.session.workshop.title
    if_cannot_come = gettext("Si vous ne pouvez pas venir, prévenez-nous.")
    if topic == BOOKING_CONFIRMED:
        return Wording(gettext("Inscription confirmée : %(title)s", title=title),
                       gettext("Votre inscription est confirmée."), if_cannot_come)
    if topic == WAITLISTED:
        position = booking.waitlist_position
        # No "ê" in what an SMS may carry: GSM-7 would turn "êtes" into "etes".
        news = (gettext("L'atelier est complet. Vous avez le numéro %(position)d sur la "
                        "liste d'attente.", position=position) if position else
                gettext("L'atelier est complet. Vous avez une place sur la liste d'attente."))
        return Wording(gettext("Liste d'attente : %(title)s", title=title), news,
                       gettext("Si une place se libère, nous vous inscrivons et nous vous "
                               "prévenons."))
    if topic == PROMOTED:
        return Wording(gettext("Une place pour vous : %(title)s", title=title),
                       gettext("Bonne nouvelle : une place s'est libérée. Votre inscription "
                               "est confirmée."), if_cannot_come)
    if topic == SESSION_CANCELLED:
        reason = _one_line(reason).rstrip(".")
        return Wording(gettext("Atelier annulé : %(title)s", title=title),
                       gettext("Cet atelier est annulé. Nous sommes désolés."),
                       gettext("Raison : %(reason)s.", reason=reason) if reason else "")
    if topic == SESSION_CHANGED:
        return Wording(gettext("Atelier modifié : %(title)s", title=title),
                       gettext("Votre atelier change d'horaire, de lieu ou de salle. Voici "
                               "la date et le lieu à retenir."), if_cannot_come)
    if topic == REMINDER:
        return Wording(gettext("Rappel : %(title)s", title=title),
                       gettext("Rappel : vous avez un atelier bientôt."), if_cannot_come)
    raise ValueError(f"unknown message topic: {topic}")


def _email_body(person: Beneficiary, booking: Booking, wording: Wording) -> str:
    session = booking.session
    facts = [gettext("Atelier : %(title)s", title=session.workshop.title),
             gettext("Date : %(when)s", when=_when(session.starts_at)),
             gettext("Lieu : %(place)s", place=_place(session))]
    address = _address(session.site)
    if address:
        facts.append(gettext("Adresse : %(address)s", address=address))
    if session.note.strip():
        facts.append(gettext("Un mot de l'équipe : %(note)s", note=_one_line(session.note)))
    paragraphs = [
        gettext("Bonjour %(name)s,", name=person.first_name),
        wording.news,
        "\n".join(facts),
        "\n".join(line for line in (wording.advice, _contact(session.site)) if line),
        gettext("À bientôt,") + "\n" + session.site.name,
    ]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph) + "\n"


def _sms_body(person: Beneficiary, booking: Booking, wording: Wording) -> str:
    """The richest text that fits in SMS_MAX_SEGMENTS, else the shortest one."""
    session = booking.session
    summary = f"{session.workshop.title}, {_when(session.starts_at)}, {_place(session)}."
    greeting = gettext("Bonjour %(name)s.", name=person.first_name)
    contact = _contact(session.site)
    variants = (
        (greeting, wording.news, summary, wording.advice, contact),
        (wording.news, summary, wording.advice, contact),
        (wording.news, summary, contact),
    )
    texts = [" ".join(part for part in parts if part) for parts in variants]
    return next((text for text in texts if segments(text) <= SMS_MAX_SEGMENTS), texts[-1])


def _when(starts_at: datetime) -> str:
    """``mardi 1er décembre à 14:00`` in Paris time, in the current language."""
    return gettext("%(day)s à %(time)s", day=day_without_year(starts_at), time=hour(starts_at))


def _place(session: WorkshopSession) -> str:
    return ", ".join(part for part in (session.site.name, session.room.strip()) if part)


def _address(site: Site) -> str:
    town = f"{site.postcode} {site.city}".strip()
    return ", ".join(part for part in (site.address.strip(), town) if part)


def _contact(site: Site) -> str:
    phone = site.phone.strip()
    return gettext("Une question ? Appelez le %(phone)s.", phone=phone) if phone else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())
