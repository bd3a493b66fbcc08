"""What the check-in service tests share: the moment, and the checks they make after a change.

The clock is frozen on Thursday 26 November 2026 at 14:00 in Paris (13:00 UTC), so "today"
never depends on when the suite runs (the ``frozen`` fixture of ``conftest.py``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from portal.extensions import db
from portal.models import Booking, ChequeProgramme, WorkshopSession
from portal.models.vocab import BookingStatus
from portal.services.errors import ServiceError

#: Thursday 26 November 2026, 14:00 in Paris.
NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
VERIFY = "https://portail.example.fr/v/{code}"


def code_of(call: Any) -> str:
    """The code of the ServiceError that ``call()`` raises."""
    with pytest.raises(ServiceError) as error:
        call()
    return error.value.code


def fresh(row: Any) -> Any:
    """The row as the database has it now (another unit of work may have changed it)."""
    db.session.expire_all()
    return db.session.get(type(row), row.id)


def seats_add_up(session: WorkshopSession | int) -> int:
    """The invariant of docs/security.md#seats (seats taken = bookings holding one).

    Returns the seats taken.
    """
    session_id = session if isinstance(session, int) else session.id
    db.session.expire_all()
    taken = db.session.get(WorkshopSession, session_id).seats_taken
    holding = db.session.scalar(db.select(db.func.count()).select_from(Booking).where(
        Booking.session_id == session_id,
        Booking.status.in_((BookingStatus.BOOKED, BookingStatus.PRESENT))))
    assert taken == holding, f"seats_taken={taken} but {holding} bookings hold a seat"
    return taken


def programme(**fields: Any) -> ChequeProgramme:
    """An APTIC programme of 2026 (ten-digit numbers), with ``fields`` changed."""
    values: dict[str, Any] = {"name": "APTIC Pas-de-Calais 2026",
                              "issuer": "Département du Pas-de-Calais", "operator": "APTIC",
                              "number_pattern": r"[0-9]{10}", "validity_end": date(2026, 12, 31)}
    values.update(fields)
    row = ChequeProgramme(**values)
    db.session.add(row)
    db.session.commit()
    return row
