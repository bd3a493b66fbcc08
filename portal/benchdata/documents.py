"""Issued documents: rows with their snapshot and number, sharing one placeholder PDF; the
counters written at the end from the numbers given (gap-free by construction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal.benchdata.names import unique_code
from portal.benchdata.network import PLACEHOLDER_PDF, PLACEHOLDER_SHA256, Network, SiteInfo
from portal.clock import PARIS
from portal.models.documents import Document, DocumentCounter, DocumentFile
from portal.models.vocab import DocumentKind
from portal.services.codes import group

DOCUMENT = Document.__table__
COUNTER = DocumentCounter.__table__
DOCUMENT_FILE = DocumentFile.__table__
TITLES = {
    DocumentKind.CERTIFICATE: "Attestation de participation",
    DocumentKind.RECEIPT: "Reçu de chèques APTIC",
    DocumentKind.ATTENDANCE_SHEET: "Feuille d'émargement",
}


def issue(net: Network, kind: DocumentKind, site: SiteInfo, at: datetime, *, subject: str,
          staff_id: int | None, beneficiary_id: int | None = None,
          session_id: int | None = None, person: str = "",
          dates: str = "", extra: dict[str, Any] | None = None) -> int:
    """One numbered, rendered document issued at ``at``; returns its id."""
    writer = net.writer
    document_id = writer.next_id(DOCUMENT)
    year = at.astimezone(PARIS).year
    sequence, number = net.next_number(site, kind, year)
    code = unique_code(document_id, 12, salt=15_485_863) \
        if kind is DocumentKind.CERTIFICATE else None
    snapshot: dict[str, Any] = {
        "lang": "fr", "site": {"name": site.name, "code": site.code},
        "doc_title": TITLES[kind], "title": subject, "number": number,
        "person_public_name": person, "dates_phrase": dates, **(extra or {}),
    }
    if code:
        snapshot["code_display"] = group(code)
        snapshot["verify_url"] = f"/v/{code}"
    writer.add(DOCUMENT, {
        "id": document_id, "kind": kind, "site_id": site.id, "year": year,
        "sequence": sequence, "number": number, "verification_code": code,
        "title": f"{TITLES[kind]} – {subject}"[:200], "beneficiary_id": beneficiary_id,
        "session_id": session_id, "course_id": None,
        "sha256": PLACEHOLDER_SHA256, "rendered_at": at, "rendering_until": None,
        "snapshot": snapshot, "issued_at": at, "issued_by_id": staff_id,
        "revoked_at": None, "revoked_by_id": None, "revoked_reason": "",
    })
    writer.add(DOCUMENT_FILE, {"document_id": document_id, "pdf": PLACEHOLDER_PDF})
    return document_id


def write_counters(net: Network) -> None:
    """One counter per series, at the last number given."""
    writer = net.writer
    writer.phase("compteurs de documents")
    for (site_id, kind, year), last in sorted(net.counters.items(),
                                              key=lambda item: (item[0][0], item[0][1].value,
                                                                item[0][2])):
        writer.add(COUNTER, {"id": writer.next_id(COUNTER), "site_id": site_id, "kind": kind,
                             "year": year, "last_value": last})
