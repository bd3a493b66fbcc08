"""Consistent database copies (docs/security.md#backups): SQLite's online backup API, or pg_dump."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

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


def restore(backup_file: Path, database_url: str) -> None:
    """Replace the database by a backup of this portal (the portal must be stopped).

    The file is checked first and refused, with nothing changed, when it is not a portal
    backup: not a database copy or dump at all, another application's database, a truncated
    or damaged file, or a backup of a newer portal (a schema this version does not know).
    See docs/security.md#backups.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_backup(backup_file)
        _sqlite_copy(backup_file, Path(url.database or ""))
        return
    if url.get_backend_name() == "postgresql":
        _pg_restore(backup_file, url)
        return
    raise ServiceError("restore_unsupported",
                       f"Restauration impossible pour {url.get_backend_name()}.")


def restore_sqlite(backup_file: Path, database_url: str) -> None:
    """Replace a SQLite database by a backup (kept for callers of the first version)."""
    if make_url(database_url).get_backend_name() != "sqlite":
        raise ServiceError("restore_unsupported",
                           "Pour PostgreSQL, utilisez pg_restore (voir le README).")
    restore(backup_file, database_url)


# --- what a portal backup is ----------------------------------------------------------------

#: tables every portal database has had since the first migration.
PORTAL_TABLES = frozenset({"alembic_version", "site", "beneficiary", "workshop_session",
                           "booking", "document", "audit_event"})
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


def _not_a_backup() -> ServiceError:
    return ServiceError("not_a_backup", "Ce fichier n'est pas une sauvegarde du portail : "
                        "rien n'a été changé.")


def _damaged() -> ServiceError:
    return ServiceError("backup_damaged", "Cette sauvegarde est incomplète ou abîmée : "
                        "rien n'a été changé.")


def known_revisions() -> set[str]:
    """The schema versions this portal knows (its migrations)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location",
                           str(Path(__file__).resolve().parents[2] / "migrations"))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def _check_revision(revision: str | None) -> None:
    if not revision:
        raise _not_a_backup()
    if revision not in known_revisions():
        raise ServiceError(
            "backup_newer", f"Cette sauvegarde vient d'une version plus récente du portail "
            f"(schéma {revision[:32]}) : mettez d'abord le portail à jour ; rien n'a été changé.")


def _check_sqlite_backup(path: Path) -> None:
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise _not_a_backup()
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise _damaged() from error
    try:
        if connection.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise _damaged()
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not PORTAL_TABLES <= tables:
            raise _not_a_backup()
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:  # "file is not a database", "malformed"
        raise _damaged() from error
    finally:
        connection.close()
    _check_revision(row[0] if row else None)


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise ServiceError(f"{name}_missing", f"{name} est introuvable sur cette machine.")
    return tool


def _pg_restore(path: Path, url: URL) -> None:
    """pg_restore in one transaction: a failure half-way leaves the database as it was."""
    with path.open("rb") as handle:
        if handle.read(len(PG_DUMP_HEADER)) != PG_DUMP_HEADER:
            raise _not_a_backup()
    pg_restore = _pg_tool("pg_restore")
    listing = subprocess.run([pg_restore, "--list", str(path)],  # noqa: S603
                             capture_output=True, text=True, timeout=600)
    if listing.returncode != 0:
        raise _damaged()
    listed = {line.split()[-2] for line in listing.stdout.splitlines()
              if " TABLE " in line and not line.startswith(";") and len(line.split()) > 2}
    if not PORTAL_TABLES <= listed:
        raise _not_a_backup()
    version = subprocess.run([pg_restore, "--data-only", "--table=alembic_version",  # noqa: S603
                              "--file=-", str(path)], capture_output=True, text=True,
                             timeout=600)
    if version.returncode != 0:
        raise _damaged()
    lines = version.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("COPY ")), None)
    revision = lines[start + 1].strip() if start is not None and start + 1 < len(lines) else ""
    _check_revision(None if revision in ("", "\\.") else revision)
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    done = subprocess.run([pg_restore, "--clean", "--if-exists", "--no-owner",  # noqa: S603
                           "--single-transaction", "--exit-on-error",
                           f"--host={url.host or 'localhost'}", f"--port={url.port or 5432}",
                           f"--username={url.username or ''}", f"--dbname={url.database or ''}",
                           str(path)], capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1][:300] if done.stderr.strip() else ""
        raise ServiceError("restore_failed",
                           f"La restauration a échoué : rien n'a été changé. {detail}".strip())


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
