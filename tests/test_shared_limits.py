"""Two application processes share their limits through a real Redis, and logins survive its loss.

A real redis-server is started for the test, and two gunicorn processes use it for their
rate-limit counters (docs/security.md#login-throttling). Failed logins spread over both
processes lock the account: the lock-out lives in the database, so it holds with Redis and
without it. The public verification page's limit (30 a minute) counts the visits to both
processes together. When Redis stops, people can still log in, request limits let requests
through (fail open), lock-outs still apply, and the health check says "degraded" with the
rate-limit storage "unavailable"; when Redis is back, the counters work again.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask

from tests.conftest import PASSWORD, Factory
from tests.live import Visitor, call, free_port, gunicorn_processes, portal_env, redis_server

WRONG = "pas le bon mot de passe"


def _health(url: str) -> tuple[int, dict[str, str]]:
    status, _headers, body = call(url, "GET", "/healthz")
    return status, json.loads(body)


def _visit_verification_page(urls: list[str], times: int) -> list[int]:
    """Visits to the public verification page, alternating between the processes."""
    return [call(urls[n % 2], "GET", "/verifier")[0] for n in range(times)]


def _fail_then_try_the_right_password(urls: list[str], login_id: str) -> tuple[int, str]:
    """Five wrong passwords spread over both processes, then the right one."""
    for n in range(5):
        status = Visitor().log_in(urls[n % 2], login_id, WRONG)[0]
        assert status == 401, f"failure {n} answered {status}"
    status, _headers, body = Visitor().log_in(urls[0], login_id, PASSWORD)
    return status, body


def test_limits_are_shared_through_redis_and_logins_survive_its_loss(
        app: Flask, factory: Factory, tmp_path: Path) -> None:
    locked_with_redis, able, locked_without_redis = (factory.beneficiary().login_id
                                                     for _ in range(3))
    port = free_port()
    env = portal_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path,
                     PORTAL_RATELIMIT_STORAGE_URL=f"redis://127.0.0.1:{port}/0"
                                                  "?socket_connect_timeout=0.5&socket_timeout=0.5")
    with gunicorn_processes(env, tmp_path / "gunicorn.log") as urls:
        with redis_server(tmp_path / "redis", port):
            for url in urls:
                assert _health(url) == (200, {"status": "ok", "database": "ok",
                                              "rate_limits": "ok"})
            # 30 visits a minute from one address, wherever they land; then refused.
            assert _visit_verification_page(urls, 30) == [200] * 30
            assert _visit_verification_page(urls, 2) == [429, 429]
            status, body = _fail_then_try_the_right_password(urls, locked_with_redis)
            assert status == 429 and "pour ce compte" in body

        # Redis stopped: still up for a load balancer, but said to be degraded.
        for url in urls:
            assert _health(url) == (200, {"status": "degraded", "database": "ok",
                                          "rate_limits": "unavailable"})
        # Request limits fail open: the page refused a moment ago answers again.
        assert _visit_verification_page(urls, 4) == [200] * 4
        # Logins work; failures are answered as such, not as errors.
        assert Visitor().log_in(urls[1], able, WRONG)[0] == 401
        assert Visitor().log_in(urls[0], able, PASSWORD)[0] == 303
        # Lock-outs live in the database: the earlier one holds, a new one happens.
        status, _headers, body = Visitor().log_in(urls[1], locked_with_redis, PASSWORD)
        assert status == 429 and "pour ce compte" in body
        status, body = _fail_then_try_the_right_password(urls, locked_without_redis)
        assert status == 429 and "pour ce compte" in body

        # Redis back (empty): the processes use it again without a restart.
        with redis_server(tmp_path / "redis", port):
            for url in urls:
                assert _health(url)[1]["rate_limits"] == "ok"
            assert _visit_verification_page(urls, 30) == [200] * 30
            assert _visit_verification_page(urls, 2) == [429, 429]
