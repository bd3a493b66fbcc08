"""How many rows of each kind a scale asks for (S = 1 is a department's network)."""

from __future__ import annotations

from dataclasses import dataclass

#: a department's network, per year (issue 14): every other count follows these.
DEPARTMENT = {
    "beneficiaries": 100_000,
    "sessions": 30_000,
    "bookings": 1_000_000,
    "accompaniments": 40_000,
    "cheques_unused": 20_000,
}
MIN_SITES, MAX_SITES = 2, 50
#: staff of each site (one site administrator, two animateurs, one receptionist) and the
#: administrators of the whole network.
STAFF_PER_SITE = 4
NETWORK_ADMINS = 2
#: the year of sessions: so many days back and the coming weeks.
PAST_DAYS = 320
FUTURE_DAYS = 45


@dataclass(frozen=True)
class Plan:
    """The counts of one run; the generator writes exactly these."""

    scale: float
    sites: int
    beneficiaries: int
    sessions: int
    bookings: int
    accompaniments: int
    cheques_unused: int

    @property
    def staff(self) -> int:
        return self.sites * STAFF_PER_SITE + NETWORK_ADMINS


def _scaled(count: int, scale: float, minimum: int) -> int:
    return max(minimum, round(count * scale))


def plan_for(scale: float) -> Plan:
    """S = 1: 50 sites, 100 000 people, 30 000 sessions, 1 000 000 bookings; S = 0.01 is a
    hundredth of each (at least two sites, and enough people for every session)."""
    if not 0 < scale <= 10:
        raise ValueError("scale must be in (0, 10]")
    sites = min(MAX_SITES, max(MIN_SITES, round(50 * scale)))
    sessions = _scaled(DEPARTMENT["sessions"], scale, 4 * sites)
    bookings = _scaled(DEPARTMENT["bookings"], scale, 10 * sessions)
    # every site's pool of people must hold the largest session's bookings
    people = _scaled(DEPARTMENT["beneficiaries"], scale, 0)
    per_session = bookings / sessions
    people = max(people, sites * round(2 * per_session + 10))
    return Plan(
        scale=scale, sites=sites, beneficiaries=people, sessions=sessions, bookings=bookings,
        accompaniments=_scaled(DEPARTMENT["accompaniments"], scale, 2 * sites),
        cheques_unused=_scaled(DEPARTMENT["cheques_unused"], scale, sites),
    )
