"""The README's "what we test" table covers every test module, once, and is made from a run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.catalogue import AREAS

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_module_is_in_exactly_one_area():
    on_disk = {str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("test_*.py")}
    listed = Counter(module for area in AREAS for module in area.modules)
    assert not [m for m, n in listed.items() if n > 1], "a module is in two areas"
    assert sorted(on_disk - set(listed)) == [], "add these modules to tests/catalogue.py"
    assert sorted(set(listed) - on_disk) == [], "tests/catalogue.py lists modules that are gone"


def test_the_report_is_made_from_the_results_of_runs(tmp_path):
    module = AREAS[0].modules[0]
    runs = []
    for engine, counts in (("sqlite", {"passed": 3}), ("postgresql", {"passed": 2, "failed": 1})):
        path = tmp_path / f"{engine}.json"
        path.write_text(json.dumps({
            "engine": engine, "finished_at": "2026-12-02T10:00:00+00:00", "commit": "abc1234",
            "duration_seconds": 60, "exit_status": 0, "modules": {module: counts}}))
        runs.append(str(path))
    readme = tmp_path / "README.md"
    readme.write_text("Before\n<!-- test-report:start -->\nOLD-TABLE\n"
                      "<!-- test-report:end -->\nAfter\n")
    detail = tmp_path / "test-report.md"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "test-report"), *runs,
                    "--readme", str(readme), "--detail", str(detail)], check=True)
    text = readme.read_text()
    assert text.startswith("Before\n") and text.endswith("After\n") and "OLD-TABLE" not in text
    row = next(line for line in text.splitlines() if line.startswith(f"| {AREAS[0].name} |"))
    assert "3 passed on SQLite" in row and "2 passed, 1 failed on PostgreSQL" in row
    # Areas with no module in the run say so rather than claiming a result.
    assert f"| {AREAS[1].name} |" in text and "not run" in text
    assert module in detail.read_text()
