"""The production-like launcher starts PostgreSQL, Redis and two portal processes, then cleans up.

`scripts/production-like` (README, Deployment) is run with a short check as its command: both
processes answer their health check with the database and the shared rate-limit storage up, the
verification page's limit counts visits to both processes together (so they really share
Redis), and the served database is a migrated PostgreSQL database. When the command ends,
every process is stopped and every temporary folder removed.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = ROOT / "scripts" / "production-like"

CHECK = """
import json, os, sys, urllib.error, urllib.request

def status(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""

urls = os.environ["PORTAL_TEST_LIVE_URLS"].split()
report = {
    "urls": urls,
    "health": [json.loads(status(url + "/healthz")[1]) for url in urls],
    "verifier": [status(urls[n % 2] + "/verifier")[0] for n in range(32)],
    "database": os.environ["PORTAL_TEST_LIVE_DATABASE_URL"],
    "test_database": os.environ["PORTAL_TEST_DATABASE_URL"],
    "redis": os.environ["PORTAL_TEST_REDIS_URL"],
}
with open(sys.argv[1], "w") as out:
    json.dump(report, out)
"""


def _port_open(url: str) -> bool:
    host, port = re.sub(r"^[a-z]+://([^/@]*@)?", "", url).split("/")[0].split(":")
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, int(port))) == 0


def test_the_launcher_serves_two_processes_sharing_redis_and_cleans_up(tmp_path: Path) -> None:
    script, report_path = tmp_path / "check.py", tmp_path / "report.json"
    script.write_text(CHECK)
    done = subprocess.run([str(LAUNCHER), sys.executable, str(script), str(report_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())

    assert len(report["urls"]) == 2 and all(u.startswith("http://127.0.0.1:")
                                            for u in report["urls"])
    assert report["health"] == [{"status": "ok", "database": "ok", "rate_limits": "ok"}] * 2
    assert report["verifier"] == [200] * 30 + [429] * 2
    assert report["database"].startswith("postgresql://portail@127.0.0.1:")
    assert report["database"] != report["test_database"]
    assert report["redis"].startswith("redis://127.0.0.1:")

    # Everything stopped and removed at exit.
    folders = re.findall(r"(/tmp/portail-(?:prodlike|pg)\.[A-Za-z0-9]+)", done.stderr)
    assert len(folders) == 2 and not any(Path(folder).exists() for folder in folders)
    for url in [*report["urls"], report["database"], report["redis"]]:
        assert not _port_open(url), f"{url} still answers"
