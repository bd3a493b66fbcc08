"""Bookings: reading a person's bookings (booking rules come with the beneficiary space)."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from portal.clock import now
from portal.extensions import db
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.people import Beneficiary


def bookings_of(person: Beneficiary) -> tuple[list[Booking], list[Booking]]:
    """The person's bookings: (upcoming soonest first, past latest first)."""
    rows = db.session.scalars(
        db.select(Booking)
        .join(Booking.session)
        .options(joinedload(Booking.session).joinedload(WorkshopSession.animator))
        .where(Booking.beneficiary_id == person.id)
        .order_by(WorkshopSession.starts_at)
    ).unique().all()
    at = now()
    upcoming = [b for b in rows if b.session.ends_at >= at]
    past = [b for b in rows if b.session.ends_at < at]
    past.reverse()
    return upcoming, past
