"""The check-in races through HTTP against two application processes (docs/security.md#race-tests).

Two gunicorn processes serve the same database (the test's SQLite file, or PostgreSQL);
30 threads post at once, alternating between them, with one logged-in staff member's cookie
(login sessions live in the database, so either process recognises it). The counts are then
read from the database.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask

from portal.clock import today_local
from portal.extensions import db
from portal.models import Booking, WorkshopSession
from portal.models.vocab import BookingStatus, StaffRole
from portal.models.vouchers import Cheque, ChequeProgramme
from tests.conftest import PASSWORD, SECRET, Factory

GUNICORN = Path(sys.executable).with_name("gunicorn")
THREADS = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def two_processes(app: Flask, tmp_path: Path) -> Iterator[list[str]]:
    env = {**os.environ, "PORTAL_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PORTAL_SECRET_KEY": SECRET, "PORTAL_INSTANCE_PATH": str(tmp_path),
           "PORTAL_RATELIMIT_STORAGE_URL": "memory://"}
    servers: list[subprocess.Popen[bytes]] = []
    urls = []
    log = (tmp_path / "gunicorn.log").open("wb")
    try:
        for _ in range(2):
            port = _free_port()
            servers.append(subprocess.Popen(
                [str(GUNICORN), "--workers", "1", "--threads", "16", "--bind",
                 f"127.0.0.1:{port}", "--log-level", "warning", "portal:create_app()"],
                env=env, stdout=subprocess.DEVNULL, stderr=log))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            _wait_until_up(url, tmp_path / "gunicorn.log")
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)
        log.close()


def _call(url: str, method: str, path: str, *, data: dict[str, str] | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, str]:
    """One HTTP exchange, redirects not followed."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        body = urllib.parse.urlencode(data) if data is not None else None
        sent = {**(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read().decode()
    finally:
        connection.close()


def _wait_until_up(url: str, log: Path) -> None:
    for _ in range(150):
        try:
            if _call(url, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not start: {log.read_text(errors='replace')[-2000:]}")


class Staff:
    """One staff member logged in once; the cookie and CSRF token are shared by the threads."""

    def __init__(self, url: str, email: str, page: str) -> None:
        self.cookies: SimpleCookie = SimpleCookie()
        _status, _headers, login = self._get(url, "/connexion")
        status, _headers, _body = self._send(url, "POST", "/connexion", {
            "csrf_token": _csrf(login), "identifier": email, "password": PASSWORD})
        assert status == 303, "the staff member could not log in"
        self.csrf = _csrf(self._get(url, page)[2])

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())}

    def _send(self, url: str, method: str, path: str, data: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, str]:
        answer = _call(url, method, path, data=data,
                       headers={**self._cookie_header(), **(headers or {})})
        for value in answer[1].get_all("Set-Cookie") or []:
            self.cookies.load(value)
        return answer

    def _get(self, url: str, path: str) -> tuple[int, http.client.HTTPMessage, str]:
        return self._send(url, "GET", path)

    def post(self, url: str, path: str, data: dict[str, str]) -> str:
        """A check-in action as htmx sends it (no cookie update: the threads share one)."""
        return _call(url, "POST", path, data=data,
                     headers={**self._cookie_header(), "HX-Request": "true",
                              "X-CSRFToken": self.csrf})[2]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _race(urls: list[str], post: list[tuple[str, dict[str, str]]], staff: Staff) -> list[str]:
    """Each request once, all at the same moment, half to each process; the result codes."""
    barrier = threading.Barrier(len(post), timeout=60)
    codes: list[str] = []

    def attempt(index: int, path: str, data: dict[str, str]) -> None:
        barrier.wait()
        html = staff.post(urls[index % 2], path, data)
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
    staff = Staff(two_processes[0], email, page)
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
    staff = Staff(two_processes[1], email, page)
    codes = _race(two_processes, [(f"{page}/{booking}/cheques", {"numbers": "2026-6201-01"})
                                  for booking in bookings], staff)
    assert codes.count("cheques_redeemed") == 1, codes
    assert codes.count("cheque_already_redeemed") == THREADS - 1, codes
    db.session.expire_all()
    cheques = db.session.scalars(db.select(Cheque)).all()
    assert len(cheques) == 1 and cheques[0].redeemed_at is not None
