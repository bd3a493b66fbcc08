"""Time the main pages on a demo database and print the figures.

    .venv/bin/python bench/pages.py [--requests 200]

Not part of the test suite: speed is measured here, never asserted in a test.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "b" * 40,
                          "RATELIMIT_ENABLED": False})  # request limits off, not account ones
        with app.app_context():
            upgrade()
            from portal import demo

            demo.load()
            accounts = demo.DEMO_ACCOUNTS
        client = app.test_client()
        pages = {"home /": "/", "login /connexion": "/connexion",
                 "accessibility /accessibilite": "/accessibilite"}
        print(f"{'page':34} {'median ms':>10} {'p95 ms':>8}")
        for label, path in pages.items():
            report(label, [timed(client, path) for _ in range(args.requests)])

        staff = next(account for account in accounts if account.is_staff)
        page = client.get("/connexion").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        answer = client.post("/connexion", data={"identifier": staff.identifier,
                                                  "password": staff.secret,
                                                  "csrf_token": token})
        assert answer.status_code == 303, answer.get_data(as_text=True)[-3000:]
        report("staff sessions /equipe/",
               [timed(client, "/equipe/") for _ in range(args.requests)])
        session_id = todays_session(app)
        if session_id is None:
            print("(no session today in the demo: check-in figures skipped)")
        else:
            checkin = f"/equipe/seances/{session_id}/pointage"
            report("check-in page", [timed(client, checkin) for _ in range(args.requests)])
            poll = {"HX-Request": "true", "X-Portal-Poll": "1"}  # as the screen polls
            report("roster fragment, full (200)",
                   [timed(client, checkin + "/liste", poll) for _ in range(args.requests)])
            etag = client.get(checkin + "/liste", headers=poll).headers["ETag"]
            report("roster fragment, unchanged (304)",
                   [timed(client, checkin + "/liste", {**poll, "If-None-Match": etag},
                          expected=304)
                    for _ in range(args.requests)])
        with app.app_context():
            db.engine.dispose()


def todays_session(app) -> int | None:
    """The demo's last session of today (the one the check-in walk-through uses)."""
    from portal.clock import PARIS, now
    from portal.models import WorkshopSession
    from portal.models.vocab import SessionStatus

    with app.app_context():
        today = now().astimezone(PARIS).date()
        ids = [s.id for s in db.session.scalars(
            db.select(WorkshopSession).filter_by(status=SessionStatus.SCHEDULED)
            .order_by(WorkshopSession.starts_at))
            if s.starts_at.astimezone(PARIS).date() == today]
        return ids[-1] if ids else None


def timed(client, path: str, headers: dict[str, str] | None = None, *,
          expected: int = 200) -> float:
    start = time.perf_counter()
    response = client.get(path, headers=headers or {})
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == expected, (path, response.status_code)
    return elapsed


def report(label: str, samples: list[float]) -> None:
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{label:34} {statistics.median(samples):10.2f} {p95:8.2f}")


if __name__ == "__main__":
    main()
