"""Bookings of sessions and individual accompaniments (the national activity model)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.extensions import db
from portal.models.catalogue import WorkshopSession
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.types import UTCDateTime, enum_type
from portal.models.vocab import (
    AdminSubtheme,
    Autonomy,
    BookingSource,
    BookingStatus,
    Equipment,
    Gender,
    PlaceType,
    SocialStatus,
    Theme,
)


class Booking(db.Model):
    """A person's place in a session. One row per person and session: booking again reuses it."""

    __tablename__ = "booking"
    __table_args__ = (
        UniqueConstraint("session_id", "beneficiary_id"),
        CheckConstraint(
            "(status = 'waitlisted') = (waitlist_position IS NOT NULL)",
            name="waitlist_position_iff_waitlisted",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("workshop_session.id", ondelete="CASCADE"), index=True
    )
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="RESTRICT"), index=True
    )
    #: short code printed or shown to the person, readable by the check-in scanner.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[BookingStatus] = mapped_column(enum_type(BookingStatus, "booking_status"),
                                                  default=BookingStatus.BOOKED)
    source: Mapped[BookingSource] = mapped_column(enum_type(BookingSource, "booking_source"),
                                                  default=BookingSource.ONLINE)
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    #: staff member who booked on the person's behalf (NULL: the person did).
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    status_changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[WorkshopSession] = relationship(lazy="joined")
    beneficiary: Mapped[Beneficiary] = relationship()
    checked_in_by: Mapped[StaffMember | None] = relationship(foreign_keys=[checked_in_by_id])
    created_by: Mapped[StaffMember | None] = relationship(foreign_keys=[created_by_id])
    status_changed_by: Mapped[StaffMember | None] = relationship(
        foreign_keys=[status_changed_by_id]
    )


class Accompaniment(db.Model):
    """An individual help session recorded by staff, with or without a named person."""

    __tablename__ = "accompaniment"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="SET NULL"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    place_type: Mapped[PlaceType] = mapped_column(enum_type(PlaceType, "place_type"),
                                                  default=PlaceType.ON_SITE)
    equipment: Mapped[Equipment] = mapped_column(enum_type(Equipment, "equipment"),
                                                 default=Equipment.COMPUTER)
    autonomy: Mapped[Autonomy | None] = mapped_column(enum_type(Autonomy, "autonomy"))
    summary: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    #: the few attributes the national model allows for help given to someone unnamed
    #: (NULL for a named person, whose own record says them).
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender, "gender"))
    age_bracket: Mapped[str | None] = mapped_column(String(12))
    social_status: Mapped[SocialStatus | None] = mapped_column(
        enum_type(SocialStatus, "social_status"))
    commune: Mapped[str | None] = mapped_column(String(80))
    postcode: Mapped[str | None] = mapped_column(String(10))
    #: the person was oriented towards another service, and which one.
    referred: Mapped[bool] = mapped_column(Boolean, default=False)
    referred_to: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()
    staff: Mapped[StaffMember | None] = relationship()
    beneficiary: Mapped[Beneficiary | None] = relationship()
    theme_links: Mapped[list[AccompanimentTheme]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    subtheme_links: Mapped[list[AccompanimentSubtheme]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def themes(self) -> list[Theme]:
        return [link.theme for link in self.theme_links]

    @property
    def subthemes(self) -> list[AdminSubtheme]:
        return [link.subtheme for link in self.subtheme_links]


class AccompanimentTheme(db.Model):
    __tablename__ = "accompaniment_theme"
    __table_args__ = (UniqueConstraint("accompaniment_id", "theme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    accompaniment_id: Mapped[int] = mapped_column(
        ForeignKey("accompaniment.id", ondelete="CASCADE")
    )
    theme: Mapped[Theme] = mapped_column(enum_type(Theme, "theme"), index=True)


class AccompanimentSubtheme(db.Model):
    __tablename__ = "accompaniment_subtheme"
    __table_args__ = (UniqueConstraint("accompaniment_id", "subtheme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    accompaniment_id: Mapped[int] = mapped_column(
        ForeignKey("accompaniment.id", ondelete="CASCADE")
    )
    subtheme: Mapped[AdminSubtheme] = mapped_column(enum_type(AdminSubtheme, "subtheme"))


__all__ = ["Accompaniment", "AccompanimentSubtheme", "AccompanimentTheme", "Booking"]
