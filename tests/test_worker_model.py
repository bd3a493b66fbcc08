"""Pages keep being answered while attestations are being rendered, with the deployment's worker
model: gunicorn with two worker processes of four threads each (README "Deployment",
docs/architecture.md#worker-model).

A real gunicorn on a free port, on the test's database. Two sessions are closed at once, and the
render processes of their attestations are frozen (SIGSTOP) as soon as they start: both closing
requests stay in progress, waiting for their PDFs, possibly one in each worker process. Meanwhile
pages (the public home page, the staff's week, the health check) must be answered, while every
attestation is still numbered and not printed. With two one-thread workers, both would be busy and
those pages would hang. The renders are then let go and both closings finish.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from portal.extensions import db
from portal.models import Document
from portal.models.vocab import BookingStatus, DocumentKind, StaffRole
from tests.live import Visitor, call, gunicorn_processes, portal_env

ROOT = Path(__file__).parents[1]
#: the worker model of the README's deployment command.
MODEL = ("--workers", "2", "--threads", "4")
PRESENT = 4


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def render_processes(master: int) -> set[int]:
    """The PDF render processes (``multiprocessing`` spawn) of the master's workers."""
    found = set()
    for worker in children(master):
        for child in children(worker):
            try:
                command = (Path("/proc") / str(child) / "cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:
                found.add(child)
    return found


class Freezer(threading.Thread):
    """Freezes every render process of the server as soon as it appears, until ``thaw``."""

    def __init__(self, master: int) -> None:
        super().__init__(name="freezer", daemon=True)
        self.master, self.frozen = master, set[int]()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.02):
            for pid in render_processes(self.master) - self.frozen:
                os.kill(pid, signal.SIGSTOP)
                self.frozen.add(pid)

    def thaw(self) -> None:
        self.stopping.set()
        self.join(10)
        for pid in self.frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def master_serving(port: int) -> int:
    """The gunicorn master this test started on ``port``."""
    for pid in children(os.getpid()):
        try:
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        if b"gunicorn" in command and f"127.0.0.1:{port}".encode() in command:
            return pid
    pytest.fail(f"no gunicorn on port {port}")


@pytest.fixture
def server(app: Flask, tmp_path: Path) -> Iterator[tuple[str, int]]:
    env = portal_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    with gunicorn_processes(env, tmp_path / "gunicorn.log", count=1, workers=2,
                            threads=4) as (url,):
        yield url, master_serving(int(url.rpartition(":")[2]))


def test_the_readme_deploys_this_worker_model():
    command = re.search(r"\.venv/bin/gunicorn ([^\n]+)'portal:create_app\(\)'",
                        (ROOT / "README.md").read_text())
    assert command and " ".join(MODEL) in command.group(1)


def test_pages_are_answered_while_two_closings_wait_for_their_renders(app, factory, server):
    url, master = server
    site = factory.site()
    staff = factory.staff(site, StaffRole.ANIMATEUR)
    workshop = factory.workshop(grants_attestation=True, price_cheques=0)
    sessions = []
    for _ in range(2):
        session = factory.session(site, workshop, starts_in=timedelta(minutes=-130),
                                  capacity=PRESENT)
        for _ in range(PRESENT):
            factory.booking(session, factory.beneficiary(site), status=BookingStatus.PRESENT)
        sessions.append(session.id)
    visitor = Visitor.logged_in(url, staff.email, f"/equipe/seances/{sessions[0]}/cloture")

    def pending() -> tuple[int, int]:
        """(numbered but not printed, printed) attestations of the two sessions."""
        db.session.expire_all()
        rows = db.session.execute(db.select(Document.sha256).where(
            Document.kind == DocumentKind.CERTIFICATE,
            Document.session_id.in_(sessions))).all()
        return sum(1 for (sha,) in rows if sha is None), sum(1 for (sha,) in rows if sha)

    freezer = Freezer(master)
    freezer.start()
    answers: dict[int, tuple[int, str]] = {}

    def close(session_id: int) -> None:
        status, headers, _body = visitor.post(url, f"/equipe/seances/{session_id}/cloture", {})
        answers[session_id] = (status, headers.get("HX-Redirect") or "")

    closings = [threading.Thread(target=close, args=(sid,)) for sid in sessions]
    try:
        for thread in closings:
            thread.start()
        for _ in range(3000):  # until both closings have numbered their attestations
            if pending() == (2 * PRESENT, 0) and freezer.frozen:
                break
            threading.Event().wait(0.01)
        assert pending() == (2 * PRESENT, 0), pending()

        reads: list[tuple[str, int]] = []

        def read(path: str, headers: dict[str, str]) -> None:
            reads.append((path, call(url, "GET", path, headers=headers, timeout=30)[0]))

        staff_page = visitor.cookie_header()
        readers = [threading.Thread(target=read, args=args) for args in [
            ("/", {}), ("/healthz", {}), ("/equipe/", staff_page), ("/", {}),
            ("/equipe/", staff_page), ("/healthz", {})]]
        for thread in readers:
            thread.start()
        for thread in readers:
            thread.join(60)
        assert sorted(reads) == sorted([("/", 200), ("/healthz", 200), ("/equipe/", 200)] * 2)
        assert pending() == (2 * PRESENT, 0)  # still waiting for their PDFs
        assert all(thread.is_alive() for thread in closings) and not answers
    finally:
        freezer.thaw()
        for thread in closings:
            thread.join(120)
    assert answers == {sid: (204, f"/equipe/seances/{sid}/cloture") for sid in sessions}
    assert pending() == (0, 2 * PRESENT)
