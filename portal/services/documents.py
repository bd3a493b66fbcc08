"""Issued documents: reading them (rendering and issuing come with the PDF pipeline)."""

from __future__ import annotations

from portal.extensions import db
from portal.models.documents import Document
from portal.models.people import Beneficiary
from portal.models.vocab import DocumentKind

#: what a beneficiary sees in "My documents".
PERSONAL_KINDS = (DocumentKind.CERTIFICATE, DocumentKind.COURSE_CERTIFICATE,
                  DocumentKind.RECEIPT, DocumentKind.LOGIN_CARD)


def documents_of(person: Beneficiary) -> list[Document]:
    """The person's certificates, receipts and cards, newest first."""
    return list(db.session.scalars(
        db.select(Document)
        .where(Document.beneficiary_id == person.id, Document.kind.in_(PERSONAL_KINDS))
        .order_by(Document.issued_at.desc(), Document.id.desc())
    ))


def certificates_by_session(person: Beneficiary) -> dict[int, Document]:
    """The valid certificate earned at each session, for the list of past workshops."""
    rows = db.session.scalars(
        db.select(Document).where(Document.beneficiary_id == person.id,
                                  Document.kind == DocumentKind.CERTIFICATE,
                                  Document.session_id.is_not(None),
                                  Document.revoked_at.is_(None))
    )
    return {doc.session_id: doc for doc in rows if doc.session_id is not None}
