"""Writing to the append-only audit trail. Never pass a password, code, token or cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from portal.clock import now
from portal.extensions import db
from portal.models.audit import AuditEvent
from portal.models.vocab import ActorKind

_FORBIDDEN_KEYS = {"password", "code", "token", "cookie", "secret", "first_login_code"}


@dataclass(frozen=True)
class Actor:
    """Who acts: passed explicitly to every service (services never read the request)."""

    kind: ActorKind
    id: int | None = None
    ip: str = ""

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)

    @classmethod
    def anonymous(cls, ip: str = "") -> Actor:
        return cls(ActorKind.ANONYMOUS, None, ip)

    @classmethod
    def of(cls, principal: Any, ip: str = "") -> Actor:
        """The actor for a logged-in staff member or beneficiary."""
        kind = ActorKind.STAFF if principal.kind == "staff" else ActorKind.BENEFICIARY
        return cls(kind, principal.id, ip)

    @property
    def staff_id(self) -> int | None:
        return self.id if self.kind is ActorKind.STAFF else None


def record(
    actor: Actor,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    site_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the current unit of work (committed with it)."""
    leaked = _FORBIDDEN_KEYS.intersection(details)
    if leaked:
        raise ValueError(f"secrets must not be audited: {sorted(leaked)}")
    event = AuditEvent(
        at=now(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        ip=actor.ip[:64],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        site_id=site_id,
        details=details,
    )
    db.session.add(event)
    return event


def record_many(actor: Actor, action: str, events: list[dict[str, Any]]) -> None:
    """Audit events of one action by one actor, written by one batched INSERT in the current
    transaction (not returned). Each dict has ``object_type``, ``object_id``, ``site_id``
    and the details under ``details``; the same checks as :func:`record`."""
    if not events:
        return
    at = now()
    rows = []
    for event in events:
        details = event.get("details", {})
        leaked = _FORBIDDEN_KEYS.intersection(details)
        if leaked:
            raise ValueError(f"secrets must not be audited: {sorted(leaked)}")
        rows.append({"at": at, "actor_kind": actor.kind, "actor_id": actor.id,
                     "ip": actor.ip[:64], "action": action,
                     "object_type": event.get("object_type", ""),
                     "object_id": str(event.get("object_id", ""))[:64],
                     "site_id": event.get("site_id"), "details": details})
    db.session.execute(insert(AuditEvent), rows)
