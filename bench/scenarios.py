"""What the bench's clients do: every page and fragment of issue 14, the actions, the closing
with concurrent writes, and the certificate figures of bench/certificates.py."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from bench.load import (
    TIMEOUT,
    Answer,
    Client,
    Figure,
    compare,
    peak_memory_growth,
    percentile,
    run_batch,
)
from bench.scene import Scene

#: the scenarios a run may be limited to (--scenarios): read pages, single writes, the
#: closing with concurrent writes (and the certificate download after it).
ALL = ("pages", "writes", "closing")
POLL = {"HX-Request": "true", "X-Portal-Poll": "1"}  # as the check-in screen polls
#: a page slower than this (first request, seconds) is measured on fewer requests.
SLOW_SECONDS = 1.0
SLOW_BATCH_SECONDS = 20.0


class Reader:
    """Reads ids the clients need (bookings made, certificates issued) from the database."""

    def __init__(self, database_url: str) -> None:
        from portal import create_app

        self.app = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                               "SECRET_KEY": "b" * 40})

    def active_bookings(self, session_ids: list[int]) -> list[tuple[str, int]]:
        from sqlalchemy import select

        from portal.extensions import db
        from portal.models import Beneficiary, Booking
        from portal.services.bookings import ACTIVE

        with self.app.app_context():
            rows = db.session.execute(
                select(Beneficiary.login_id, Booking.id).join(Booking.beneficiary)
                .where(Booking.session_id.in_(session_ids), Booking.status.in_(ACTIVE))
                .order_by(Booking.id)).all()
            db.session.remove()
        return [(row[0], row[1]) for row in rows]

    def certificates_of(self, session_id: int) -> list[int]:
        from sqlalchemy import select

        from portal.extensions import db
        from portal.models import Document
        from portal.models.vocab import DocumentKind

        with self.app.app_context():
            ids = list(db.session.scalars(select(Document.id).where(
                Document.session_id == session_id, Document.kind == DocumentKind.CERTIFICATE)))
            db.session.remove()
        return ids

    def close(self) -> None:
        from portal.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def _ok(answer: Answer, what: str, expected: tuple[int, ...] = (200,), *,
        result: str = "") -> Answer:
    """The answer, when it is the one expected (and, for an action, the outcome ``result``)."""
    wrong = bool(result) and f'data-result-code="{result}"' not in answer.text
    if answer.status not in expected or wrong:
        raise RuntimeError(f"{what}: {answer.status} {answer.text[:300]!r}")
    return answer


def run_all(url: str, master: int, scene: Scene, *, database_url: str, count: int,
            rounds: int, threads: int, only: set[str], people: int = 20) -> list[Figure]:
    reader = Reader(database_url)
    try:
        return _run_all(url, master, scene, reader, count=count, rounds=rounds,
                        threads=threads, only=only, people=people)
    finally:
        reader.close()


def _run_all(url: str, master: int, scene: Scene, reader: Reader, *, count: int,
             rounds: int, threads: int, only: set[str], people: int) -> list[Figure]:
    floor = Client(url)
    admin = Client(url).log_in(scene.staff["admin"], scene.password, "/equipe/")
    animator = Client(url).log_in(scene.staff["animateur"], scene.password, "/equipe/")
    network = Client(url).log_in(scene.staff["network"], scene.password, "/equipe/")
    logged_in = {login: Client(url).log_in(login, scene.password, "/mon-espace/")
                 for login in scene.beneficiaries[:max(people, 1)]}
    persons = list(logged_in.values())
    figures: list[Figure] = []

    def page(name: str, path: str, *, by: Callable[[int], Client],
             headers: dict[str, str] | None = None, expected: int = 200) -> Figure:
        started = time.perf_counter()
        sample = _ok(by(0).send("GET", path, headers=headers, keep_cookies=False), name,
                     (expected,))
        # A page taking seconds (the year's dashboard at scale 1) is measured on fewer
        # requests, one round, so that the run ends; the figure says so.
        took = time.perf_counter() - started
        many, turns = count, rounds
        if took > SLOW_SECONDS:
            many, turns = max(2, min(count, int(SLOW_BATCH_SECONDS / took))), 1
        figures.append(compare(
            name, master, floor,
            lambda i: by(i).send("GET", path, headers=headers, keep_cookies=False),
            count=many, rounds=turns, threads=threads, size=len(sample.body),
            expected={expected}))
        if (many, turns) != (count, rounds):
            figures[-1].note = (f"slow page ({took:.1f} s): {many} requests × 1 round")
        print(f"  {name}: done", file=sys.stderr)
        return figures[-1]

    def person(i: int) -> Client:
        return persons[i % len(persons)]

    if "pages" in only:
        figures += _pages(page, person, admin, network, scene, master)
    if "writes" in only:
        figures += _writes(master, floor, admin, animator, logged_in, scene, reader, count=count,
                           rounds=rounds, threads=threads)
    if "closing" in only:
        figures += _closing(admin, animator, logged_in, scene, reader)
        certificates = (reader.certificates_of(scene.closing_session)
                        + scene.certificate_documents)
        if certificates:
            page("certificate download", f"/equipe/documents/{certificates[0]}.pdf",
                 by=lambda _i: admin)
    return figures


def _pages(page: Callable[..., Figure], person: Callable[[int], Client], admin: Client,
           network: Client, scene: Scene, master: int) -> list[Figure]:
    checkin = f"/equipe/seances/{scene.checkin_session}/pointage"
    page("home", "/", by=person)
    page("my workshops", "/mon-espace/", by=person)
    page("find (a query)", "/mon-espace/ateliers?q=atelier", by=person)
    page("find (filters)", f"/mon-espace/ateliers?site={scene.site_id}&places=1", by=person)
    page("check-in roster fragment (200)", f"{checkin}/liste", by=lambda _i: admin,
         headers=POLL)
    etag = _ok(admin.send("GET", f"{checkin}/liste", headers=POLL), "roster").headers["ETag"]
    page("check-in roster poll (304)", f"{checkin}/liste", by=lambda _i: admin,
         headers={**POLL, "If-None-Match": etag}, expected=304)
    page("check-in page", checkin, by=lambda _i: admin)
    page("staff sessions of the week", "/equipe/", by=lambda _i: admin)
    page("programme of the week", f"/equipe/programme?site={scene.site_id}",
         by=lambda _i: admin)
    page("network overview", "/equipe/reseau", by=lambda _i: network)
    dashboard = page("dashboard (a year)",
                     f"/equipe/rapports?periode=annee&annee={scene.year}", by=lambda _i: network)
    # the network's year as a network administrator waits for it (budget: PostgreSQL, scale 1)
    return [Figure(name="dashboard (a year), answered in", value=dashboard.p50 or 0.0,
                   floor=None, queries=dashboard.queries, p50=dashboard.p50,
                   p99=dashboard.p99, unit="ms (p50)"),
            *(_export(master, network, scene, fmt) for fmt in ("csv", "xlsx"))]


def _export(master: int, network: Client, scene: Scene, fmt: str) -> Figure:
    """The network's activities of a year downloaded whole: the worker's memory must not
    grow with the rows (they stream), its time is shown."""
    path = f"/equipe/rapports/exports/activites.{fmt}?site=reseau&periode=annee&annee={scene.year}"
    name = f"export of a year ({fmt.upper()}), memory"
    try:
        growth, answer = peak_memory_growth(
            master, lambda: network.send("GET", path, keep_cookies=False))
    except TimeoutError:  # the rest of the run is still worth having: said, not hidden
        print(f"  export ({fmt}): no answer within {TIMEOUT} s", file=sys.stderr)
        return Figure(name=name, value=None, floor=None, queries=None, p50=None, p99=None,
                      unit="MB above resident", note=f"no answer within {TIMEOUT} s")
    _ok(answer, f"export {fmt}")
    rows = answer.body.count(b"\n") - 1 if fmt == "csv" else None
    print(f"  export ({fmt}): done", file=sys.stderr)
    return Figure(name=name, value=growth,
                  floor=None, queries=answer.queries, p50=answer.seconds * 1000, p99=None,
                  size=len(answer.body), unit="MB above resident",
                  note=(f"{rows} rows, " if rows is not None else "")
                  + f"{len(answer.body) / 1e6:.1f} MB in {answer.seconds:.1f} s"
                  + ("" if growth is not None else "; memory not readable here"))


def _writes(master: int, floor: Client, admin: Client, animator: Client,
            people: dict[str, Client], scene: Scene, reader: Reader, *, count: int,
            rounds: int, threads: int) -> list[Figure]:
    figures = []
    checkin = f"/equipe/seances/{scene.checkin_session}/pointage"
    size_of = {"scan": 0}

    def undo_all() -> None:
        for booking in scene.checkin_bookings:
            _ok(admin.post(f"{checkin}/{booking}", {"action": "undo"}), "undo")

    scans = min(count, len(scene.checkin_codes))
    sample = _ok(animator.post(f"{checkin}/scan", {"code": scene.checkin_codes[0]}), "scan",
                 result="checked_in")
    size_of["scan"] = len(sample.body)
    undo_all()
    figures.append(compare(
        "check-in scan", master, floor,
        lambda i: animator.post(f"{checkin}/scan", {"code": scene.checkin_codes[i]}),
        count=scans, rounds=rounds, threads=threads, size=size_of["scan"], expected={200},
        between=undo_all))
    print("  check-in scan: done", file=sys.stderr)

    logins = list(people)
    pairs = [(login, session) for session in scene.bookable_sessions for login in logins]
    bookings = min(count, len(pairs))

    def book(i: int) -> Answer:
        login, session = pairs[i]
        return people[login].post(f"/mon-espace/seances/{session}/reserver")

    def cancel_all() -> None:
        for login, booking in reader.active_bookings(scene.bookable_sessions):
            _ok(people[login].post(f"/mon-espace/reservations/{booking}/annuler"), "cancel")

    def book_all() -> None:
        for i in range(bookings):
            _ok(book(i), "book")
        made[:] = reader.active_bookings(scene.bookable_sessions)

    made: list[tuple[str, int]] = []
    size = len(_ok(book(0), "book").body)
    cancel_all()
    figures.append(compare("booking", master, floor, book, count=bookings, rounds=rounds,
                           threads=threads, size=size, expected={200}, between=cancel_all))
    book_all()
    size = len(_ok(people[made[0][0]].post(f"/mon-espace/reservations/{made[0][1]}/annuler"),
                   "cancel").body)

    def cancel(i: int) -> Answer:
        login, booking = made[i]
        return people[login].post(f"/mon-espace/reservations/{booking}/annuler")

    def again() -> None:
        cancel_all()
        book_all()

    again()
    figures.append(compare("booking cancelled", master, floor, cancel,
                           count=min(bookings, len(made)), rounds=rounds, threads=threads,
                           size=size, expected={200}, between=again))
    cancel_all()
    print("  booking and cancelling: done", file=sys.stderr)

    paying = iter(scene.cheque_bookings)
    numbers = itertools.count(1)
    lock = threading.Lock()
    pay = f"/equipe/seances/{scene.cheque_session}/pointage"
    programme = scene.cheque_programme

    def redeem(_i: int) -> Answer:
        with lock:
            booking, number = next(paying), next(numbers)
        return admin.post(f"{pay}/{booking}/cheques", {"numbers": f"9{number:09d}",
                                                     "programme_id": str(programme)})

    size = len(_ok(redeem(0), "cheque", result="cheques_redeemed").body)
    # each worker's PDF renderer started before measuring (a receipt is rendered each time)
    run_batch(master, redeem, threads * 2, threads)
    redemptions = min(count, (len(scene.cheque_bookings) - 1 - threads * 2) // rounds)
    figures.append(compare("cheque redemption", master, floor, redeem, count=redemptions,
                           rounds=rounds, threads=threads, size=size, expected={200}))
    print("  cheque redemption: done", file=sys.stderr)
    return figures


def _closing(admin: Client, animator: Client, people: dict[str, Client], scene: Scene,
             reader: Reader) -> list[Figure]:
    """Close the 30-person session through HTTP while others check in and book."""
    checkin = f"/equipe/seances/{scene.checkin_session}/pointage"
    stop = threading.Event()
    writes: list[tuple[str, float, int]] = []
    lock = threading.Lock()

    def note(what: str, answer: Answer) -> None:
        with lock:
            writes.append((what, answer.seconds * 1000, answer.status))

    def desk() -> None:
        for code, booking in itertools.cycle(zip(scene.checkin_codes, scene.checkin_bookings,
                                                 strict=True)):
            if stop.is_set():
                return
            note("scan", animator.post(f"{checkin}/scan", {"code": code}))
            note("undo", animator.post(f"{checkin}/{booking}", {"action": "undo"}))

    def booker() -> None:
        pairs = [(login, s) for s in scene.bookable_sessions for login in people]
        for login, session in itertools.cycle(pairs):
            if stop.is_set():
                return
            note("book", people[login].post(f"/mon-espace/seances/{session}/reserver"))

    workers = [threading.Thread(target=desk), threading.Thread(target=booker)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    closed = admin.post(f"/equipe/seances/{scene.closing_session}/cloture")
    time.sleep(0.3)
    stop.set()
    for worker in workers:
        worker.join()
    for login, booking in reader.active_bookings(scene.bookable_sessions):
        people[login].post(f"/mon-espace/reservations/{booking}/annuler")
    _ok(closed, "closing", (200, 204))
    latencies = [ms for _what, ms, _status in writes]
    refused = {status for _what, _ms, status in writes if status != 200}
    print("  closing with concurrent writes: done", file=sys.stderr)
    return [
        Figure(name="closing a 30-person session", value=closed.seconds * 1000, floor=None,
               queries=closed.queries, p50=None, p99=None, unit="ms"),
        Figure(name="worst write during a closing", value=max(latencies, default=0.0),
               floor=None, queries=None, p50=percentile(latencies, 0.5),
               p99=percentile(latencies, 0.99), unit="ms",
               note=f"{len(writes)} writes during a {closed.seconds:.1f} s closing"
                    + (f"; answers other than 200: {sorted(refused)}" if refused else "")),
    ]


def certificate_figures(count: int, rounds: int) -> tuple[list[Figure], str]:
    """Per certificate, separate and batch renders against the minimal A4 page with a QR code
    (``bench.certificates.measure()``, the "pdf" work's function), when present."""
    if count <= 0:
        return [], "certificates not measured (--certificates 0)"
    from bench.certificates import measure

    got: dict[str, Any] = measure(count=count, rounds=rounds)
    unit = "ms/certificate"
    return [
        Figure(name="certificate, separate renders", value=got["separate_ms"],
               floor=got["minimal_ms"], queries=None, p50=None, p99=None, unit=unit),
        Figure(name="certificate in a batch", value=got["batch_ms"],
               floor=got["minimal_ms"], queries=None, p50=None, p99=None, unit=unit),
        Figure(name="certificate in a batch vs separate", value=got["batch_ms"],
               floor=got["separate_ms"], queries=None, p50=None, p99=None, unit=unit),
    ], ""



