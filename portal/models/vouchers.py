"""Cheque programmes (APTIC "Pass Numérique" and the like) and the cheques taken."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.extensions import db
from portal.models.people import Site, StaffMember
from portal.models.types import UTCDateTime


class ChequeProgramme(db.Model):
    """An issuer's scheme: never hard-coded, since not every "Pass Numérique" is APTIC."""

    __tablename__ = "cheque_programme"
    __table_args__ = (
        CheckConstraint("face_value_cents > 0", name="face_value_positive"),
        CheckConstraint("grace_days BETWEEN 0 AND 366", name="grace_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: the funder that buys the booklets (a department, a region…).
    issuer: Mapped[str] = mapped_column(String(120))
    #: the company that runs the scheme and reimburses the centre (APTIC…).
    operator: Mapped[str] = mapped_column(String(120))
    face_value_cents: Mapped[int] = mapped_column(Integer, default=1000)
    #: regular expression a normalised cheque number must match in full.
    number_pattern: Mapped[str] = mapped_column(String(200), default=r"[0-9A-Z]{6,30}")
    #: cheques of year N: valid until 31/12/N …
    validity_end: Mapped[date] = mapped_column(Date)
    #: … and still accepted during a grace period (one month by default).
    grace_days: Mapped[int] = mapped_column(Integer, default=31)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    @property
    def accepted_until(self) -> date:
        return self.validity_end + timedelta(days=self.grace_days)


class Cheque(db.Model):
    """One paper cheque, known by its normalised number, redeemed at most once."""

    __tablename__ = "cheque"
    __table_args__ = (
        UniqueConstraint("programme_id", "number"),
        CheckConstraint("value_cents > 0", name="value_positive"),
        CheckConstraint(
            "redeemed_at IS NULL OR "
            "((booking_id IS NOT NULL AND accompaniment_id IS NULL) OR "
            "(booking_id IS NULL AND accompaniment_id IS NOT NULL))",
            name="redemption_pays_one_service",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("cheque_programme.id", ondelete="RESTRICT"), index=True
    )
    #: normalised (no spaces or dashes, upper case); looked up across programmes at intake.
    number: Mapped[str] = mapped_column(String(40), index=True)
    value_cents: Mapped[int] = mapped_column(Integer)
    #: when the cheque number was first recorded in the portal (usually when it is taken).
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    redeemed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"),
                                                index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="RESTRICT"),
                                                   index=True)
    accompaniment_id: Mapped[int | None] = mapped_column(
        ForeignKey("accompaniment.id", ondelete="RESTRICT"), index=True
    )
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("document.id",
                                                              ondelete="RESTRICT"))

    programme: Mapped[ChequeProgramme] = relationship(lazy="joined")
    site: Mapped[Site | None] = relationship()
    redeemed_by: Mapped[StaffMember | None] = relationship()

    @property
    def is_redeemed(self) -> bool:
        return self.redeemed_at is not None
