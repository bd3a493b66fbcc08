"""Reading the catalogue: upcoming sessions for the public and the beneficiaries."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from portal.clock import now
from portal.extensions import db
from portal.models.catalogue import WorkshopSession
from portal.models.vocab import SessionStatus


def upcoming_sessions(*, limit: int = 20, site_id: int | None = None) -> list[WorkshopSession]:
    """Scheduled sessions that have not started yet, soonest first."""
    query = (
        db.select(WorkshopSession)
        .options(joinedload(WorkshopSession.workshop), joinedload(WorkshopSession.site))
        .where(WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.starts_at > now())
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
        .limit(limit)
    )
    if site_id is not None:
        query = query.where(WorkshopSession.site_id == site_id)
    return list(db.session.scalars(query).unique())
