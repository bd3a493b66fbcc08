"""Issued documents (immutable PDFs) and the gap-free counters that number them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.extensions import db
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.types import UTCDateTime, enum_type
from portal.models.vocab import DocumentKind


class Document(db.Model):
    """A numbered document: stored once, served from here, revoked but never rewritten.

    It is *pending* while its bytes are missing (numbered with its snapshot in one short
    transaction, rendered outside any transaction, then its bytes stored): a pending document
    is neither downloadable nor verifiable, and issuing it again completes it.
    """

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("site_id", "kind", "year", "sequence"),
        CheckConstraint("length(sha256) = 64", name="sha256_hex"),
        CheckConstraint("revoked_at IS NULL OR length(revoked_reason) > 0",
                        name="revocation_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind, "document_kind"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    #: the printed number, e.g. ATT-2026-MER-000042.
    number: Mapped[str] = mapped_column(String(40), unique=True)
    #: public verification code (certificates only), unambiguous alphabet, ≥ 50 bits.
    verification_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="RESTRICT"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop_session.id", ondelete="RESTRICT"), index=True
    )
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="RESTRICT"))
    #: the hex SHA-256 of the stored PDF; None while the document is pending (no bytes yet).
    sha256: Mapped[str | None] = mapped_column(String(64))
    #: when the bytes were stored.
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: a device is rendering the pending document until then; another waits for it.
    rendering_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the data the document was rendered from, kept for audit and verification.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id", ondelete="SET NULL")
    )
    revoked_reason: Mapped[str] = mapped_column(Text, default="")

    site: Mapped[Site] = relationship()
    beneficiary: Mapped[Beneficiary | None] = relationship()
    issued_by: Mapped[StaffMember | None] = relationship(foreign_keys=[issued_by_id])
    #: the bytes, in their own table so that lists never read them; loaded only when asked.
    file: Mapped[DocumentFile | None] = relationship(
        lazy="select", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def pdf(self) -> bytes | None:
        """The PDF (one SELECT of its own row), None while the document is pending."""
        return self.file.pdf if self.file is not None else None

    @pdf.setter
    def pdf(self, value: bytes | None) -> None:
        """Store or remove the bytes; the caller sets ``sha256`` with them
        (``issuing._store`` and the personal-data purge keep them together)."""
        if value is None:
            self.file = None
        elif self.file is None:
            self.file = DocumentFile(pdf=value)
        else:
            self.file.pdf = value

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_pending(self) -> bool:
        """Numbered, its bytes not stored yet (the hash is read, not the deferred bytes)."""
        return self.sha256 is None


class DocumentFile(db.Model):
    """The bytes of a complete document, one row per document (docs/architecture.md#document-bytes).

    Kept apart from ``document`` so that lists, exports and counts never read through the
    stored PDFs. A row exists exactly when ``document.sha256`` is set: the services that store
    or remove bytes write both in one transaction.
    """

    __tablename__ = "document_file"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)


class DocumentCounter(db.Model):
    """Last number given per site, kind and year; advanced by one conditional UPDATE."""

    __tablename__ = "document_counter"
    __table_args__ = (UniqueConstraint("site_id", "kind", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind, "document_kind"))
    year: Mapped[int] = mapped_column(Integer)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
