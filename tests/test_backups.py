"""Backups are consistent copies, and a restore brings the data back (docs/security.md#backups)."""

from __future__ import annotations

import os
import shutil

import pytest

from portal.extensions import db
from portal.models import Site

PG = bool(os.environ.get("PORTAL_TEST_DATABASE_URL"))


def test_backup_then_restore_brings_the_data_back(app, factory, tmp_path):
    factory.site(code="MER", name="Cyberbase de Méricourt")
    runner = app.test_cli_runner()
    backup_file = tmp_path / "backups" / "portal.dump"
    result = runner.invoke(args=["backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert backup_file.stat().st_size > 0

    factory.site(code="AVI", name="Médiathèque d'Avion")  # after the backup
    if PG:
        if shutil.which("pg_restore") is None:
            pytest.fail("pg_restore is needed to test PostgreSQL restores")
        import subprocess

        from sqlalchemy.engine import make_url

        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        db.session.remove()
        db.engine.dispose()
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner",
                        f"--host={url.host}", f"--port={url.port}",
                        f"--username={url.username}", f"--dbname={url.database}",
                        str(backup_file)], check=True)
    else:
        db.session.remove()
        db.engine.dispose()
        result = runner.invoke(args=["restore", "--yes", str(backup_file)])
        assert result.exit_code == 0, result.output
    codes = set(db.session.scalars(db.select(Site.code)))
    assert codes == {"MER"}
