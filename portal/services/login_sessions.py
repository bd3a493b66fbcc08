"""Server-side login sessions (docs/security.md#login-sessions, #idle-timeout).

The browser holds a random token; the database holds its SHA-256 and the session's state.
Logout, disabling an account and a password change revoke the row, so a replayed cookie
is refused. Idle and absolute limits are checked on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import contains_eager

from portal.clock import now
from portal.extensions import db
from portal.models.people import Beneficiary, StaffMember, StaffSiteRole
from portal.models.sessions import LoginSession

Principal = StaffMember | Beneficiary


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class Resolved:
    principal: Principal
    login_session: LoginSession


def start(
    principal: Principal,
    *,
    idle_timeout: timedelta,
    absolute_lifetime: timedelta,
    ip: str = "",
    user_agent: str = "",
) -> str:
    """Create a login session and return the token for the cookie (added, not committed)."""
    token = secrets.token_urlsafe(32)
    at = now()
    row = LoginSession(
        token_hash=_hash(token),
        staff_id=principal.id if isinstance(principal, StaffMember) else None,
        beneficiary_id=principal.id if isinstance(principal, Beneficiary) else None,
        created_at=at,
        last_seen_at=at,
        expires_at=at + absolute_lifetime,
        idle_timeout_seconds=int(idle_timeout.total_seconds()),
        ip=ip[:64],
        user_agent=user_agent[:200],
    )
    db.session.add(row)
    return token


#: the session row and its principal (a staff member with their roles) in one statement,
#: built once: every request runs it.
_BY_TOKEN = (
    select(LoginSession, StaffMember, Beneficiary)
    .outerjoin(StaffMember, StaffMember.id == LoginSession.staff_id)
    .outerjoin(StaffSiteRole, StaffSiteRole.staff_id == StaffMember.id)
    .outerjoin(Beneficiary, Beneficiary.id == LoginSession.beneficiary_id)
    .options(contains_eager(StaffMember.roles))
    .where(LoginSession.token_hash == bindparam("token_hash"))
)


def resolve(token: str | None, *, touch_interval: timedelta,
            touch: bool = True) -> Resolved | None:
    """The principal behind a cookie token, or None if unknown, revoked, idle or expired."""
    if not token or len(token) > 128:
        return None
    # every row is read: a staff member comes once per role (all of them in ``roles``)
    found = db.session.execute(_BY_TOKEN, {"token_hash": _hash(token)}).unique().all()
    if not found:
        return None
    row, staff, person = found[0]
    if row.revoked_at is not None:
        return None
    at = now()
    if at >= row.expires_at:
        _revoke_row(row, "expired", at)
        return None
    if at - row.last_seen_at >= timedelta(seconds=row.idle_timeout_seconds):
        _revoke_row(row, "idle", at)
        return None
    principal: Principal | None = staff if row.staff_id is not None else person
    if principal is None or not principal.is_active:
        _revoke_row(row, "disabled", at)
        return None
    if touch and at - row.last_seen_at >= touch_interval:
        row.last_seen_at = at
        db.session.commit()
    return Resolved(principal, row)


def keep_alive(row: LoginSession) -> None:
    row.last_seen_at = now()
    db.session.commit()


def revoke(token: str | None, reason: str = "logout") -> LoginSession | None:
    if not token:
        return None
    row = db.session.scalar(db.select(LoginSession).filter_by(token_hash=_hash(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now()
        row.revoked_reason = reason
    return row


def revoke_all(principal: Principal, reason: str, *, keep: LoginSession | None = None) -> int:
    """End every open session of a principal (added to the unit of work, not committed)."""
    column = (LoginSession.staff_id if isinstance(principal, StaffMember)
              else LoginSession.beneficiary_id)
    statement = (
        update(LoginSession)
        .where(column == principal.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now(), revoked_reason=reason)
    )
    if keep is not None:
        statement = statement.where(LoginSession.id != keep.id)
    result = db.session.execute(statement, execution_options={"synchronize_session": False})
    return result.rowcount or 0


def _revoke_row(row: LoginSession, reason: str, at: datetime) -> None:
    row.revoked_at = at
    row.revoked_reason = reason
    db.session.commit()


#: ended login sessions (device, address, times) are deleted this many days after their end by
#: ``flask purge-sessions`` (its default); the privacy page states it.
KEEP_ENDED_DAYS = 30


def purge_ended(before: datetime) -> int:
    """Delete sessions that ended before ``before`` (housekeeping command)."""
    result = db.session.execute(
        db.delete(LoginSession).where(
            (LoginSession.expires_at < before)
            | (LoginSession.revoked_at.is_not(None) & (LoginSession.revoked_at < before))
        )
    )
    db.session.commit()
    return result.rowcount or 0
