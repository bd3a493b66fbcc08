"""Under load, two application processes on one database keep every count exact.

For about a minute (PORTAL_LOAD_SECONDS), 30 clients work at once through two gunicorn
processes sharing the test's database (a SQLite file, or PostgreSQL when the suite runs on it):
beneficiaries book and cancel seats, staff scan arrivals, add walk-ins, take cheques and issue
attendance certificates. No answer may be a server error or show "database is locked"; every
answer must be a success, a redirect or an expected refusal. Afterwards the database must hold
exact counts: seats taken = seat-holding bookings (never above capacity), each cheque redeemed
once, certificate numbers of each series without gap or duplicate, one certificate per person
and session (docs/security.md#race-tests).
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from flask import Flask

from portal.clock import today_local
from portal.extensions import db
from portal.models import Booking, Document, WorkshopSession
from portal.models.vocab import SEAT_HOLDING, BookingStatus, DocumentKind, StaffRole
from portal.models.vouchers import Cheque, ChequeProgramme
from tests.conftest import Factory
from tests.live import Answer, Visitor, gunicorn_processes, portal_env

#: how long the clients work; a constant of the suite, longer or shorter for a local run.
LOAD_SECONDS = float(os.environ.get("PORTAL_LOAD_SECONDS", "60"))
BENEFICIARY_THREADS = 14
STAFF_THREADS = 16
EXPECTED_STATUSES = {200, 204, 303, 409, 422}
PREBOOKED = 36
WALK_IN_SEATS = 6
CHEQUE_NUMBERS = [f"{2026620100 + n:010d}" for n in range(30)]


class Scene:
    """What the clients work on, as ids and codes (no ORM object crosses threads)."""

    def __init__(self, factory: Factory) -> None:
        site = factory.site()
        self.staff = [factory.staff(site, StaffRole.ANIMATEUR).email for _ in range(2)]
        workshop = factory.workshop(price_cheques=1, grants_attestation=True)
        today = factory.session(site, workshop, starts_in=timedelta(minutes=-1),
                                capacity=PREBOOKED + WALK_IN_SEATS)
        self.today = today.id
        self.arrivals = [factory.booking(today, factory.beneficiary(site))
                         for _ in range(PREBOOKED)]
        self.arrival_ids = [b.id for b in self.arrivals]
        self.arrival_codes = [b.code for b in self.arrivals]
        self.walk_ins = [factory.beneficiary(site).id for _ in range(12)]
        self.future = [factory.session(site, workshop, starts_in=timedelta(days=4),
                                       capacity=4).id for _ in range(3)]
        self.people = [factory.beneficiary(site).login_id for _ in range(BENEFICIARY_THREADS)]
        db.session.add(ChequeProgramme(name="APTIC", issuer="Département", operator="APTIC",
                                       number_pattern=r"[0-9]{10}",
                                       validity_end=date(today_local().year + 1, 12, 31)))
        db.session.commit()


class Record:
    """Every answer's status, and the ones that must not happen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.codes: Counter[str] = Counter()
        self.wrong: list[str] = []

    def check(self, what: str, answer: Answer) -> Answer:
        status, _headers, body = answer
        found = re.search(r'data-result-code="([a-z_]+)"', body)
        with self.lock:
            self.statuses[status] += 1
            if found:
                self.codes[found.group(1)] += 1
            if status not in EXPECTED_STATUSES or "database is locked" in body.lower():
                self.wrong.append(f"{what}: {status} {body[:300]!r}")
        return answer


def _beneficiary(urls: list[str], scene: Scene, login_id: str, record: Record,
                 seed: int, start: threading.Barrier) -> None:
    rng = random.Random(seed)
    person = Visitor.logged_in(urls[seed % 2], login_id, "/mon-espace/")
    start.wait()
    until = time.monotonic() + LOAD_SECONDS
    mine: list[int] = []
    while time.monotonic() < until:
        url = rng.choice(urls)
        choice = rng.random()
        if mine and choice < 0.45:
            booking = mine.pop(rng.randrange(len(mine)))
            record.check("cancel", person.post(url, f"/mon-espace/reservations/{booking}/annuler",
                                               {}))
        elif choice < 0.9:
            session = rng.choice(scene.future)
            body = record.check("book", person.post(
                url, f"/mon-espace/seances/{session}/reserver", {}))[2]
            mine.extend(int(b) for b in set(re.findall(r"\?annuler=(\d+)", body))
                        if int(b) not in mine)
        else:
            record.check("home", person.send(url, "GET", "/mon-espace/"))


