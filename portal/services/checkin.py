"""Check-in: the sessions a staff member works on, with their counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func

from portal.clock import PARIS, now
from portal.extensions import db
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.people import StaffMember
from portal.models.vocab import BookingStatus
from portal.services.people import visible_site_ids


@dataclass(frozen=True)
class SessionCounts:
    session: WorkshopSession
    booked: int
    present: int
    waitlisted: int


def sessions_by_day(staff: StaffMember, *, days: int) -> list[tuple[date, list[SessionCounts]]]:
    """Sessions from today (Paris) for ``days`` days, with booked/present/waitlist counts."""
    today = now().astimezone(PARIS).date()
    start = datetime.combine(today, time.min, PARIS)
    end = start + timedelta(days=days)
    counts = (
        db.select(
            Booking.session_id,
            func.sum(case((Booking.status == BookingStatus.BOOKED, 1), else_=0)).label("booked"),
            func.sum(case((Booking.status == BookingStatus.PRESENT, 1), else_=0)).label("present"),
            func.sum(case((Booking.status == BookingStatus.WAITLISTED, 1), else_=0)).label(
                "waitlisted"),
        )
        .group_by(Booking.session_id)
        .subquery()
    )
    query = (
        db.select(WorkshopSession, counts.c.booked, counts.c.present, counts.c.waitlisted)
        .outerjoin(counts, counts.c.session_id == WorkshopSession.id)
        .where(WorkshopSession.starts_at >= start, WorkshopSession.starts_at < end)
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
    )
    site_ids = visible_site_ids(staff)
    if site_ids is not None:
        query = query.where(WorkshopSession.site_id.in_(site_ids or [-1]))
    grouped: dict[date, list[SessionCounts]] = defaultdict(list)
    for session, booked, present, waitlisted in db.session.execute(query).unique():
        day = session.starts_at.astimezone(PARIS).date()
        grouped[day].append(SessionCounts(session, booked or 0, present or 0, waitlisted or 0))
    return sorted(grouped.items())
