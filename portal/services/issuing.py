"""Issuing a document in two short transactions, rendering in between with none open.

1. ``reserve`` (the caller's transaction, with its checks): the next number of the series
   (gap-free: the counter row is advanced by a conditional ``UPDATE`` in the same transaction
   as the document), a verification code for certificates, and a *pending* document row with
   its snapshot and no bytes.
2. ``complete`` commits that, renders with no transaction open (up to the renderer's time
   limit: on SQLite every other writer — check-ins, bookings — would otherwise wait behind a
   batch of attestations), then stores the bytes in a second short transaction with a
   conditional ``UPDATE … WHERE sha256 IS NULL``.

A failed or timed-out render leaves the numbered pending row (no gap, nothing lost) and raises
``RenderFailed`` for the staff member; issuing again completes it with the same number and
snapshot. While one device renders a pending document it holds a short lease
(``rendering_until``): another device leaves it alone instead of rendering it twice, and takes
it over once the lease has run out (a crashed worker).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import case, insert, or_, update
from sqlalchemy.exc import IntegrityError

from portal.clock import PARIS, now
from portal.extensions import db
from portal.models.documents import Document, DocumentCounter, DocumentFile
from portal.models.people import Site
from portal.models.vocab import DOCUMENT_PREFIX, DocumentKind
from portal.pdf.documents import batch_pdf, pdf_for, site_images
from portal.pdf.render import DEFAULT_TIMEOUT
from portal.services import snapshots
from portal.services.audit import Actor, record_many
from portal.services.codes import random_code
from portal.services.errors import ServiceError

log = logging.getLogger(__name__)

#: 12 symbols of a 30-symbol alphabet: about 59 bits, typed in groups of four.
VERIFICATION_CODE_LENGTH = 12
#: how long a device may render a pending document before another may take it over: the
#: renderer's own time limit and a margin.
RENDER_LEASE = timedelta(seconds=DEFAULT_TIMEOUT + 30)


class RenderFailed(ServiceError):
    """Numbered and kept, but not rendered (yet): issuing again completes it."""

    status = 503


# --- numbering --------------------------------------------------------------------------------


def allocate_number(site: Site, kind: DocumentKind, year: int) -> tuple[int, str]:
    """The next number of the series, inside the caller's transaction (no commit)."""
    return allocate_numbers(site, kind, year, 1)[0]


def allocate_numbers(site: Site, kind: DocumentKind, year: int,
                     count: int) -> list[tuple[int, str]]:
    """The next ``count`` numbers of the series, in order, taken by one conditional UPDATE
    inside the caller's transaction (no commit): gap-free as one number at a time."""
    for _attempt in range(3):
        result = db.session.execute(
            update(DocumentCounter)
            .where(DocumentCounter.site_id == site.id, DocumentCounter.kind == kind,
                   DocumentCounter.year == year)
            .values(last_value=DocumentCounter.last_value + count)
            .returning(DocumentCounter.last_value),
            execution_options={"synchronize_session": False},
        ).scalar()
        if result is not None:
            last = int(result)
            return [(value, f"{DOCUMENT_PREFIX[kind]}-{year}-{site.code}-{value:06d}")
                    for value in range(last - count + 1, last + 1)]
        # First document of the series: create the counter, in its own savepoint so that a
        # concurrent creation only makes us try the UPDATE again.
        try:
            with db.session.begin_nested():
                db.session.add(DocumentCounter(site_id=site.id, kind=kind, year=year,
                                               last_value=0))
        except IntegrityError:
            pass
    raise RuntimeError("could not allocate a document number")


def _new_verification_codes(count: int) -> list[str]:
    """``count`` distinct codes no document has, checked by one query (more only on a clash)."""
    codes: list[str] = []
    while len(codes) < count:
        drawn = {random_code(VERIFICATION_CODE_LENGTH) for _ in range(count - len(codes))}
        drawn -= set(codes)
        taken = set(db.session.scalars(
            db.select(Document.verification_code).where(Document.verification_code.in_(drawn))))
        codes += sorted(drawn - taken)
    return codes


@dataclass(frozen=True)
class Reservation:
    """One document to number: what it is rendered from and what it is about."""

    snapshot: dict[str, Any]
    title: str
    beneficiary_id: int | None = None
    session_id: int | None = None
    course_id: int | None = None


