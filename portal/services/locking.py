"""Serialising writers on one row, the same way on SQLite and PostgreSQL.

``SELECT … FOR UPDATE`` is silently ignored by SQLite (docs/security.md#no-count-then-insert),
so a row is locked by a no-op ``UPDATE`` of one of its ordinary columns: PostgreSQL then
holds a row lock until commit, SQLite its single write lock. Reads made after it in the same
transaction see what other writers committed before, so a check-then-write that follows is
safe.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from portal.extensions import db


def lock_row(model: Any, object_id: int, column: str) -> None:
    """Lock ``model`` row ``object_id`` until the transaction ends (``column`` is rewritten
    unchanged: choose one that no unique index covers, so foreign keys are not blocked)."""
    field = getattr(model, column)
    db.session.execute(update(model).where(model.id == object_id).values({field: field}),
                       execution_options={"synchronize_session": False})
