"""A site's closure days (a single day or a period, with a label): series skip them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import now
from portal.extensions import db
from portal.models.types import UTCDateTime


class ClosureDay(db.Model):
    """The site is closed from ``first_day`` to ``last_day`` included (Paris calendar days)."""

    __tablename__ = "closure_day"
    __table_args__ = (
        CheckConstraint("last_day >= first_day", name="period_ordered"),
        CheckConstraint("length(label) > 0", name="label_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day
