"""The dependency locks: hashed, runtime apart from the test tools, what each command installs."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+) \\$")
TEST_TOOLS = {"pytest", "pytest-playwright", "playwright", "axe-playwright-python", "hypothesis",
              "ruff", "pytest-timeout", "aiosmtpd", "zxing-cpp"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(name: str) -> dict[str, str]:
    """name → version of a lock; each requirement must be pinned and followed by its hashes."""
    lines = (ROOT / "requirements" / name).read_text().splitlines()
    pins: dict[str, str] = {}
    for number, line in enumerate(lines):
        if not line or line.startswith(("#", " ")):
            continue
        match = REQUIREMENT.match(line)
        assert match, f"{name}:{number + 1} is not pinned with its hashes: {line}"
        assert re.match(r"^    --hash=sha256:[0-9a-f]{64}", lines[number + 1]), line
        pins[canonical(match.group(1))] = match.group(2)
    return pins


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(specs: list[str]) -> set[str]:
        return {canonical(re.split(r"[<>=!~\[;\s]", spec, maxsplit=1)[0]) for spec in specs}

    return names(project["dependencies"]), names(project["optional-dependencies"]["test"])


def test_the_runtime_lock_holds_the_runtime_only():
    runtime, test_tools = declared()
    pins = locked("runtime.txt")
    assert runtime <= pins.keys()
    assert not (test_tools | TEST_TOOLS) & pins.keys()
    assert "setuptools" in pins  # builds the portal itself, checked like the rest


def test_the_test_lock_adds_the_test_tools_at_the_same_versions():
    runtime, test_tools = declared()
    runtime_pins, test_pins = locked("runtime.txt"), locked("test.txt")
    assert runtime | test_tools <= test_pins.keys()
    assert {name: test_pins[name] for name in runtime_pins} == runtime_pins


def planned(target: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--dry-run", "--always-make", target], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("target", ["install", "run"])
def test_make_run_installs_the_runtime_only(target):
    plan = planned(target)
    pip = [line for line in plan.splitlines() if "pip install" in line]
    assert any("--require-hashes -r requirements/runtime.txt" in line for line in pip)
    assert all("requirements/test.txt" not in line for line in pip)
    assert all("--require-hashes" in line or "--no-deps" in line for line in pip)
    npm = [line for line in plan.splitlines() if line.startswith("npm ci")]
    assert npm and all("--omit=dev" in line for line in npm)


def test_make_test_adds_the_test_lock_and_the_npm_dev_dependencies():
    plan = planned("install-test")
    assert "--require-hashes -r requirements/test.txt" in plan
    npm = [line for line in plan.splitlines() if line.startswith("npm ci")]
    assert npm and not any("--omit=dev" in line for line in npm)


def _audit_script():
    from importlib.machinery import SourceFileLoader
    from importlib.util import module_from_spec, spec_from_loader

    path = Path(__file__).resolve().parents[1] / "scripts" / "audit-dependencies"
    loader = SourceFileLoader("audit_dependencies", str(path))
    module = module_from_spec(spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_the_dependency_audit_refuses_a_known_vulnerability_unless_accepted_in_date(tmp_path):
    audit = _audit_script()
    allow = tmp_path / "audit-allow.toml"
    allow.write_text('[[allow]]\nid = "GHSA-aaaa"\nreason = "not reachable"\nuntil = 2999-01-01\n'
                     '[[allow]]\nid = "GHSA-old"\nreason = "was fine"\nuntil = 2020-01-01\n'
                     '[[allow]]\nid = "GHSA-noreason"\nuntil = 2999-01-01\n')
    accepted, problems = audit.allowed_ids(allow)
    assert accepted == {"GHSA-aaaa"}
    assert len(problems) == 2 and "GHSA-old" in problems[0] and "reason" in problems[1]
    found = {"checked": True, "packages": 40, "found": [
        {"package": "jinja2", "version": "3.0", "id": "PYSEC-1", "aliases": ["GHSA-aaaa"]},
        {"package": "werkzeug", "version": "2.0", "id": "GHSA-bbbb", "aliases": []}]}
    text, refused = audit.summary(found, accepted)
    assert refused == ["werkzeug 2.0 GHSA-bbbb"]
    assert text == "40 packages, 1 known vulnerability (1 accepted until their review date)"
    text, refused = audit.summary({"checked": False, "detail": "405"}, accepted)
    assert refused == [] and text.startswith("not checked")
