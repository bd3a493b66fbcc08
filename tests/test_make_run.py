"""`make run` on a port that is taken says so plainly, before installing or serving anything."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def clean_environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PORT", "PORTAL_PUBLIC_URL", "MAKEFLAGS", "MAKELEVEL")}
    env["PORTAL_INSTANCE_PATH"] = str(tmp_path / "instance")  # never the checkout's own data
    return env


def test_make_run_on_a_busy_port_stops_first_and_says_how_to_choose_another(busy_port,
                                                                            tmp_path):
    done = subprocess.run(["make", "--no-print-directory", "run", f"PORT={busy_port}"],
                          cwd=ROOT, env=clean_environment(tmp_path), capture_output=True,
                          text=True, timeout=300, check=False)
    said = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"Le port {busy_port} est déjà utilisé" in said
    assert "make run" in said and "PORT=" in said
    # Before anything else: no banner, no database, no demo.
    assert "Portail :" not in said and "Démonstration" not in said
    assert not (tmp_path / "instance").exists()


def check_port(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "check-port"), *arguments],
                          capture_output=True, text=True, check=False)


def test_the_check_suggests_a_free_port(busy_port):
    done = check_port(str(busy_port))
    assert done.returncode == 1
    suggested = int(done.stderr.split("PORT=", 1)[1].split()[0])
    assert suggested != busy_port
    assert check_port(str(suggested)).returncode == 0


@pytest.mark.parametrize("port", ["http", "0", "70000", ""])
def test_the_check_refuses_a_port_that_is_not_one(port):
    done = check_port(port)
    assert done.returncode == 2
    assert "PORT" in done.stderr and "1 et 65535" in done.stderr
