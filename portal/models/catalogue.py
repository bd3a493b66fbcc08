"""The catalogue: workshops, courses (parcours) and their scheduled sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.extensions import db
from portal.folding import searchable
from portal.models.people import Site, StaffMember
from portal.models.types import UTCDateTime, enum_type
from portal.models.vocab import (
    AdminSubtheme,
    CompletionRule,
    Equipment,
    Level,
    SessionStatus,
    Theme,
    WorkshopKind,
)


class Workshop(db.Model):
    """What is offered: the same workshop is scheduled as many sessions."""

    __tablename__ = "workshop"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 1440", name="duration_range"),
        CheckConstraint("price_cheques BETWEEN 0 AND 20", name="price_range"),
        CheckConstraint("length(title) > 0", name="title_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the site that owns it; NULL for a workshop of the whole network.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"),
                                                index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[WorkshopKind] = mapped_column(enum_type(WorkshopKind, "workshop_kind"),
                                               default=WorkshopKind.COLLECTIVE)
    level: Mapped[Level] = mapped_column(enum_type(Level, "level"), default=Level.BEGINNER)
    equipment: Mapped[Equipment] = mapped_column(enum_type(Equipment, "equipment"),
                                                 default=Equipment.COMPUTER)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    price_cheques: Mapped[int] = mapped_column(Integer, default=1)
    grants_attestation: Mapped[bool] = mapped_column(Boolean, default=False)
    #: one "can now …" objective per line.
    objectives: Mapped[str] = mapped_column(Text, default="")
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    #: title, description and objectives folded for searching (``portal.folding``); kept up
    #: to date on every insert and update, never shown, so never loaded unless asked for.
    search_text: Mapped[str] = mapped_column(Text, default=" ", deferred=True)

    site: Mapped[Site | None] = relationship()
    # Loaded when read (the workshop's form, the printed programme asks for them up front):
    # a session or booking loaded for a check-in or a booking never shows them.
    theme_links: Mapped[list[WorkshopTheme]] = relationship(cascade="all, delete-orphan")
    subtheme_links: Mapped[list[WorkshopSubtheme]] = relationship(
        cascade="all, delete-orphan")

    @property
    def themes(self) -> list[Theme]:
        return [link.theme for link in self.theme_links]

    @property
    def subthemes(self) -> list[AdminSubtheme]:
        return [link.subtheme for link in self.subtheme_links]

    @property
    def objective_list(self) -> list[str]:
        return [line.strip() for line in self.objectives.splitlines() if line.strip()]


class WorkshopTheme(db.Model):
    __tablename__ = "workshop_theme"
    __table_args__ = (UniqueConstraint("workshop_id", "theme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    theme: Mapped[Theme] = mapped_column(enum_type(Theme, "theme"), index=True)


class WorkshopSubtheme(db.Model):
    __tablename__ = "workshop_subtheme"
    __table_args__ = (UniqueConstraint("workshop_id", "subtheme"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    subtheme: Mapped[AdminSubtheme] = mapped_column(enum_type(AdminSubtheme, "subtheme"))


class Course(db.Model):
    """A parcours: several sessions taken together, completed by its rule."""

    __tablename__ = "course"
    __table_args__ = (
        CheckConstraint(
            "(completion_rule = 'threshold') = (min_sessions_attended IS NOT NULL)",
            name="threshold_given",
        ),
        CheckConstraint("min_sessions_attended IS NULL OR min_sessions_attended >= 1",
                        name="threshold_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    completion_rule: Mapped[CompletionRule] = mapped_column(
        enum_type(CompletionRule, "completion_rule"), default=CompletionRule.ALL_SESSIONS
    )
    min_sessions_attended: Mapped[int | None] = mapped_column(Integer)
    grants_attestation: Mapped[bool] = mapped_column(Boolean, default=True)
    objectives: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    #: title, description and objectives folded for searching, as for workshops.
    search_text: Mapped[str] = mapped_column(Text, default=" ", deferred=True)

    site: Mapped[Site] = relationship()
    sessions: Mapped[list[WorkshopSession]] = relationship(
        back_populates="course", order_by="WorkshopSession.starts_at"
    )

    @property
    def objective_list(self) -> list[str]:
        return [line.strip() for line in self.objectives.splitlines() if line.strip()]

    def sessions_needed(self, given: int) -> int:
        """How many of the ``given`` sessions (those not cancelled) a person must attend to
        complete the course: all of them, or the threshold."""
        if self.completion_rule is CompletionRule.THRESHOLD:
            return self.min_sessions_attended or given
        return given


class WorkshopSession(db.Model):
    """One scheduled occurrence of a workshop, at a site, with a capacity."""

    __tablename__ = "workshop_session"
    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 500", name="capacity_range"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="RESTRICT"),
                                             index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"),
                                                  index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    room: Mapped[str] = mapped_column(String(80), default="")
    room_accessibility: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer)
    #: seats held by booked or present people; changed only by conditional UPDATEs.
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    animator_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    status: Mapped[SessionStatus] = mapped_column(
        enum_type(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    cancelled_reason: Mapped[str] = mapped_column(String(300), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    #: the last reopening of a closed session (an administrator's correction, with its reason).
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    reopen_reason: Mapped[str] = mapped_column(String(300), default="")
    #: the sessions of one weekly series share this identifier (NULL for a single session).
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    #: a word for the participants ("apportez votre téléphone chargé").
    note: Mapped[str] = mapped_column(String(500), default="")
    #: the last change people booked were told about, and what changed ("time,room,site").
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_kinds: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    workshop: Mapped[Workshop] = relationship(lazy="joined")
    course: Mapped[Course | None] = relationship(back_populates="sessions")
    site: Mapped[Site] = relationship(lazy="joined")
    animator: Mapped[StaffMember | None] = relationship(foreign_keys=[animator_id])
    cancelled_by: Mapped[StaffMember | None] = relationship(foreign_keys=[cancelled_by_id])

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_full(self) -> bool:
        return self.seats_taken >= self.capacity

    def has_started(self, at: datetime) -> bool:
        return at >= self.starts_at

    @property
    def changes(self) -> list[str]:
        """What the last change touched: ``time``, ``site``, ``room``."""
        return [kind for kind in self.change_kinds.split(",") if kind]


@event.listens_for(Workshop, "before_insert")
@event.listens_for(Workshop, "before_update")
@event.listens_for(Course, "before_insert")
@event.listens_for(Course, "before_update")
def _fold_for_search(_mapper: Any, _connection: Any, target: Workshop | Course) -> None:
    """Whoever writes a workshop or a course (a screen, the demo, an import), its search text
    follows its words."""
    target.search_text = searchable(target.title or "", target.description or "",
                                    target.objectives or "")


# The check-in "today" screen and the catalogue list sessions of a site by start time.
db.Index(
    "ix_workshop_session_site_start",
    WorkshopSession.site_id,
    WorkshopSession.starts_at,
)

# Home, Find and the bookable lists read scheduled sessions from now on, soonest first: the
# index answers in start order without scanning the year (docs/architecture.md#read-pages).
db.Index(
    "ix_workshop_session_status_start",
    WorkshopSession.status,
    WorkshopSession.starts_at,
)
# The week of a network administrator (every site) reads sessions by start time alone.
db.Index("ix_workshop_session_starts_at", WorkshopSession.starts_at)
