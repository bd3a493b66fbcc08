"""The documents the code cites are in the repository, and every cited section exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
CITATION = re.compile(r"\bdocs/([a-z_-]+\.md)(?:#([a-z0-9-]+))?")
ANCHOR = re.compile(r'<a id="([a-z0-9-]+)"></a>')
SOURCES = ("portal", "tests", "templates", "migrations", "scripts", "bench", "docs")


def cited() -> dict[tuple[str, str | None], list[str]]:
    found: dict[tuple[str, str | None], list[str]] = {}
    files = [ROOT / "README.md", ROOT / "Makefile"]
    for folder in SOURCES:
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file()
                  and p.suffix in {".py", ".html", ".md", ".txt", ""}
                  and "__pycache__" not in p.parts]
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in CITATION.finditer(line):
                where = f"{path.relative_to(ROOT)}:{number}"
                found.setdefault((match.group(1), match.group(2)), []).append(where)
    return found


def test_every_cited_document_and_section_exists():
    citations = cited()
    assert ("security.md", "login-throttling") in citations  # the scan finds citations
    missing = []
    for (name, anchor), places in sorted(citations.items(), key=str):
        document = ROOT / "docs" / name
        if not document.exists():
            missing.append(f"docs/{name} (cited by {places[0]})")
        elif anchor and anchor not in ANCHOR.findall(document.read_text()):
            missing.append(f"docs/{name}#{anchor} (cited by {places[0]})")
    assert missing == []


def test_anchors_are_unique_in_each_document():
    for document in (ROOT / "docs").glob("*.md"):
        anchors = ANCHOR.findall(document.read_text())
        assert len(anchors) == len(set(anchors)), document.name


#: the notes the project was started from; what the code relies on is in docs/ now.
OUTSIDE = re.compile(r"\b(?:DESIGN|DOMAIN|SECURITY)\.md\b")


def test_no_citation_points_outside_the_repository():
    places = [f"{path.relative_to(ROOT)}:{number}"
              for folder in SOURCES for path in (ROOT / folder).rglob("*")
              if path.is_file() and path.suffix in {".py", ".html", ".md", ".js", ".css"}
              and "__pycache__" not in path.parts
              for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
              if OUTSIDE.search(line)]
    assert places == []
