"""Calendar files (RFC 5545): one booking as an .ics file, and a personal feed.

The feed URL carries a random token; only its hash is stored, so the link is shown once
when it is created, and renewing it revokes the old one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _

from portal.clock import now
from portal.extensions import db
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.people import Beneficiary
from portal.models.vocab import BookingStatus, SessionStatus
from portal.services.audit import Actor, record

PRODUCT_ID = "-//Portail//Ateliers numeriques//FR"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def create_feed_token(person: Beneficiary, *, actor: Actor) -> str:
    """A new secret feed token (the previous link stops working). Returned once."""
    token = secrets.token_urlsafe(24)
    person.calendar_token_hash = _hash(token)
    record(actor, "calendar.feed_created", object_type="beneficiary", object_id=person.id)
    db.session.commit()
    return token


def revoke_feed(person: Beneficiary, *, actor: Actor) -> None:
    if person.calendar_token_hash is None:
        return
    person.calendar_token_hash = None
    record(actor, "calendar.feed_revoked", object_type="beneficiary", object_id=person.id)
    db.session.commit()


def person_for_feed(token: str) -> Beneficiary | None:
    if not token or len(token) > 100:
        return None
    person = db.session.scalar(
        db.select(Beneficiary).filter_by(calendar_token_hash=_hash(token))
    )
    if person is None or not person.is_active or person.is_anonymised:
        return None
    return person


def feed_bookings(person: Beneficiary) -> list[Booking]:
    """What the feed shows: booked sessions from a month ago on, and cancelled ones."""
    return list(db.session.scalars(
        db.select(Booking).join(Booking.session)
        .where(Booking.beneficiary_id == person.id,
               Booking.status.in_([BookingStatus.BOOKED, BookingStatus.PRESENT,
                                   BookingStatus.CANCELLED]),
               WorkshopSession.starts_at > now() - timedelta(days=31))
        .order_by(WorkshopSession.starts_at)
    ).unique())


def calendar(bookings: Iterable[Booking], *, name: str) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT_ID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_text(name)}"]
    stamp = _utc(now())
    for booking in bookings:
        lines.extend(_event(booking, stamp))
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _event(booking: Booking, stamp: str) -> list[str]:
    session = booking.session
    site = session.site
    cancelled = (booking.status is BookingStatus.CANCELLED
                 or session.status is SessionStatus.CANCELLED)
    place = ", ".join(p for p in (site.name, session.room, site.address,
                                  f"{site.postcode} {site.city}".strip()) if p)
    description = session.workshop.description
    if site.phone:
        description += "\n" + _("Pour prévenir ou annuler : %(phone)s", phone=site.phone)
    return [
        "BEGIN:VEVENT",
        f"UID:booking-{booking.code}@portail",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_utc(session.starts_at)}",
        f"DTEND:{_utc(session.ends_at)}",
        f"SUMMARY:{_text(session.workshop.title)}",
        f"LOCATION:{_text(place)}",
        f"DESCRIPTION:{_text(description)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"SEQUENCE:{int(booking.status_changed_at.timestamp())}",
        "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT2H",
        f"DESCRIPTION:{_text(session.workshop.title)}", "END:VALARM",
        "END:VEVENT",
    ]


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", ""))


def _fold(line: str) -> str:
    """Fold lines longer than 75 octets without splitting a UTF-8 character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = ""
    limit = 75
    for char in line:
        if len((current + char).encode("utf-8")) > limit:
            parts.append(current)
            current = char
            limit = 74  # continuation lines start with a space
        else:
            current += char
    parts.append(current)
    return "\r\n ".join(parts)
