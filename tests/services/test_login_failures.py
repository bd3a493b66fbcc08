"""Account lock-outs are counted in the database, over each configured window, and cleaned up.

Failed logins per account are rows of `login_failure` (docs/security.md#login-throttling): with
limits of 2 in fifteen minutes and 4 in a day (5 and 10 by default, fewer here to save password
hashing time), reaching either refuses the account even with the right password; the
refusal ends when the window has passed; rows older than the longest window are deleted by the
next failure of the account and by the `purge-sessions` housekeeping command.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import clock
from portal.extensions import db
from portal.models import LoginFailure
from portal.services import accounts
from portal.services.errors import AuthenticationFailed
from tests.conftest import PASSWORD

WRONG = "pas le bon mot de passe"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_FAILURES_PER_ACCOUNT": "2 per 15 minutes; 4 per day"}


def _try(login_id: str, password: str) -> str:
    try:
        accounts.authenticate(login_id, password, ip="203.0.113.7")
    except AuthenticationFailed as error:
        db.session.rollback()
        return error.code
    db.session.rollback()  # a success is not kept: only the counting matters here
    return "ok"


def _fail(login_id: str, times: int) -> None:
    for _ in range(times):
        assert _try(login_id, WRONG) == "invalid_credentials"


def _rows() -> int:
    return db.session.scalar(db.select(db.func.count(LoginFailure.id)))


def test_lock_outs_follow_each_window_and_old_failures_are_purged(app, factory, frozen_now):
    person, other = factory.beneficiary(), factory.beneficiary()
    _fail(person.login_id, 2)
    assert _try(person.login_id, PASSWORD) == "too_many_attempts"
    assert _try(other.login_id, PASSWORD) == "ok"  # other accounts are not affected

    clock.freeze(frozen_now + timedelta(minutes=16))  # the 15-minute window has passed
    assert _try(person.login_id, PASSWORD) == "ok"
    _fail(person.login_id, 1)
    clock.freeze(frozen_now + timedelta(minutes=32))
    _fail(person.login_id, 1)  # 4 in the day, 1 in the last 15 minutes
    assert _try(person.login_id, PASSWORD) == "too_many_attempts"

    clock.freeze(frozen_now + timedelta(days=1, minutes=1))
    assert _try(person.login_id, PASSWORD) == "ok"
    _fail(other.login_id, 1)
    assert _rows() == 4 + 1
    _fail(person.login_id, 1)  # the account's own failures past every window go
    assert _rows() == 2 + 1 + 1

    clock.freeze(frozen_now + timedelta(days=2, minutes=1))
    result = app.test_cli_runner().invoke(args=["purge-sessions"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _rows() == 0

    for identifier in ["ZZZZZZ", "x" * 400 + "@example.org"]:  # unknown, overlong: counted too
        _fail(identifier, 2)
        assert _try(identifier, WRONG) == "too_many_attempts"
