"""Sites of the network, staff members with their roles, beneficiaries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.extensions import db
from portal.folding import person_search_key, person_search_text
from portal.models.types import UTCDateTime, enum_type
from portal.models.vocab import ContactChannel, Gender, Language, SocialStatus, StaffRole


class Site(db.Model):
    """A centre of the network (a Cyberbase, an espace public numérique…)."""

    __tablename__ = "site"
    __table_args__ = (
        CheckConstraint("length(code) BETWEEN 2 AND 6", name="code_length"),
        CheckConstraint("cancellation_deadline_minutes BETWEEN 0 AND 10080",
                        name="cancellation_deadline_range"),
        CheckConstraint("idle_timeout_minutes BETWEEN 5 AND 120", name="idle_timeout_range"),
        CheckConstraint("max_upcoming_bookings BETWEEN 1 AND 50", name="max_bookings_range"),
        CheckConstraint("retention_months BETWEEN 6 AND 60", name="retention_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short upper-case code used in document numbers (``MER`` in ``ATT-2026-MER-000042``).
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    aptic_accreditation: Mapped[str] = mapped_column(String(40), default="")
    other_accreditation: Mapped[str] = mapped_column(String(120), default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_mime: Mapped[str | None] = mapped_column(String(40))
    signature_image: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    signatory_name: Mapped[str] = mapped_column(String(120), default="")
    signatory_role: Mapped[str] = mapped_column(String(120), default="")
    #: the legal line of the régie de recettes, printed on receipts and deposit slips
    #: ("Recette encaissée par la régie de recettes … arrêté n° … du …").
    regie_mention: Mapped[str] = mapped_column(Text, default="")
    #: who answers for the régie on the monthly deposit slip (the signatory when empty).
    regisseur_name: Mapped[str] = mapped_column(String(120), default="")
    regisseur_role: Mapped[str] = mapped_column(String(120), default="")
    #: the capacity in which the staff member who takes cheques signs the receipt
    #: ("Mandataire de la régie de recettes"); a generic wording when empty.
    receipt_signatory_role: Mapped[str] = mapped_column(String(120), default="")
    cancellation_deadline_minutes: Mapped[int] = mapped_column(Integer, default=120)
    idle_timeout_minutes: Mapped[int] = mapped_column(Integer, default=20)
    max_upcoming_bookings: Mapped[int] = mapped_column(Integer, default=5)
    #: people inactive longer than this everywhere they are known are anonymised (``purge``).
    retention_months: Mapped[int] = mapped_column(Integer, default=12)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    def __repr__(self) -> str:
        return f"<Site {self.code}>"


class CredentialsMixin:
    """What every account that can log in has."""

    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    preferred_language: Mapped[Language] = mapped_column(
        enum_type(Language, "language"), default=Language.FR
    )
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    # Flask-Login's user protocol (the login session decides authentication).
    is_authenticated = True
    is_anonymous = False


class StaffMember(CredentialsMixin, db.Model):
    """An animateur, a receptionist or an administrator; logs in with an e-mail address."""

    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    full_name: Mapped[str] = mapped_column(String(120))
    #: administrator of the whole network (every site, settings, reopening sessions).
    is_network_admin: Mapped[bool] = mapped_column(Boolean, default=False)

    roles: Mapped[list[StaffSiteRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )

    kind = "staff"

    def get_id(self) -> str:
        return f"staff:{self.id}"

    def role_at(self, site_id: int) -> StaffRole | None:
        if self.is_network_admin:
            return StaffRole.ADMIN
        for role in self.roles:
            if role.site_id == site_id:
                return role.role
        return None

    @property
    def site_ids(self) -> list[int]:
        return [role.site_id for role in self.roles]

    def __repr__(self) -> str:
        return f"<StaffMember {self.id}>"


class StaffSiteRole(db.Model):
    """The role a staff member holds at one site."""

    __tablename__ = "staff_site_role"
    __table_args__ = (UniqueConstraint("staff_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    role: Mapped[StaffRole] = mapped_column(enum_type(StaffRole, "staff_role"))

    staff: Mapped[StaffMember] = relationship(back_populates="roles")
    site: Mapped[Site] = relationship(lazy="joined")


class Beneficiary(CredentialsMixin, db.Model):
    """A person the centre helps.

    Every attribute but the first name is optional (docs/domain.md#beneficiary-attributes).
    """

    __tablename__ = "beneficiary"
    __table_args__ = (
        CheckConstraint("birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100",
                        name="birth_year_range"),
        CheckConstraint("length(first_name) > 0", name="first_name_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    has_no_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str] = mapped_column(String(254), default="")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    commune: Mapped[str] = mapped_column(String(80), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    gender: Mapped[Gender] = mapped_column(enum_type(Gender, "gender"),
                                           default=Gender.UNDISCLOSED)
    social_status: Mapped[SocialStatus] = mapped_column(
        enum_type(SocialStatus, "social_status"), default=SocialStatus.UNDISCLOSED
    )
    #: short identifier printed on the login card, unambiguous alphabet, stored without dash.
    login_id: Mapped[str] = mapped_column(String(12), unique=True)
    first_login_code_hash: Mapped[str | None] = mapped_column(String(128))
    first_login_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    home_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    #: notes visible to staff only, never shown to the person nor printed.
    staff_notes: Mapped[str] = mapped_column(Text, default="")
    #: secret token (hashed) of the personal calendar feed; revocable.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: how the person wants to be told; None: automatic (e-mail, else SMS, else in person).
    preferred_channel: Mapped[ContactChannel | None] = mapped_column(
        enum_type(ContactChannel, "contact_channel"))
    #: folded names, e-mail and phone digits (``folding.person_search_text``), for the desk.
    search_text: Mapped[str] = mapped_column(Text, default=" ", deferred=True)
    #: how the names sound (``folding.person_search_key``): "Durant" finds "Durand".
    search_key: Mapped[str] = mapped_column(String(200), default=" ", index=True)
    #: the record this one was merged into (a tombstone: inactive, hidden from search).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="SET NULL"), index=True)

    home_site: Mapped[Site | None] = relationship()
    created_by: Mapped[StaffMember | None] = relationship()

    kind = "beneficiary"

    def get_id(self) -> str:
        return f"beneficiary:{self.id}"

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def first_name_and_initial(self) -> str:
        initial = f" {self.last_name[0]}." if self.last_name else ""
        return f"{self.first_name}{initial}"

    @property
    def login_id_display(self) -> str:
        half = len(self.login_id) // 2
        return f"{self.login_id[:half]}-{self.login_id[half:]}"

    def __repr__(self) -> str:
        return f"<Beneficiary {self.id}>"


@event.listens_for(Beneficiary, "before_insert")
@event.listens_for(Beneficiary, "before_update")
def _fold_for_search(_mapper: object, _connection: object, target: Beneficiary) -> None:
    """Whoever writes a person (the desk, the demo, an import), the search columns follow."""
    target.search_text = person_search_text(target.first_name or "", target.last_name or "",
                                            target.email or "", target.phone or "")
    target.search_key = person_search_key(target.first_name or "", target.last_name or "")
