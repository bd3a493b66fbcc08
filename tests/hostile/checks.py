"""What must hold after every request of the sweep: the database's state, its invariants,
and no error raised or logged on the way."""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, got_request_exception
from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection
from werkzeug.test import TestResponse

from portal.extensions import db

#: Not compared: login sessions move with every login and logout, a refused login is counted
#: against its account (the lock-out), and the audit trail only grows (its growth is checked:
#: a state change writes an audit event).
UNCOMPARED = ("login_session", "login_failure", "audit_event")

Rows = dict[str, list[tuple[Any, ...]]]


def tables() -> list[Table]:
    return list(db.metadata.sorted_tables)


def _row(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # PDFs and images are compared by their digest: same answer, far less to compare and print.
    return tuple(f"sha256:{hashlib.sha256(v).hexdigest()[:16]}" if isinstance(v, bytes | memoryview)
                 else v for v in values)


def read_rows(connection: Connection, table: Table) -> list[tuple[Any, ...]]:
    order = list(table.primary_key.columns) or list(table.columns)
    return [_row(tuple(row)) for row in connection.execute(select(table).order_by(*order))]


def state(*, including: tuple[str, ...] = ()) -> Rows:
    """Every row of every table but the uncompared ones (unless named in ``including``)."""
    with db.engine.connect() as connection:
        return {table.name: read_rows(connection, table) for table in tables()
                if table.name not in UNCOMPARED or table.name in including}


def diff(before: Rows, after: Rows, limit: int = 6) -> str:
    """The rows added, removed or changed, by table: what a failed check prints."""
    lines: list[str] = []
    for name in before.keys() | after.keys():
        old = {row[0]: row for row in before.get(name, [])}
        new = {row[0]: row for row in after.get(name, [])}
        if old == new:
            continue
        changes = []
        for key in sorted(old.keys() | new.keys(), key=repr):
            if old.get(key) != new.get(key):
                changes.append(f"    {name} #{key}: {_short(old.get(key))}"
                               f" -> {_short(new.get(key))}")
        lines.append(f"  {name}: {len(changes)} row(s) differ")
        lines.extend(changes[:limit])
    return "\n".join(lines)


def _short(row: tuple[Any, ...] | None) -> str:
    text_ = repr(row)
    return text_ if len(text_) < 300 else text_[:297] + "..."


class Writes:
    """Whether anything was committed since a mark: one cheap query instead of every table.

    SQLite: ``PRAGMA data_version`` on a connection of our own changes when another one
    commits. PostgreSQL: the WAL insert position moves with every write (it may move for
    other reasons too; then the tables are compared, which is merely slower).
    """

    def __init__(self, database_url: str) -> None:
        self.sqlite = (sqlite3.connect(database_url.removeprefix("sqlite:///"),
                                       isolation_level=None)
                       if database_url.startswith("sqlite:") else None)

    def mark(self) -> object:
        if self.sqlite is not None:
            return self.sqlite.execute("PRAGMA data_version").fetchone()[0]
        with db.engine.connect() as connection:
            return connection.scalar(text("SELECT pg_current_wal_insert_lsn()"))

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()


def audit_count() -> int:
    with db.engine.connect() as connection:
        return int(connection.scalar(text("SELECT count(*) FROM audit_event")) or 0)


# --- invariants ---------------------------------------------------------------------------

_INVARIANTS: dict[str, str] = {
    "seats_taken is the number of booked and present people of the session": """
        SELECT s.id, s.seats_taken, count(b.id) FROM workshop_session s
        LEFT JOIN booking b ON b.session_id = s.id AND b.status IN ('booked', 'present')
        GROUP BY s.id, s.seats_taken HAVING s.seats_taken <> count(b.id)""",
    "seats_taken stays within the capacity": """
        SELECT id, seats_taken, capacity FROM workshop_session
        WHERE seats_taken < 0 OR seats_taken > capacity""",
    "a waiting-list position iff waitlisted": """
        SELECT id, status, waitlist_position FROM booking
        WHERE (status = 'waitlisted') <> (waitlist_position IS NOT NULL)""",
    "no two people share a waiting-list position in a session": """
        SELECT session_id, waitlist_position, count(*) FROM booking
        WHERE status = 'waitlisted' GROUP BY session_id, waitlist_position HAVING count(*) > 1""",
    "checked in (time) iff present": """
        SELECT id, status, checked_in_at FROM booking
        WHERE (status = 'present') <> (checked_in_at IS NOT NULL)""",
    "a closed or cancelled session has nobody booked or waiting": """
        SELECT s.id, s.status, b.id, b.status FROM workshop_session s
        JOIN booking b ON b.session_id = s.id
        WHERE s.status IN ('closed', 'cancelled') AND b.status IN ('booked', 'waitlisted')""",
    "a closed session says when it was closed": """
        SELECT id FROM workshop_session WHERE status = 'closed' AND closed_at IS NULL""",
    "never more cheques taken for a booking than its workshop costs": """
        SELECT b.id, count(c.id), w.price_cheques FROM booking b
        JOIN workshop_session s ON s.id = b.session_id JOIN workshop w ON w.id = s.workshop_id
        JOIN cheque c ON c.booking_id = b.id AND c.redeemed_at IS NOT NULL
        GROUP BY b.id, w.price_cheques HAVING count(c.id) > w.price_cheques""",
    "a redeemed cheque names its site and pays exactly one service": """
        SELECT id FROM cheque WHERE redeemed_at IS NOT NULL AND (site_id IS NULL
            OR (booking_id IS NULL) = (accompaniment_id IS NULL))""",
    "a cheque's receipt is a receipt": """
        SELECT c.id, d.kind FROM cheque c JOIN document d ON d.id = c.receipt_id
        WHERE d.kind <> 'receipt'""",
    "document numbers have no gap (1..n per site, kind and year)": """
        SELECT site_id, kind, year, count(*), min(sequence), max(sequence) FROM document
        GROUP BY site_id, kind, year HAVING min(sequence) <> 1 OR max(sequence) <> count(*)""",
    "each series' counter is its last number": """
        SELECT c.site_id, c.kind, c.year, c.last_value, max(d.sequence) FROM document_counter c
        LEFT JOIN document d ON d.site_id = c.site_id AND d.kind = c.kind AND d.year = c.year
        GROUP BY c.site_id, c.kind, c.year, c.last_value
        HAVING c.last_value <> coalesce(max(d.sequence), 0)""",
    "a revoked document has a reason": """
        SELECT id FROM document WHERE revoked_at IS NOT NULL AND length(revoked_reason) = 0""",
}


def broken_invariants() -> list[str]:
    """The invariants the database breaks now, each with a few offending rows."""
    broken = []
    with db.engine.connect() as connection:
        for name, query in _INVARIANTS.items():
            rows = connection.execute(text(query)).all()
            if rows:
                broken.append(f"{name}: {[tuple(row) for row in rows[:5]]}")
    return broken


def row_count(table: Table) -> int:
    with db.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


# --- what the answer says -------------------------------------------------------------------

_ERROR_SHOWN = re.compile(r'class="(?:flash flash-error|result result-error)"')


def flashed(app: Flask, response: TestResponse) -> list[tuple[str, str]]:
    """The messages the answer put in the session cookie for the next page."""
    name = app.config["SESSION_COOKIE_NAME"]
    for header in response.headers.getlist("Set-Cookie"):
        cookie, _, _ = header.partition(";")
        key, _, value = cookie.partition("=")
        if key == name and value:
            serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
            data = serializer.loads(value.strip('"'))
            return [tuple(item) for item in data.get("_flashes", [])]
    return []


def refusal(app: Flask, response: TestResponse) -> str | None:
    """Why the answer is a refusal (nothing may have changed), or None for a success."""
    if 400 <= response.status_code < 500:
        return f"status {response.status_code}"
    if any(category == "error" for category, _message in flashed(app, response)):
        return "an error message flashed"
    if response.mimetype == "text/html" and _ERROR_SHOWN.search(response.get_data(as_text=True)):
        return "an error message shown"
    return None


# --- errors raised or logged ----------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Errors:
    """Exceptions a request raised (``got_request_exception``) and errors it logged, even
    those the portal caught and turned into a polite answer."""

    def __init__(self) -> None:
        self.raised: list[BaseException] = []
        self.logged = _Collect()

    def _on_exception(self, _sender: Flask, exception: BaseException, **_extra: Any) -> None:
        self.raised.append(exception)

    @contextmanager
    def watching(self, app: Flask) -> Iterator[Errors]:
        got_request_exception.connect(self._on_exception, app)
        loggers = [logging.getLogger(name) for name in ("portal", "werkzeug", "flask_wtf")]
        for logger in loggers:
            logger.addHandler(self.logged)
        try:
            yield self
        finally:
            got_request_exception.disconnect(self._on_exception, app)
            for logger in loggers:
                logger.removeHandler(self.logged)

    def clear(self) -> None:
        self.raised.clear()
        self.logged.records.clear()

    def logged_errors(self) -> list[str]:
        lines = []
        for record in self.logged.records:
            line = f"{record.name}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                line += f" ({type(error).__name__}: {error})"
            lines.append(line)
        return lines
