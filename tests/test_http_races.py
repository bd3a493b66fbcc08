"""The check-in races through HTTP against two application processes (docs/security.md#race-tests).

Two gunicorn processes serve the same database (the test's SQLite file, or PostgreSQL);
30 threads post at once, alternating between them, with one logged-in staff member's cookie
(login sessions live in the database, so either process recognises it). The counts are then
read from the database.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask

from portal.clock import today_local
from portal.extensions import db
from portal.models import Booking, WorkshopSession
from portal.models.vocab import BookingStatus, StaffRole
from portal.models.vouchers import Cheque, ChequeProgramme
from tests.conftest import Factory
from tests.live import Visitor, gunicorn_processes, portal_env

THREADS = 30


@pytest.fixture
def two_processes(app: Flask, tmp_path: Path) -> Iterator[list[str]]:
    env = portal_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    with gunicorn_processes(env, tmp_path / "gunicorn.log") as urls:
        yield urls


def _race(urls: list[str], post: list[tuple[str, dict[str, str]]], staff: Visitor) -> list[str]:
    """Each request once, all at the same moment, half to each process; the result codes."""
    barrier = threading.Barrier(len(post), timeout=60)
    codes: list[str] = []

    def attempt(index: int, path: str, data: dict[str, str]) -> None:
        barrier.wait()
        html = staff.post(urls[index % 2], path, data)[2]
        found = re.search(r'data-result-code="([a-z_]+)"', html)
        codes.append(found.group(1) if found else "no-answer")

    threads = [threading.Thread(target=attempt, args=(i, path, data))
               for i, (path, data) in enumerate(post)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a request is stuck"
    return codes


def _scene(factory: Factory, *, capacity: int, price: int = 1,
           booked: int = 0) -> tuple[str, int, list[int], list[int]]:
    site = factory.site()
    staff = factory.staff(site, StaffRole.ANIMATEUR)
    workshop = factory.workshop(price_cheques=price)
    session = factory.session(site, workshop, starts_in=timedelta(minutes=-1), capacity=capacity)
    people = [factory.beneficiary(site) for _ in range(THREADS)]
    bookings = [factory.booking(session, person).id for person in people[:booked]]
    return staff.email, session.id, [p.id for p in people], bookings


def test_walk_ins_through_two_processes_never_overbook(app, factory, two_processes):
    email, session_id, people, _ = _scene(factory, capacity=5)
    page = f"/equipe/seances/{session_id}/pointage"
    staff = Visitor.logged_in(two_processes[0], email, page)
    codes = _race(two_processes, [(f"{page}/ajout", {"person_id": str(pid)}) for pid in people],
                  staff)
    assert codes.count("walk_in_added") == 5, codes
    assert codes.count("session_full") == THREADS - 5, codes
    db.session.expire_all()
    present = db.session.scalar(db.select(db.func.count(Booking.id)).where(
        Booking.session_id == session_id, Booking.status == BookingStatus.PRESENT))
    assert present == 5 == db.session.get(WorkshopSession, session_id).seats_taken


def test_one_cheque_is_taken_once_through_two_processes(app, factory, two_processes):
    email, session_id, _, bookings = _scene(factory, capacity=THREADS, booked=THREADS)
    db.session.add(ChequeProgramme(name="APTIC", issuer="Département", operator="APTIC",
                                   number_pattern=r"[0-9]{10}",
                                   validity_end=date(today_local().year + 1, 12, 31)))
    db.session.commit()
    page = f"/equipe/seances/{session_id}/pointage"
    staff = Visitor.logged_in(two_processes[1], email, page)
    codes = _race(two_processes, [(f"{page}/{booking}/cheques", {"numbers": "2026-6201-01"})
                                  for booking in bookings], staff)
    assert codes.count("cheques_redeemed") == 1, codes
    assert codes.count("cheque_already_redeemed") == THREADS - 1, codes
    db.session.expire_all()
    cheques = db.session.scalars(db.select(Cheque)).all()
    assert len(cheques) == 1 and cheques[0].redeemed_at is not None