def _staff(urls: list[str], scene: Scene, staff: Visitor, record: Record, seed: int,
           start: threading.Barrier) -> None:
    rng = random.Random(1000 + seed)
    page = f"/equipe/seances/{scene.today}/pointage"
    arrived: list[int] = []  # bookings this desk saw checked in: their certificates are due

    def scan(url: str) -> Answer:
        index = rng.randrange(len(scene.arrival_codes))
        answer = staff.post(url, f"{page}/scan", {"code": scene.arrival_codes[index]})
        if re.search(r'data-result-code="(already_)?checked_in"', answer[2]):
            arrived.append(scene.arrival_ids[index])
        return answer

    def certificate(url: str) -> Answer:
        booking = rng.choice(arrived or scene.arrival_ids)
        return staff.post(url, f"/equipe/reservations/{booking}/attestation", {})

    actions: list[tuple[float, Callable[[str], Answer]]] = [
        (0.30, scan),
        (0.05, lambda url: staff.post(url, f"{page}/{rng.choice(scene.arrival_ids)}",
                                      {"action": "undo"})),
        (0.15, lambda url: staff.post(url, f"{page}/ajout",
                                      {"person_id": str(rng.choice(scene.walk_ins))})),
        (0.25, lambda url: staff.post(url, f"{page}/{rng.choice(scene.arrival_ids)}/cheques",
                                      {"numbers": rng.choice(CHEQUE_NUMBERS)})),
        (0.15, certificate),
        (0.10, lambda url: staff.send(url, "GET", f"{page}/liste")),
    ]
    start.wait()
    until = time.monotonic() + LOAD_SECONDS
    while time.monotonic() < until:
        url = rng.choice(urls)
        pick, total = rng.random(), 0.0
        for number, (weight, action) in enumerate(actions):
            total += weight
            if pick < total:
                record.check(f"staff action {number}", action(url))
                break


def test_a_minute_of_mixed_work_through_two_processes_keeps_exact_counts(
        app: Flask, factory: Factory, tmp_path: Path) -> None:
    scene = Scene(factory)
    record = Record()
    env = portal_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    with gunicorn_processes(env, tmp_path / "gunicorn.log") as urls:
        staff = [Visitor.logged_in(urls[n % 2], email, f"/equipe/seances/{scene.today}/pointage")
                 for n, email in enumerate(scene.staff)]
        errors: list[BaseException] = []
        start = threading.Barrier(BENEFICIARY_THREADS + STAFF_THREADS, timeout=120)

        def run(work: Callable[[], None]) -> None:
            try:
                work()
            except BaseException as error:  # reported below, with the thread's story
                errors.append(error)

        threads = [threading.Thread(target=run, args=(
            lambda n=n, login_id=login_id: _beneficiary(urls, scene, login_id, record, n,
                                                        start),)) for n, login_id in
                   enumerate(scene.people)]
        threads += [threading.Thread(target=run, args=(
            lambda n=n: _staff(urls, scene, staff[n % 2], record, n, start),))
                    for n in range(STAFF_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(LOAD_SECONDS + 180)
        assert not any(thread.is_alive() for thread in threads), "a client is stuck"
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert not errors, (errors, log[-3000:])
    assert not record.wrong, (record.wrong[:10], log[-3000:])
    assert "database is locked" not in log.lower(), log[-3000:]
    db.session.expire_all()

    # Seats: the counter equals the seat-holding bookings, never above capacity.
    for session_id in [scene.today, *scene.future]:
        session = db.session.get(WorkshopSession, session_id)
        holding = db.session.scalar(db.select(db.func.count(Booking.id)).where(
            Booking.session_id == session_id, Booking.status.in_(SEAT_HOLDING)))
        assert session.seats_taken == holding <= session.capacity, session_id

    # Cheques: each number redeemed once, on one booking, never more than its price.
    cheques = db.session.scalars(db.select(Cheque)).all()
    assert all(c.redeemed_at is not None and c.booking_id is not None for c in cheques)
    assert len({c.number for c in cheques}) == len(cheques) == record.codes["cheques_redeemed"]
    assert max(Counter(c.booking_id for c in cheques).values(), default=0) <= 1

    # Certificates: numbers of each series gap-free and unique, one per person and session.
    documents = db.session.scalars(db.select(Document).where(
        Document.kind == DocumentKind.CERTIFICATE)).all()
    series: dict[tuple[int, int], list[int]] = {}
    for document in documents:
        series.setdefault((document.site_id, document.year), []).append(document.sequence)
    for sequences in series.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1)), sequences
    assert len({d.number for d in documents}) == len(documents)
    assert len({(d.beneficiary_id, d.session_id) for d in documents}) == len(documents)
    assert all(d.pdf is not None for d in documents)

    # The work really happened, on both sides of the counter.
    assert record.codes["cheques_redeemed"] and record.codes["checked_in"] and documents
    cancelled = db.session.scalar(db.select(db.func.count(Booking.id)).where(
        Booking.session_id.in_(scene.future), Booking.status == BookingStatus.CANCELLED))
    assert cancelled and sum(db.session.get(WorkshopSession, s).seats_taken
                             for s in scene.future), "no booking or no cancellation"
    assert sum(record.statuses.values()) > 2 * LOAD_SECONDS, record.statuses
