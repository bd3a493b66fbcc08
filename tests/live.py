"""Helpers for tests that run the portal in real gunicorn processes and talk HTTP to them."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, SECRET

GUNICORN = Path(sys.executable).with_name("gunicorn")

Answer = tuple[int, http.client.HTTPMessage, str]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def portal_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a portal process on the test's database."""
    return {**os.environ, "PORTAL_DATABASE_URL": database_url, "PORTAL_SECRET_KEY": SECRET,
            "PORTAL_INSTANCE_PATH": str(instance), "PORTAL_RATELIMIT_STORAGE_URL": "memory://",
            **extra}


@contextmanager
def gunicorn_processes(env: dict[str, str], log_path: Path, count: int = 2,
                       threads: int = 16, workers: int = 1) -> Iterator[list[str]]:
    """``count`` gunicorn processes (``workers`` worker processes of ``threads`` threads
    each) on free loopback ports; their URLs."""
    servers: list[subprocess.Popen[bytes]] = []
    urls = []
    log = log_path.open("ab")
    try:
        for _ in range(count):
            port = free_port()
            servers.append(subprocess.Popen(
                [str(GUNICORN), "--workers", str(workers), "--threads", str(threads), "--bind",
                 f"127.0.0.1:{port}", "--log-level", "warning", "portal:create_app()"],
                env=env, stdout=subprocess.DEVNULL, stderr=log))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_until_up(url, log_path)
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)
        log.close()


def call(url: str, method: str, path: str, *, data: dict[str, str] | None = None,
         headers: dict[str, str] | None = None, timeout: float = 60) -> Answer:
    """One HTTP exchange, redirects not followed."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        body = urllib.parse.urlencode(data) if data is not None else None
        sent = {**(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read().decode(errors="replace")
    finally:
        connection.close()


def wait_until_up(url: str, log: Path) -> None:
    for _ in range(150):
        try:
            if call(url, "GET", "/healthz", timeout=5)[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not start: {log.read_text(errors='replace')[-2000:]}")


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Visitor:
    """A browser's cookies: anonymous, or logged in once (staff or beneficiary). Threads may
    share a logged-in visitor: its posts leave the cookie as it is."""

    def __init__(self) -> None:
        self.cookies: SimpleCookie = SimpleCookie()
        self.csrf = ""

    @classmethod
    def logged_in(cls, url: str, identifier: str, page: str,
                  password: str = PASSWORD) -> Visitor:
        visitor = cls()
        status, _headers, _body = visitor.log_in(url, identifier, password)
        assert status == 303, f"{identifier} could not log in"
        status, headers, body = visitor.send(url, "GET", page)
        assert status == 200, f"{identifier} cannot open {page}: {status} {headers['Location']}"
        visitor.csrf = csrf(body)
        return visitor

    def log_in(self, url: str, identifier: str, password: str) -> Answer:
        form = self.send(url, "GET", "/connexion")[2]
        return self.send(url, "POST", "/connexion", {
            "csrf_token": csrf(form), "identifier": identifier, "password": password})

    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())}

    def send(self, url: str, method: str, path: str, data: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> Answer:
        """A request as a browser sends it, keeping the cookies it is given."""
        answer = call(url, method, path, data=data,
                      headers={**self.cookie_header(), **(headers or {})})
        for value in answer[1].get_all("Set-Cookie") or []:
            self.cookies.load(value)
        return answer

    def post(self, url: str, path: str, data: dict[str, str]) -> Answer:
        """An action as htmx sends it (the cookie is not updated: threads share it)."""
        return call(url, "POST", path, data=data,
                    headers={**self.cookie_header(), "HX-Request": "true",
                             "X-CSRFToken": self.csrf})


REDIS_SERVER = "/usr/bin/redis-server"


@contextmanager
def redis_server(folder: Path, port: int | None = None) -> Iterator[tuple[str, int]]:
    """A real redis-server on a loopback port (free, or the one given), nothing saved to disk;
    its URL and port. Stopped at the end."""
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0", port
    finally:
        server.terminate()
        server.wait(timeout=20)
