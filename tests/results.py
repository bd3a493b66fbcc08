"""A pytest plugin: the outcome of every test module, written as JSON at the end of a run.

``pytest --results-file build/test-results/sqlite.json`` writes, per test module, how many tests
passed, failed, were skipped or errored, with the engine, the commit and the time of the run.
``scripts/test-report`` turns one file per engine into the README's "what we test" table.
Under pytest-xdist the workers' reports reach the controller, which alone writes the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--results-file", default=None,
                     help="write each test module's outcomes to this JSON file")


class Results:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.time()
        self.outcomes: dict[str, str] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A test failed if any phase failed; an error in set-up or tear-down is an error.
        previous = self.outcomes.get(report.nodeid)
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
        elif report.skipped:
            outcome = "skipped"
        elif report.when == "call":
            outcome = "passed"
        else:
            return
        if previous in {"failed", "error"}:
            return
        self.outcomes[report.nodeid] = outcome

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        modules: dict[str, Counter[str]] = defaultdict(Counter)
        for nodeid, outcome in self.outcomes.items():
            modules[nodeid.split("::", 1)[0]][outcome] += 1
        engine = "postgresql" if os.environ.get("PORTAL_TEST_DATABASE_URL") else "sqlite"
        data = {
            "engine": engine,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_seconds": round(time.time() - self.started),
            "commit": _commit(),
            "exit_status": int(exitstatus),
            "modules": {name: dict(counts) for name, counts in sorted(modules.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--results-file")
    # Only the controller writes: xdist workers have ``workerinput``.
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(Results(Path(path)), "portal-results")
