"""While a session's thirty attestations are being rendered for its closing, a check-in and a
booking on the same database go through: no write waits on a render
(docs/architecture.md#how-a-pdf-flows).

Real threads, one database (the per-test SQLite file, or PostgreSQL), the real renderer. The
closing is held at the start of its render until the check-in and the booking have been
committed by another thread: they can only finish if the closing holds no write transaction
while it renders (on SQLite one open write transaction blocks every other writer). The
attestations are then rendered and stored as usual.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from portal.extensions import db
from portal.models import Beneficiary, Booking, Document, WorkshopSession
from portal.models.vocab import BookingSource, BookingStatus, DocumentKind
from portal.services import bookings, checkin, closing, issuing
from tests.services.scene import VERIFY

pytestmark = pytest.mark.usefixtures("frozen")

PRESENT = 30


def test_a_check_in_and_a_booking_go_through_while_a_closing_renders(
        app, factory, site, actor, monkeypatch):
    workshop = factory.workshop(grants_attestation=True, price_cheques=0)
    closed = factory.session(site, workshop, starts_in=timedelta(minutes=-130),
                             capacity=PRESENT)
    for _ in range(PRESENT):
        factory.booking(closed, factory.beneficiary(site), status=BookingStatus.PRESENT)
    today = factory.session(site, starts_in=timedelta(minutes=-10), capacity=5)
    arriving = factory.booking(today, factory.beneficiary(site)).id
    later = factory.session(site, starts_in=timedelta(days=2), capacity=5).id
    booker = factory.beneficiary(site).id
    closed_id = closed.id

    rendering, release = threading.Event(), threading.Event()
    held: dict[str, Any] = {}
    real_render = issuing._render

    def render_held_once(jobs: list[Any], *, batch: bool) -> list[bytes]:
        """The real render, held at its start the first time (the attestations' batch)."""
        if not held:
            try:
                held.update(jobs=len(jobs), batch=batch,
                            transaction_open=db.session().in_transaction())
            finally:
                rendering.set()
            release.wait(120)
        return real_render(jobs, batch=batch)

    monkeypatch.setattr(issuing, "_render", render_held_once)
    outcome: dict[str, Any] = {}

    def in_thread(name: str, work: Any) -> threading.Thread:
        def run() -> None:
            with app.app_context():
                try:
                    outcome[name] = work()
                except Exception as error:  # reported by the assertions, not lost
                    outcome[name] = f"crash: {type(error).__name__}: {error}"
                finally:
                    db.session.remove()
        thread = threading.Thread(target=run, name=name)
        thread.start()
        return thread

    closer = in_thread("closing", lambda: closing.close_session(
        db.session.get(WorkshopSession, closed_id), actor=actor, verify_url=VERIFY))
    try:
        assert rendering.wait(120), f"the closing never reached its render: {outcome}"

        def write() -> tuple[str, str]:
            marked = checkin.check_in(db.session.get(Booking, arriving), actor=actor)
            booked = bookings.book(db.session.get(WorkshopSession, later),
                                   db.session.get(Beneficiary, booker), actor=actor,
                                   source=BookingSource.DESK)
            return marked.code, booked.booking.status.value

        writer = in_thread("writes", write)
        writer.join(120)
        assert not writer.is_alive(), "the check-in and the booking waited for the render"
        assert outcome["writes"] == ("checked_in", "booked")
        assert closer.is_alive() and "closing" not in outcome  # still held in its render
        assert held == {"jobs": PRESENT, "batch": True, "transaction_open": False}
    finally:
        release.set()
        closer.join(180)
    assert not closer.is_alive()

    result = outcome["closing"]
    assert isinstance(result, closing.Closing), result
    assert not result.documents_failed
    db.session.expire_all()
    stored = db.session.scalars(db.select(Document).filter_by(
        kind=DocumentKind.CERTIFICATE, session_id=closed_id)).all()
    assert len(stored) == PRESENT and all(doc.sha256 for doc in stored)
    assert db.session.get(Booking, arriving).status is BookingStatus.PRESENT
    assert db.session.scalar(db.select(db.func.count()).select_from(Booking).where(
        Booking.session_id == later, Booking.beneficiary_id == booker)) == 1
