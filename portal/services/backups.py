"""Consistent database copies (docs/security.md#backups): SQLite's online backup API, or pg_dump."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.services.errors import ServiceError


def backup(database_url: str, destination: Path) -> Path:
    """Write a consistent copy of the database to ``destination`` while the portal runs."""
    url = make_url(database_url)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(Path(url.database or ""), destination)
        return destination
    if url.get_backend_name() == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise ServiceError("pg_dump_missing", "pg_dump est introuvable sur cette machine.")
        env = {**os.environ, "PGPASSWORD": url.password or ""}
        command = [pg_dump, "--format=custom", "--no-owner", f"--file={destination}",
                   f"--host={url.host or 'localhost'}", f"--port={url.port or 5432}",
                   f"--username={url.username or ''}", url.database or ""]
        subprocess.run(command, check=True, env=env, timeout=3600)  # noqa: S603
        return destination
    raise ServiceError("backup_unsupported",
                       f"Sauvegarde impossible pour {url.get_backend_name()}.")


def restore_sqlite(backup_file: Path, database_url: str) -> None:
    """Replace a SQLite database by a backup (the portal must be stopped)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise ServiceError("restore_unsupported",
                           "Pour PostgreSQL, utilisez pg_restore (voir le README).")
    _sqlite_copy(backup_file, Path(url.database or ""))


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """SQLite's online backup API: a consistent copy even while others write."""
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
    finally:
        source.close()
        target.close()
