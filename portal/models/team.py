"""Invitations of new colleagues (docs/architecture.md#the-team)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.extensions import db
from portal.models.people import Site, StaffMember
from portal.models.types import UTCDateTime, enum_type
from portal.models.vocab import StaffRole


class StaffInvitation(db.Model):
    """A single-use link (and a short code to type) with which a colleague chooses a password.

    Only the SHA-256 of the link's token and of the code are stored: neither can be read back.
    """

    __tablename__ = "staff_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"),
                                          index=True)
    #: the site and role the invitation was made for (the role itself is on the account).
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    role: Mapped[StaffRole] = mapped_column(enum_type(StaffRole, "staff_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL"))

    staff: Mapped[StaffMember] = relationship(foreign_keys=[staff_id])
    site: Mapped[Site] = relationship()

    def is_open(self, at: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and at < self.expires_at
