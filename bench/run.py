"""`make bench`: the portal's pages and actions against the framework's floor, in one run.

    .venv/bin/python -m bench.run [--scale 0.01] [--database-url URL] [--worker-class gthread]

Steps: a fresh database (SQLite in a temporary folder, or the empty PostgreSQL database given),
migrated, data loaded (``prepare_data``), the scene added (bench/scene.py), then gunicorn started
like production on bench/server.py; logged-in clients measure every page and action against a
bare Flask page of the same size (interleaved batches, medians of the rounds); a 30-person
session is closed while others check people in and book. Prints a table, writes
``bench/results/latest.json`` and ``bench/results/<engine>-<scale>.json``.
Never part of the test suite: speed is measured here, never asserted in a test.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import scenarios  # noqa: E402
from bench.budgets import BUDGETS  # noqa: E402
from bench.scene import Scene  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PUBLIC_URL = "https://portail.example.fr"  # production refuses loopback or http addresses


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _flask(env: dict[str, str], *args: str, log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run([str(BIN / "flask"), "--app", "portal", *args], cwd=ROOT, env=env,
                       stdout=out, stderr=subprocess.STDOUT, check=True)


def migrate(database_url: str) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "b" * 40})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


def prepare_data(env: dict[str, str], scale: float, log: Path) -> str:
    """Load the network to measure (``flask bench-data --scale S``); the name of what was loaded."""
    _flask(env, "bench-data", "--scale", str(scale), log=log)
    return "bench-data"


def set_up_scene(database_url: str, cheques: int) -> Scene:
    from bench.scene import set_up
    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "b" * 40})
    with app.app_context():
        try:
            return set_up(cheques)
        finally:
            db.session.remove()
            db.engine.dispose()


def start_server(env: dict[str, str], work: Path, workers: int, worker_class: str,
                 threads: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (work / "gunicorn.log").open("ab")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--worker-class", worker_class,
         "--threads", str(threads), "--timeout", "300", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "bench.server:build()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    from bench.load import Client

    for _ in range(300):
        try:
            if Client(url).send("GET", "/healthz").status == 200:
                return server, url
        except OSError:
            time.sleep(0.1)
        if server.poll() is not None:
            break
    server.terminate()
    server.wait(timeout=30)
    raise SystemExit("gunicorn did not start:\n"
                     + (work / "gunicorn.log").read_text(errors="replace")[-3000:])


def _git_commit() -> str:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                           capture_output=True, text=True)
    return found.stdout.strip() or "unknown"


def records(figures: list[Any], *, scale: float, engine: str) -> list[dict[str, Any]]:
    rows = []
    for figure in figures:
        ratio = (figure.floor / figure.value if figure.floor is not None and figure.value
                 else None)
        budget = BUDGETS.get(figure.name)
        rows.append({
            "name": figure.name,
            "value": None if figure.value is None else round(figure.value, 3),
            "unit": figure.unit,
            "floor": None if figure.floor is None else round(figure.floor, 3),
            "ratio": None if ratio is None else round(ratio, 3),
            "scale": scale, "engine": engine,
            "queries_per_request": figure.queries,
            "p50_ms": None if figure.p50 is None else round(figure.p50, 2),
            "p99_ms": None if figure.p99 is None else round(figure.p99, 2),
            "budget": budget.text if budget else None,
            "met": budget.met(figure.value, ratio) if budget else None,
            "note": figure.note})
    return rows


def _cell(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'figure':40} {'value':>9} {'unit':12} {'floor':>8} {'ratio':>6} {'SQL':>5} "
             f"{'p50 ms':>8} {'p99 ms':>8}  budget"]
    for row in rows:
        met = {True: "met", False: "NOT MET", None: ""}[row["met"]]
        budget = f"{row['budget']}: {met}" if row["budget"] else ""
        lines.append(
            f"{row['name']:40} {_cell(row['value']):>9} {row['unit']:12} "
            f"{_cell(row['floor']):>8} {_cell(row['ratio'], 3):>6} "
            f"{_cell(row['queries_per_request'], 0):>5} {_cell(row['p50_ms'], 1):>8} "
            f"{_cell(row['p99_ms'], 1):>8}  {budget}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--database-url", default="",
                        help="an empty PostgreSQL database (default: SQLite, temporary)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread",
                        help="gunicorn's: gthread (as deployed) or sync")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--requests", type=int, default=30, help="per batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--people", type=int, default=20,
                        help="beneficiaries logged in for the pages (at most 20)")
    parser.add_argument("--clients", type=int, default=2, help="client threads per batch")
    parser.add_argument("--certificates", type=int, default=30,
                        help="certificates per bench.certificates.measure() round (0: none)")
    parser.add_argument("--scenarios", default=",".join(scenarios.ALL),
                        help="comma-separated, among: " + ", ".join(scenarios.ALL))
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help="folder for latest.json and <engine>-<scale>.json")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="portail-bench-") as folder:
        work = Path(folder)
        instance = work / "instance"
        instance.mkdir()
        database_url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
        engine = "postgresql" if database_url.startswith("postgres") else "sqlite"
        env = {**os.environ, "PORTAL_DATABASE_URL": database_url,
               "PORTAL_INSTANCE_PATH": str(instance), "PORTAL_SECRET_KEY": "b" * 40,
               "PORTAL_RATELIMIT_STORAGE_URL": "memory://"}
        env.pop("PORTAL_ENV", None)
        log = work / "prepare.log"
        started = time.monotonic()
        try:
            migrate(database_url)
            data = prepare_data(env, args.scale, log)
            print(f"migrated and {data} loaded in {time.monotonic() - started:.0f} s",
                  file=sys.stderr)
        except subprocess.CalledProcessError:
            raise SystemExit(log.read_text(errors="replace")[-3000:]) from None
        cheques = args.requests * args.rounds + 1 + args.clients * 2  # + the warm-up ones
        scene = set_up_scene(database_url, cheques)
        print(f"data: {data} (scale {args.scale}, {engine}) ready in "
              f"{time.monotonic() - started:.0f} s", file=sys.stderr)
        served = {**env, "PORTAL_ENV": "production", "PORTAL_PUBLIC_URL": PUBLIC_URL,
                  "PORTAL_SECRET_KEY": secrets.token_urlsafe(48)}
        server, url = start_server(served, work, args.workers, args.worker_class, args.threads)
        print(f"server up after {time.monotonic() - started:.0f} s", file=sys.stderr)
        try:
            figures = scenarios.run_all(
                url, server.pid, scene, database_url=database_url,
                count=args.requests, rounds=args.rounds, threads=args.clients,
                only=set(args.scenarios.split(",")), people=args.people)
        finally:
            server.terminate()
            server.wait(timeout=60)
    certificates, note = scenarios.certificate_figures(args.certificates, args.rounds)
    figures += certificates
    if note:
        print(note, file=sys.stderr)

    rows = records(figures, scale=args.scale, engine=engine)
    result = {"run": {"commit": _git_commit(),
                      "date": datetime.now(UTC).isoformat(timespec="seconds"),
                      "cores": os.cpu_count(), "engine": engine, "scale": args.scale,
                      "data": data, "workers": args.workers,
                      "worker_model": f"{args.worker_class} ×{args.threads} threads",
                      "requests_per_batch": args.requests, "rounds": args.rounds,
                      "client_threads": args.clients, "scenarios": args.scenarios,
                      "notes": [note] if note else []},
              "records": rows}
    print(table(rows))
    args.output.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1, ensure_ascii=False) + "\n"
    (args.output / "latest.json").write_text(text, encoding="utf-8")
    (args.output / f"{engine}-{args.scale:g}.json").write_text(text, encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
