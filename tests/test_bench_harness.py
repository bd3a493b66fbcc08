"""The speed bench (`make bench`) runs: on generated data (`flask bench-data`), through real
gunicorn processes, it measures pages against the framework's floor and writes its results in
the agreed format.

It checks what the run produced (every page present, its floor measured, queries counted, the
budget judged), never how fast anything was: speed is measured by `make bench`, not asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flask import Flask

from bench import run
from bench.budgets import BUDGETS

PAGES = ("home", "my workshops", "find (a query)", "find (filters)",
         "check-in roster fragment (200)", "check-in roster poll (304)", "check-in page",
         "staff sessions of the week", "programme of the week", "network overview",
         "dashboard (a year)")
EXPORTS = ("export of a year (CSV), memory", "export of a year (XLSX), memory")
ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"name", "value", "unit", "floor", "ratio", "scale", "engine", "queries_per_request",
          "p50_ms", "p99_ms", "budget", "met", "note"}


def test_the_bench_measures_every_page_against_its_floor_and_writes_the_readme_table(
        app: Flask, tmp_path: Path) -> None:
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    result = run.main(["--database-url", database_url, "--scale", "0.002", "--requests", "2",
                       "--rounds", "1",
                       "--certificates", "0", "--scenarios", "pages", "--people", "2",
                       "--output", str(tmp_path)])

    engine = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    written = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert written == json.loads((tmp_path / f"{engine}-0.002.json").read_text("utf-8"))
    assert written == json.loads(json.dumps(result))
    meta = written["run"]
    assert meta["engine"] == engine and meta["data"] == "bench-data"
    assert meta["commit"] and meta["cores"] >= 1 and meta["worker_model"].startswith("gthread")
    records = {record["name"]: record for record in written["records"]}
    assert set(records) == {*PAGES, "dashboard (a year), answered in", *EXPORTS}
    assert records.pop("dashboard (a year), answered in")["unit"] == "ms (p50)"
    for name in EXPORTS:  # the worker's memory while a year's activities download
        export = records.pop(name)
        assert export["unit"] == "MB above resident" and export["value"] is not None, export
        assert export["budget"] == BUDGETS[name].text and isinstance(export["met"], bool)
        assert export["p50_ms"] > 0 and export["queries_per_request"] >= 1
    for name, record in records.items():
        assert set(record) == FIELDS, name
        assert record["unit"] == "CPU ms/request" and record["value"] > 0, name
        assert record["floor"] > 0, f"{name}: the floor was not measured"
        assert record["ratio"] == round(record["floor"] / record["value"], 3) or abs(
            record["ratio"] - record["floor"] / record["value"]) < 0.01, name
        assert record["queries_per_request"] >= 1, f"{name}: no SQL statement counted"
        assert record["budget"] == BUDGETS[name].text and isinstance(record["met"], bool)
    # the unchanged roster is answered from its fingerprint: fewer statements than the roster
    assert (records["check-in roster poll (304)"]["queries_per_request"]
            < records["check-in roster fragment (200)"]["queries_per_request"])

    # the README's speed table is written from the results, between its markers
    readme = tmp_path / "README.md"
    readme.write_text("# Portail\n\n<!-- bench:start -->\nold\n<!-- bench:end -->\nafter\n",
                      encoding="utf-8")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "bench-report"),
                    str(tmp_path / f"{engine}-0.002.json"), "--readme", str(readme)],
                   check=True, capture_output=True)
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text and text.endswith("<!-- bench:end -->\nafter\n")
    assert "| check-in roster poll (304) | CPU ≤ 2× floor |" in text
