"""The append-only audit trail (docs/security.md#audit).

The database refuses UPDATE and DELETE on this table (triggers created by the migration);
the ORM guard below fails earlier and more clearly in Python.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import now
from portal.extensions import db
from portal.models.types import UTCDateTime, enum_type
from portal.models.vocab import ActorKind


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    #: the audit trail viewer's filters: a person (the object), a staff member, a site.
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_type(ActorKind, "actor_kind"))
    actor_id: Mapped[int | None] = mapped_column(index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    #: dotted verb, e.g. ``login.failed``, ``booking.created``, ``cheque.redeemed``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"),
                                                index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditTrailIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AuditTrailIsAppendOnly("audit events cannot be changed or deleted")
