"""Streaming rows into the database: buffered per table, flushed in foreign-key order in
chunks (SQLAlchemy Core ``insert()`` executemany), one line of progress per phase."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Table, func, select

from portal.extensions import db

CHUNK = 5_000
Row = dict[str, Any]


def _n(value: float) -> str:
    """``1234567`` → ``1 234 567`` (French thousands)."""
    return f"{value:,.0f}".replace(",", "\u202f")


class Writer:
    """Holds at most ``CHUNK`` rows per table; parents are always written before children."""

    def __init__(self, connection: Connection, echo: Callable[[str], None],
                 chunk: int = CHUNK) -> None:
        self.connection = connection
        self.echo = echo
        self.chunk = chunk
        self.order: list[Table] = list(db.metadata.sorted_tables)
        self.buffers: dict[str, list[Row]] = {}
        self.written: dict[str, int] = {}
        self._next_ids: dict[str, int] = {}
        self._phase = ""
        self._phase_rows = 0
        self._phase_started = 0.0
        self._tty = sys.stderr.isatty()

    # -- ids ---------------------------------------------------------------------------------

    def next_id(self, table: Table) -> int:
        """Ids are given here (the database is empty of these rows, or nearly): children can
        point at parents before anything is written."""
        name = table.name
        if name not in self._next_ids:
            current = self.connection.scalar(select(func.max(table.c.id))) or 0
            self._next_ids[name] = current
        self._next_ids[name] += 1
        return self._next_ids[name]

    # -- rows --------------------------------------------------------------------------------

    def add(self, table: Table, row: Row) -> None:
        buffer = self.buffers.setdefault(table.name, [])
        buffer.append(row)
        if len(buffer) >= self.chunk:
            self.flush()

    def add_all(self, table: Table, rows: Iterable[Row]) -> None:
        for row in rows:
            self.add(table, row)

    def flush(self) -> None:
        for table in self.order:
            rows = self.buffers.get(table.name)
            if rows:
                self.connection.execute(table.insert(), rows)
                self.written[table.name] = self.written.get(table.name, 0) + len(rows)
                self._phase_rows += len(rows)
                rows.clear()
        self.connection.commit()
        if self._tty and self._phase:
            elapsed = max(time.perf_counter() - self._phase_started, 1e-6)
            sys.stderr.write(f"\r  {self._phase} : {_n(self._phase_rows)} lignes "
                             f"({_n(self._phase_rows / elapsed)}/s)")
            sys.stderr.flush()

    # -- phases ------------------------------------------------------------------------------

    def phase(self, name: str) -> None:
        """End the current phase (its line: rows and rows per second) and start another."""
        self.end_phase()
        self._phase = name
        self._phase_rows = 0
        self._phase_started = time.perf_counter()

    def end_phase(self) -> None:
        if not self._phase:
            return
        self.flush()
        elapsed = max(time.perf_counter() - self._phase_started, 1e-6)
        if self._tty:
            sys.stderr.write("\r")
        if self._phase_rows:
            self.echo(f"  {self._phase} : {_n(self._phase_rows)} lignes en {elapsed:.1f} s "
                      f"({_n(self._phase_rows / elapsed)} lignes/s)")
        else:
            self.echo(f"  {self._phase} : {elapsed:.1f} s")
        self._phase = ""

    def reset_sequences(self) -> None:
        """PostgreSQL: the id sequences continue after the ids given here."""
        if self.connection.dialect.name != "postgresql":
            return
        tables = {table.name: table for table in self.order}
        for name in self._next_ids:
            highest = select(func.coalesce(func.max(tables[name].c.id), 1)).scalar_subquery()
            self.connection.execute(select(func.setval(
                func.pg_get_serial_sequence(name, "id"), highest)))
        self.connection.commit()

    def gather_statistics(self) -> None:
        """PostgreSQL: the planner's statistics of the tables just filled, as the server's
        autovacuum would gather them after a bulk load (minutes later, possibly after a
        benchmark has started and been planned blind). SQLite keeps no statistics unless
        asked, and the portal never asks: nothing to do there."""
        if self.connection.dialect.name != "postgresql":
            return
        self.connection.exec_driver_sql("ANALYZE")
        self.connection.commit()
