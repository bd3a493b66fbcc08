"""A year of sessions (past months, today at several sites, the coming weeks), written day by
day with their bookings: attendance of past sessions, waiting lists of full ones, cancellations,
and what a closed session leaves behind (cheques taken, certificates, attendance sheets)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from portal.benchdata import documents, vouchers
from portal.benchdata.names import unique_code
from portal.benchdata.network import Network, SiteInfo, WorkshopInfo
from portal.benchdata.plan import FUTURE_DAYS, PAST_DAYS
from portal.clock import paris_to_utc
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.vocab import BookingSource, BookingStatus, DocumentKind, SessionStatus

SESSION = WorkshopSession.__table__
BOOKING = Booking.__table__
SLOTS = (time(9, 30), time(14, 0), time(16, 30))
ROOMS = ("Salle informatique", "Salle 2", "Salle 3", "Fab Lab")
CANCEL_SESSION = 0.03
CANCEL_BOOKING = 0.10
#: of the people present at a past session paying in cheques, those who paid with cheques.
PAID_IN_CHEQUES = 0.15
#: of the people present where the workshop grants one, those whose certificate was issued.
CERTIFIED = 0.2
ATTENDANCE_SHEETS = 0.3


@dataclass(frozen=True)
class Slot:
    day: date
    site_index: int
    turn: int  # the n-th session of the site that day


def _days(net: Network) -> list[date]:
    """The open days of the window (no Sunday), today always among them."""
    today = net.today
    days = [today + timedelta(days=d) for d in range(-PAST_DAYS, FUTURE_DAYS + 1)]
    return [day for day in days if day.weekday() != 6 or day == today]


def slots(net: Network) -> Iterator[Slot]:
    """Exactly ``plan.sessions`` slots, in time order: today gets one per site at least (at
    least two sites), the rest spread evenly over the other open days, sites in turn."""
    sites = net.plan.sites
    days = _days(net)
    on_today = min(net.plan.sessions, max(sites, round(net.plan.sessions / len(days))))
    rest = net.plan.sessions - on_today
    others = len(days) - 1
    next_site = 0
    other_index = 0
    for day in days:
        if day == net.today:
            count = on_today
        else:
            count = _spread(rest, others, other_index)
            other_index += 1
        for k in range(count):
            site_index = k % sites if day == net.today else (next_site + k) % sites
            yield Slot(day, site_index, k // sites)
        if day != net.today:
            next_site = (next_site + count) % sites


def _spread(total: int, buckets: int, index: int) -> int:
    return (index + 1) * total // buckets - index * total // buckets


def _rows_per_session(net: Network) -> Iterator[int]:
    """Bookings of each session, in order, summing to ``plan.bookings``: an even share,
    made uneven by pairs (one session gets what the next lacks)."""
    total, count = net.plan.bookings, net.plan.sessions
    for i in range(0, count, 2):
        first = _spread(total, count, i)
        if i + 1 == count:
            yield first
            return
        second = _spread(total, count, i + 1)
        delta = net.rng.randint(0, max(0, min(first, second) // 3))
        yield first + delta
        yield second - delta


def _between(net: Network, start: datetime, end: datetime) -> datetime:
    if end <= start:
        return start
    return start + (end - start) * net.rng.random()


def write_sessions(net: Network) -> None:
    net.writer.phase("séances, inscriptions, chèques et documents")
    counts = _rows_per_session(net)
    for slot in slots(net):
        _session(net, slot, next(counts))


def _session(net: Network, slot: Slot, rows: int) -> None:
    writer, rng, at = net.writer, net.rng, net.at
    site = net.sites[slot.site_index]
    workshop_ids = net.network_workshop_ids + site.workshop_ids
    workshop = net.workshops[rng.choice(workshop_ids)]
    turn = slot.turn
    starts = paris_to_utc(datetime.combine(slot.day, SLOTS[turn % len(SLOTS)]))
    ends = starts + timedelta(minutes=workshop.minutes)
    animator_id = site.animator_ids[turn % len(site.animator_ids)]
    session_id = writer.next_id(SESSION)
    created = min(at - timedelta(hours=1), starts - timedelta(days=35))
    past = slot.day < net.today
    cancelled = slot.day != net.today and rng.random() < CANCEL_SESSION
    cancelled_at = _between(net, created, min(at, starts - timedelta(hours=2))) \
        if cancelled else None
    closed_at = ends + timedelta(minutes=15) if past and not cancelled else None
    status = (SessionStatus.CANCELLED if cancelled
              else SessionStatus.CLOSED if past else SessionStatus.SCHEDULED)
    bookings, capacity = _bookings(net, site, slot.site_index, session_id, rows, created,
                                   starts, cancelled_at, closed_at, animator_id)
    holding = sum(b["status"] in (BookingStatus.BOOKED, BookingStatus.PRESENT) for b in bookings)
    writer.add(SESSION, {
        "id": session_id, "workshop_id": workshop.id, "course_id": None, "site_id": site.id,
        "starts_at": starts, "ends_at": ends, "room": ROOMS[turn // len(SLOTS) % len(ROOMS)],
        "room_accessibility": "", "capacity": capacity, "seats_taken": holding,
        "animator_id": animator_id, "status": status,
        "cancelled_reason": "Animateur absent" if cancelled else "",
        "cancelled_at": cancelled_at, "cancelled_by_id": site.admin_id if cancelled else None,
        "closed_at": closed_at, "closed_by_id": animator_id if closed_at else None,
        "reopened_at": None, "reopened_by_id": None, "reopen_reason": "", "series_id": None,
        "note": "", "changed_at": None, "change_kinds": "", "created_at": created,
    })
    writer.add_all(BOOKING, bookings)
    if closed_at is not None:
        _after_closing(net, site, workshop, session_id, bookings, starts, closed_at, animator_id)


def _bookings(net: Network, site: SiteInfo, site_index: int, session_id: int, rows: int,
              created: datetime, starts: datetime, cancelled_at: datetime | None,
              closed_at: datetime | None, animator_id: int
              ) -> tuple[list[dict[str, object]], int]:
    """The session's bookings in the order they were made, and its capacity: the first ones
    hold the seats, the later ones wait (an upcoming full session), some are cancelled."""
    rng, at = net.rng, net.at
    people = (net.upcoming_people(site_index, rows) if starts > at
              else net.person_of_site(site_index)(rows))
    latest = min(at, starts - timedelta(minutes=30), cancelled_at or at)
    made = sorted(_between(net, created, latest) for _ in people)
    started = starts <= at
    capacity = min(500, max(1, round(rows * rng.uniform(0.75, 1.2))))
    if closed_at or cancelled_at:  # nobody waits any more: everyone had a seat
        capacity = 500
    seated = 0
    waiting = 0
    result = []
    for person_id, when in zip(people, made, strict=True):
        booking_id = net.writer.next_id(BOOKING)
        desk = rng.random() < 0.35
        row: dict[str, object] = {
            "id": booking_id, "session_id": session_id, "beneficiary_id": person_id,
            "code": unique_code(booking_id, 8, salt=611_953),
            "status": BookingStatus.BOOKED,
            "source": BookingSource.DESK if desk else BookingSource.ONLINE,
            "waitlist_position": None, "created_at": when,
            "created_by_id": site.reception_id if desk else None,
            "status_changed_at": when, "status_changed_by_id": None,
            "checked_in_at": None, "checked_in_by_id": None, "cancelled_at": None,
        }
        if cancelled_at is not None or rng.random() < CANCEL_BOOKING:
            gone = cancelled_at or _between(net, when, latest)
            row.update(status=BookingStatus.CANCELLED, cancelled_at=gone, status_changed_at=gone)
        elif seated >= capacity:
            waiting += 1
            row.update(status=BookingStatus.WAITLISTED, waitlist_position=waiting)
        else:
            seated += 1
            if closed_at is not None or (started and rng.random() < 0.7):
                _attendance(net, row, starts, closed_at, animator_id)
        result.append(row)
    if closed_at or cancelled_at:
        capacity = min(500, max(1, seated, round(rows * rng.uniform(0.8, 1.1))))
    return result, capacity


def _attendance(net: Network, row: dict[str, object], starts: datetime,
                closed_at: datetime | None, animator_id: int) -> None:
    """Present (checked in around the start), or, once closed, excused or absent."""
    draw = net.rng.random()
    if closed_at is None or draw < 0.82:
        checked = min(net.at, starts + timedelta(minutes=net.rng.uniform(-10, 12)))
        row.update(status=BookingStatus.PRESENT, checked_in_at=checked,
                   checked_in_by_id=animator_id, status_changed_at=checked,
                   status_changed_by_id=animator_id)
    else:
        status = BookingStatus.EXCUSED if draw < 0.9 else BookingStatus.ABSENT
        row.update(status=status, status_changed_at=closed_at, status_changed_by_id=animator_id)


def _after_closing(net: Network, site: SiteInfo, workshop: WorkshopInfo, session_id: int,
                   bookings: list[dict[str, object]], starts: datetime, closed_at: datetime,
                   animator_id: int) -> None:
    rng = net.rng
    when = starts.strftime("%d/%m/%Y")
    for row in bookings:
        if row["status"] is not BookingStatus.PRESENT:
            continue
        checked = row["checked_in_at"]
        assert isinstance(checked, datetime)
        person_id = row["beneficiary_id"]
        assert isinstance(person_id, int)
        if workshop.price and rng.random() < PAID_IN_CHEQUES:
            taken = checked + timedelta(minutes=2)
            receipt = documents.issue(
                net, DocumentKind.RECEIPT, site, taken, subject=workshop.title,
                staff_id=animator_id, beneficiary_id=person_id, session_id=session_id,
                dates=when, extra={"cheques": workshop.price})
            vouchers.redeem(net, workshop.price, taken, site_id=site.id, staff_id=animator_id,
                            receipt_id=receipt, booking_id=int(str(row["id"])))
        if workshop.attestation and rng.random() < CERTIFIED:
            documents.issue(net, DocumentKind.CERTIFICATE, site,
                            closed_at + timedelta(minutes=rng.randint(1, 30)),
                            subject=workshop.title, staff_id=animator_id,
                            beneficiary_id=person_id, session_id=session_id, dates=when)
    if rng.random() < ATTENDANCE_SHEETS:
        documents.issue(net, DocumentKind.ATTENDANCE_SHEET, site, closed_at,
                        subject=workshop.title, staff_id=animator_id, session_id=session_id,
                        dates=when)
