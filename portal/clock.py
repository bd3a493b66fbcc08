"""The one clock of the portal: UTC inside, Europe/Paris on screen and paper.

Tests freeze or move time with ``clock.freeze(when)`` / ``clock.unfreeze()``; the demo builds
its past through the services inside ``clock.set_to(when)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def today_local() -> date:
    return now().astimezone(PARIS).date()


def freeze(when: datetime) -> None:
    global _frozen
    if when.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    _frozen = when.astimezone(UTC)


def unfreeze() -> None:
    global _frozen
    _frozen = None


def frozen() -> datetime | None:
    """The moment the clock is frozen at; None while it runs."""
    return _frozen


@contextmanager
def set_to(when: datetime) -> Iterator[None]:
    """The clock reads ``when`` inside the block, then exactly what it read before (still
    frozen at the same moment, or running again)."""
    before = _frozen
    freeze(when)
    try:
        yield
    finally:
        if before is None:
            unfreeze()
        else:
            freeze(before)


def local(value: datetime) -> datetime:
    """A stored UTC datetime shown in the centre's time zone."""
    return value.astimezone(PARIS)


def paris_to_utc(naive_local: datetime) -> datetime:
    """A wall-clock time typed in Paris (naive) as an aware UTC datetime."""
    return naive_local.replace(tzinfo=PARIS).astimezone(UTC)
