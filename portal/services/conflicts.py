"""Which sessions a planned one would clash with: the same room of the same site, or the same
animator anywhere, at overlapping times; and a capacity below the seats already taken.

Intervals are half-open ``[start, end)``: a session ending at 16:00 and one starting at 16:00
do not clash. Cancelled sessions never clash. See docs/architecture.md#scheduling.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import or_

from portal.extensions import db
from portal.formatting import day, hour
from portal.models.catalogue import WorkshopSession
from portal.models.vocab import SessionStatus
from portal.services.errors import Conflict


@dataclass(frozen=True)
class Clash:
    """Another session in the way: ``kind`` is ``room`` or ``animator``."""

    kind: str
    other: WorkshopSession

    @property
    def message(self) -> str:
        other = self.other
        facts = {"title": other.workshop.title, "day": day(other.starts_at),
                 "start": hour(other.starts_at), "end": hour(other.ends_at)}
        if self.kind == "room":
            return _("La salle « %(room)s » est déjà prise par « %(title)s » le %(day)s, "
                     "%(start)s–%(end)s.", room=other.room, **facts)
        name = other.animator.full_name if other.animator else ""
        return _("%(name)s anime déjà « %(title)s » le %(day)s, %(start)s–%(end)s "
                 "(%(site)s).", name=name, site=other.site.name, **facts)


def normal_room(room: str) -> str:
    """Rooms are compared without case or surrounding spaces ("salle 1" is "Salle 1 ")."""
    return " ".join(room.split()).casefold()


def clashes(*, site_id: int, room: str, animator_id: int | None, starts_at: datetime,
            ends_at: datetime, ignore: Collection[int] = ()) -> list[Clash]:
    """The sessions in the way of ``[starts_at, ends_at)``, room clashes first."""
    room_key = normal_room(room)
    # The room is compared in Python: SQLite's lower() leaves "É" alone. A site holds few
    # sessions at overlapping times, so reading them all is cheap.
    same_room = (WorkshopSession.site_id == site_id) if room_key else None
    same_animator = (WorkshopSession.animator_id == animator_id) if animator_id else None
    who = [condition for condition in (same_room, same_animator) if condition is not None]
    if not who:
        return []
    query = (db.select(WorkshopSession)
             .where(WorkshopSession.status != SessionStatus.CANCELLED,
                    WorkshopSession.starts_at < ends_at, WorkshopSession.ends_at > starts_at,
                    or_(*who))
             .order_by(WorkshopSession.starts_at, WorkshopSession.id))
    if ignore:
        query = query.where(WorkshopSession.id.not_in(list(ignore)))
    found: list[Clash] = []
    for other in db.session.scalars(query):
        if room_key and other.site_id == site_id and normal_room(other.room) == room_key:
            found.append(Clash("room", other))
        if animator_id and other.animator_id == animator_id:
            found.append(Clash("animator", other))
    return sorted(found, key=lambda clash: clash.kind != "room")


def refuse_clashes(found: list[Clash]) -> None:
    """A ``Conflict`` naming the first session in the way (all of them in ``details``)."""
    if found:
        raise Conflict(f"{found[0].kind}_taken", found[0].message,
                       clashes=[clash.message for clash in found])


def check_capacity(capacity: int, seats_taken: int) -> None:
    """A capacity below the seats already taken would push people out: refused."""
    if capacity < seats_taken:
        raise Conflict(
            "capacity_below_seats_taken",
            ngettext("%(num)d place est déjà prise : la capacité ne peut pas être plus petite.",
                     "%(num)d places sont déjà prises : la capacité ne peut pas être plus "
                     "petite.", seats_taken))
