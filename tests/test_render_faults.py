"""When a PDF cannot be made (the rendering process dies, or takes too long), the staff member
is told in plain French, the document keeps its number, and asking again issues it with that
same number: no number is lost, skipped or given twice (docs/security.md#pending-documents).

Through the staff screens (a person's certificate, a session's certificates, a cheque receipt,
an attendance sheet, a login card), with the real renderer: its worker process is killed, or its
time limit is cut to a millisecond. Pages and htmx answers are both checked.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest

from portal.extensions import db
from portal.models import ChequeProgramme, Document
from portal.models.vocab import BookingStatus, DocumentKind
from portal.pdf import render
from tests.conftest import csrf_from, login

PENDING = "n'a pas pu être imprimé"  # the message of services/issuing.py, singular or plural
PENDING_MANY = "n'ont pas pu être imprimés"
RECEIPT_FAILED = "Le reçu n'a pas pu être édité"


@contextmanager
def worker_killed() -> Iterator[None]:
    """The rendering process dies (out of memory, killed by the system) before the render."""
    render.render_pdf("<p>Mise en route</p>")  # a worker is running
    executor = render._executor
    assert executor is not None
    for process in list(executor._processes.values()):  # type: ignore[attr-defined]
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
    yield


def time_limit_cut(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    @contextmanager
    def cut() -> Iterator[None]:
        with monkeypatch.context() as patch:
            patch.setattr(render, "DEFAULT_TIMEOUT", 0.001)
            yield
    return cut


def text_of(response: Any) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def told(client: Any, response: Any, *, htmx: bool) -> str:
    """What the staff member reads: the answer itself, or the page it sends them to."""
    assert response.mimetype != "application/pdf"
    assert response.status_code in (200, 204, 303, 503), response.status_code
    if response.status_code == 503:
        if htmx:
            assert response.headers["HX-Retarget"] == "#flash-area"
        else:
            assert "<html" in text_of(response)
        assert response.headers["Retry-After"]
        return text_of(response)
    location = response.headers.get("HX-Redirect") or response.headers.get("Location")
    if location:
        return text_of(client.get(location))
    return text_of(response)


def test_a_render_process_killed_at_its_time_limit_leaves_no_temporary_files(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its temporary folder (WeasyPrint's copies of the fonts) goes with it; the next render
    works in a fresh one."""
    render.render_pdf(f"<html><head>{render.STYLESHEET_LINK}</head><body><p>Mise en route"
                      "</p></body></html>")
    folder = render.worker_folder()
    assert folder is not None and any(folder.iterdir()), "the fonts are copied there"
    with time_limit_cut(monkeypatch)(), pytest.raises(render.PdfRenderError):
        render.render_pdf("<p>Trop long</p>")
    assert not folder.exists()
    assert render.render_pdf("<p>Encore</p>").startswith(b"%PDF")
    assert render.worker_folder() not in (None, folder)


def test_a_failed_render_keeps_the_number_and_asking_again_issues_it(
        app, factory, frozen_now, monkeypatch):
    site = factory.site(code="MER", name="Cyberbase de Méricourt")
    staff = factory.staff(site)
    workshop = factory.workshop(title="Premiers pas", price_cheques=1, grants_attestation=True)
    session = factory.session(site, workshop, starts_in=timedelta(minutes=-10), capacity=8)
    present = [factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
               for _ in range(3)]
    newcomer = factory.beneficiary(site, password_hash=None)
    db.session.add(ChequeProgramme(name="Pass Numérique APTIC 62", issuer="Département",
                                   operator="APTIC", number_pattern=r"[0-9]{10}",
                                   validity_end=date(2026, 12, 31)))
    db.session.commit()
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    token = csrf_from(client.get("/equipe/").get_data(as_text=True))
    checkin = f"/equipe/seances/{session.id}/pointage"

    def post(path: str, data: dict[str, str] | None = None, *, htmx: bool) -> Any:
        if htmx:
            return client.post(path, data=data or {},
                               headers={"HX-Request": "true", "X-CSRFToken": token})
        return client.post(path, data={**(data or {}), "csrf_token": token})

    # (what, the request that fails, the request that completes it, the kind, how many)
    cases = [
        ("one certificate", lambda htmx: post(
            f"/equipe/reservations/{present[0].id}/attestation", htmx=htmx), None,
         DocumentKind.CERTIFICATE, 1),
        ("the session's certificates", lambda htmx: post(
            f"/equipe/seances/{session.id}/attestations", htmx=htmx), None,
         DocumentKind.CERTIFICATE, 2),
        ("a cheque receipt", lambda htmx: post(
            f"{checkin}/{present[1].id}/cheques", {"numbers": "6207261103"}, htmx=True),
         lambda htmx: post(f"{checkin}/{present[1].id}/recu", htmx=True),
         DocumentKind.RECEIPT, 1),
        ("an attendance sheet", lambda htmx: post(
            f"/equipe/seances/{session.id}/emargement", htmx=htmx), None,
         DocumentKind.ATTENDANCE_SHEET, 1),
        ("a login card", lambda htmx: post(
            f"/equipe/beneficiaires/{newcomer.id}/carte", htmx=htmx), None,
         DocumentKind.LOGIN_CARD, 1),
    ]
    faults = [worker_killed, time_limit_cut(monkeypatch)]
    for index, (what, fail, retry, kind, count) in enumerate(cases):
        htmx = index % 2 == 1
        with faults[index % 2]():
            response = fail(htmx)
        message = told(client, response, htmx=htmx)
        db.session.expire_all()
        pending = db.session.scalars(db.select(Document).where(
            Document.kind == kind, Document.sha256.is_(None)).order_by(Document.id)).all()
        assert len(pending) == count, what
        kept = [(d.id, d.number, d.verification_code, d.sequence) for d in pending]
        if kind is DocumentKind.RECEIPT:
            assert RECEIPT_FAILED in message, (what, message[:3000])
        else:
            expected = PENDING if count == 1 else PENDING_MANY
            assert expected in message and all(d.number in message for d in pending), (
                what, message[:3000])
        assert pending[0].rendering_until is None  # released: asking again retries at once

        answer = (retry or fail)(htmx)
        if kind is DocumentKind.RECEIPT:
            assert 'data-result-code="receipt_issued"' in text_of(answer), what
        else:
            assert answer.status_code == 200 and answer.mimetype == "application/pdf", what
        db.session.expire_all()
        done = [db.session.get(Document, document_id) for document_id, *_ in kept]
        assert [(d.id, d.number, d.verification_code, d.sequence) for d in done] == kept, what
        assert all(d.pdf and not d.is_pending for d in done), what

    # Every series counts 1, 2, 3… with no gap and no number twice.
    rows = db.session.execute(db.select(Document.kind, Document.sequence, Document.number)).all()
    for kind in {row.kind for row in rows}:
        sequences = sorted(row.sequence for row in rows if row.kind is kind)
        assert sequences == list(range(1, len(sequences) + 1)), kind
    assert len({row.number for row in rows}) == len(rows)
    assert db.session.scalar(db.select(db.func.count()).select_from(Document).where(
        Document.kind == DocumentKind.CERTIFICATE)) == 3