def reserve(kind: DocumentKind, site: Site, snapshot: dict[str, Any], *, title: str,
            actor: Actor, beneficiary_id: int | None = None, session_id: int | None = None,
            course_id: int | None = None, verifiable: bool = False,
            verify_url: str | None = None,
            stored: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Document:
    """Number a document and keep it pending, leased to this device (not committed).

    ``verify_url`` is a format string with ``{code}``; ``stored`` turns the snapshot
    rendered into the one kept (a login card's code lives only on paper)."""
    return reserve_many(kind, site, [Reservation(snapshot, title, beneficiary_id, session_id,
                                                 course_id)],
                        actor=actor, verifiable=verifiable, verify_url=verify_url,
                        stored=stored)[0]


def reserve_many(kind: DocumentKind, site: Site, reservations: list[Reservation], *,
                 actor: Actor, verifiable: bool = False, verify_url: str | None = None,
                 stored: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 ) -> list[Document]:
    """Number documents of one kind and site in order, each pending and leased to this device
    and audited ``document.issued`` (not committed): a fixed number of statements however
    many there are (one block of numbers, one query for the codes, batched inserts)."""
    if not reservations:
        return []
    at = now()
    year = at.astimezone(PARIS).year
    numbers = allocate_numbers(site, kind, year, len(reservations))
    codes: list[str | None] = list(_new_verification_codes(len(reservations))) \
        if verifiable else [None] * len(reservations)
    rows = []
    for wanted, (sequence, number), code in zip(reservations, numbers, codes, strict=True):
        snapshot = snapshots.numbered(wanted.snapshot, number, code=code, verify_url=verify_url)
        rows.append({
            "kind": kind, "site_id": site.id, "year": year, "sequence": sequence,
            "number": number, "verification_code": code, "title": wanted.title[:200],
            "beneficiary_id": wanted.beneficiary_id, "session_id": wanted.session_id,
            "course_id": wanted.course_id, "sha256": None,
            "snapshot": stored(snapshot) if stored else snapshot, "issued_at": at,
            "issued_by_id": actor.staff_id, "rendering_until": at + RENDER_LEASE,
            "revoked_reason": ""})
    db.session.flush()  # what the caller added comes first
    ids = {number: document_id for document_id, number in db.session.execute(
        insert(Document).values(rows).returning(Document.id, Document.number))}
    loaded = {document.id: document for document in db.session.scalars(
        db.select(Document).where(Document.id.in_(ids.values())))}
    documents = [loaded[ids[number]] for _sequence, number in numbers]
    record_many(actor, "document.issued", [
        {"object_type": "document", "object_id": document.id, "site_id": site.id,
         "details": {"number": document.number, "kind": kind.value}}
        for document in documents])
    return documents


# --- rendering and storing --------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """What rendering one document needs, read before the transaction ends."""

    document_id: int
    kind: DocumentKind
    number: str
    snapshot: dict[str, Any]
    #: the site's logo and signature as data URIs (``site_images``), read at render time.
    images: dict[str, str | None]


def _claim(document: Document, at: datetime) -> bool:
    """Take the lease of a pending document no other device is rendering."""
    return db.session.execute(
        update(Document)
        .where(Document.id == document.id, Document.sha256.is_(None),
               or_(Document.rendering_until.is_(None), Document.rendering_until < at))
        .values(rendering_until=at + RENDER_LEASE),
        execution_options={"synchronize_session": False}).rowcount == 1


def complete(documents: Iterable[Document], *, actor: Actor, reserved: Iterable[int] = (),
             shown: Mapping[int, dict[str, Any]] | None = None,
             batch: bool = False) -> list[Document]:
    """Render the pending documents this device may render, with no transaction open, and
    store their bytes; ends the caller's transaction first (its reservations are kept).

    ``reserved`` are the ids of documents this call has just reserved (leased already); any
    other pending document is rendered only if no other device is rendering it. ``shown``
    replaces the stored snapshot of a document for rendering (a login card's code); ``batch``
    lays one-page documents of one kind out in one pass. Returns the documents complete
    afterwards (those another device is still rendering are left out). Raises
    ``RenderFailed`` when this device's render fails: the documents stay pending.
    """
    documents = list(documents)
    leased = set(reserved)
    at = now()
    jobs: list[_Job] = []
    images: dict[int, dict[str, str | None]] = {}
    for document in documents:
        if not document.is_pending:
            continue
        if document.id not in leased and not _claim(document, at):
            continue  # another device is rendering it
        snapshot = (shown or {}).get(document.id) or document.snapshot
        if document.site_id not in images:
            images[document.site_id] = site_images(document.site.logo,
                                                   document.site.signature_image)
        jobs.append(_Job(document.id, document.kind, document.number, dict(snapshot),
                         images[document.site_id]))
    ids = [document.id for document in documents]
    db.session.commit()  # the numbers, snapshots and leases are kept; nothing stays open

    if jobs:
        try:
            pdfs = _render(jobs, batch=batch)
        except Exception as error:
            _give_up(jobs, error)
        _store(jobs, pdfs, actor)
    done = {document.id: document for document in db.session.scalars(
        db.select(Document).where(Document.id.in_(ids)))}
    return [done[document_id] for document_id in ids
            if document_id in done and not done[document_id].is_pending]


def _render(jobs: list[_Job], *, batch: bool) -> list[bytes]:
    """No transaction is open here: this may take up to the renderer's time limit."""
    if batch and len(jobs) > 1:
        return batch_pdf(jobs[0].kind, [job.snapshot for job in jobs], **jobs[0].images)
    return [pdf_for(job.kind, job.snapshot, **job.images) for job in jobs]


def _store(jobs: list[_Job], pdfs: list[bytes], actor: Actor) -> None:
    """The second short transaction: the bytes, unless another device stored them first.

    One UPDATE sets the hashes where they are still missing and says which it set; only those
    get their bytes and their audit event (docs/architecture.md#document-bytes)."""
    at = now()
    digests = {job.document_id: hashlib.sha256(pdf).hexdigest()
               for job, pdf in zip(jobs, pdfs, strict=True)}
    stored = set(db.session.scalars(
        update(Document)
        .where(Document.id.in_(digests), Document.sha256.is_(None))
        .values(sha256=case(digests, value=Document.id), rendered_at=at, rendering_until=None)
        .returning(Document.id),
        execution_options={"synchronize_session": False}))
    files = [{"document_id": job.document_id, "pdf": pdf}
             for job, pdf in zip(jobs, pdfs, strict=True) if job.document_id in stored]
    if files:
        db.session.execute(insert(DocumentFile), files)
    record_many(actor, "document.rendered", [
        {"object_type": "document", "object_id": job.document_id,
         "details": {"number": job.number, "sha256": digests[job.document_id]}}
        for job in jobs if job.document_id in stored])
    db.session.commit()
    db.session.expire_all()


def _give_up(jobs: list[_Job], error: Exception) -> NoReturn:
    """The render failed: release the leases so that issuing again retries at once."""
    db.session.rollback()
    log.error("documents %s not rendered: %r", [job.number for job in jobs], error)
    db.session.execute(
        update(Document)
        .where(Document.id.in_([job.document_id for job in jobs]), Document.sha256.is_(None))
        .values(rendering_until=None), execution_options={"synchronize_session": False})
    db.session.commit()
    db.session.expire_all()
    numbers = [job.number for job in jobs]
    raise RenderFailed(
        "document_pending",
        ngettext("Le document n° %(numbers)s est numéroté mais n'a pas pu être imprimé. "
                 "Réessayez : il sera terminé avec le même numéro.",
                 "Les documents n° %(numbers)s sont numérotés mais n'ont pas pu être "
                 "imprimés. Réessayez : ils seront terminés avec les mêmes numéros.",
                 len(numbers), numbers=", ".join(numbers)),
        numbers=numbers) from error


#: the code of ``in_preparation``: nothing failed, the document is being rendered elsewhere.
IN_PREPARATION = "document_in_preparation"


def in_preparation(document: Document) -> RenderFailed:
    """The refusal for a document another device is rendering right now."""
    return RenderFailed(IN_PREPARATION,
                        _("Le document n° %(number)s est en préparation sur un autre appareil. "
                          "Réessayez dans un instant.", number=document.number),
                        numbers=[document.number])
