"""A site's closure days: a day or a period with a label ("Noël", "Fermeture estivale").

Weekly series skip them (``scheduling.preview_series``). Adding and removing need
``EDIT_CLOSURES`` at the site; both are audited.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _

from portal.clock import today_local
from portal.extensions import db
from portal.models.closures import ClosureDay
from portal.models.people import Site
from portal.services import staff_access
from portal.services.audit import Actor, record
from portal.services.errors import NotFound, ValidationFailed
from portal.services.staff_access import Action

LABEL_MAX = 80
#: a period longer than this is surely a typing mistake (a year typed wrong).
LONGEST_PERIOD = timedelta(days=366)


def of_site(site: Site, *, since: date | None = None) -> list[ClosureDay]:
    """The site's closures ending on or after ``since`` (all when None), soonest first."""
    query = db.select(ClosureDay).where(ClosureDay.site_id == site.id)
    if since is not None:
        query = query.where(ClosureDay.last_day >= since)
    return list(db.session.scalars(query.order_by(ClosureDay.first_day, ClosureDay.id)))


def upcoming(site: Site) -> list[ClosureDay]:
    return of_site(site, since=today_local())


def closed_days(site_id: int, first: date, last: date) -> dict[date, str]:
    """Each closed day between ``first`` and ``last`` included, with its label."""
    rows = db.session.scalars(
        db.select(ClosureDay).where(ClosureDay.site_id == site_id,
                                    ClosureDay.first_day <= last, ClosureDay.last_day >= first)
        .order_by(ClosureDay.first_day, ClosureDay.id))
    days: dict[date, str] = {}
    for row in rows:
        current = max(row.first_day, first)
        while current <= min(row.last_day, last):
            days.setdefault(current, row.label)
            current += timedelta(days=1)
    return days


def _as_day(value: date | str | None) -> date | bool | None:
    """A day, None when empty, False when typed but not a date."""
    if value is None or isinstance(value, date):
        return value
    if not value.strip():
        return None
    from portal.services.scheduling import parse_day

    return parse_day(value) or False


def add(site: Site, *, first_day: date | str | None, last_day: date | str | None, label: str,
        actor: Actor) -> ClosureDay:
    """Close the site on a day (``last_day`` empty) or a period, with a label. Days may be
    given as typed (``2026-12-24``)."""
    staff_access.require_actor(actor, Action.EDIT_CLOSURES, site.id)
    label = " ".join((label or "").split())
    fields: dict[str, str] = {}
    first, last = _as_day(first_day), _as_day(last_day)
    if last is False:
        fields["last_day"] = _("Indiquez le dernier jour (jour, mois, année), ou laissez vide.")
    first_day = first if isinstance(first, date) else None
    last_day = (last if isinstance(last, date) else None) or first_day
    if not label:
        fields["label"] = _("Donnez un nom à la fermeture (par exemple : Noël).")
    elif len(label) > LABEL_MAX:
        fields["label"] = _("Le nom de la fermeture est trop long (80 caractères au plus).")
    if first_day is None:
        fields["first_day"] = _("Indiquez le premier jour de fermeture.")
    elif last_day is not None and last_day < first_day:
        fields["last_day"] = _("Le dernier jour est avant le premier jour.")
    elif last_day is not None and last_day - first_day > LONGEST_PERIOD:
        fields["last_day"] = _("Une fermeture dure un an au plus.")
    if fields:
        raise ValidationFailed("closure_invalid", next(iter(fields.values())), fields=fields)
    assert first_day is not None and last_day is not None
    closure = ClosureDay(site_id=site.id, first_day=first_day, last_day=last_day, label=label,
                         created_by_id=actor.staff_id)
    db.session.add(closure)
    db.session.flush()
    record(actor, "closure.added", object_type="closure", object_id=closure.id,
           site_id=site.id, first_day=first_day.isoformat(), last_day=last_day.isoformat(),
           label=label)
    db.session.commit()
    return closure


def remove(site: Site, closure_id: int, *, actor: Actor) -> None:
    """Open the site again on those days (sessions are not created back: schedule them)."""
    staff_access.require_actor(actor, Action.EDIT_CLOSURES, site.id)
    closure = db.session.get(ClosureDay, closure_id)
    if closure is None or closure.site_id != site.id:
        raise NotFound("closure_not_found", _("Cette fermeture n'existe plus."))
    record(actor, "closure.removed", object_type="closure", object_id=closure.id,
           site_id=site.id, first_day=closure.first_day.isoformat(),
           last_day=closure.last_day.isoformat(), label=closure.label)
    db.session.delete(closure)
    db.session.commit()
