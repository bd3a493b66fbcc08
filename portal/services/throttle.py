"""Counting failed logins per account (strict) and per address (loose).

See docs/security.md#login-throttling. An account over its limit is refused, even with the
right password. An address over its limit only changes how further *failures* from it are
answered: beneficiaries and staff of a centre all leave through one public address, so the
mistakes of a few (or an attacker on the same network) must never refuse a right password.

Failures per account live in the database (``login_failure``): the lock-out holds across
processes and hosts, with or without Redis, and cannot fail open. Failures per address live in
the rate-limit storage (memory on one process, Redis for several) and fail open: when that
storage does not answer, a warning is logged and the address is treated as not exhausted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter, RateLimiter
from sqlalchemy import and_, case, delete, func, select

from portal.clock import now
from portal.extensions import db
from portal.models.login_failures import LoginFailure

log = logging.getLogger(__name__)

#: an account key longer than this is cut (no real identifier is that long).
KEY_LENGTH = 300


def _window(item: RateLimitItem) -> timedelta:
    return timedelta(seconds=item.get_expiry())


@dataclass
class LoginThrottle:
    strategy: RateLimiter
    per_account: list[RateLimitItem]
    per_address: list[RateLimitItem]

    def account_blocked(self, account_key: str) -> bool:
        """The account failed too often: refused whatever the password."""
        if not self.per_account:
            return False
        at = now()
        key = account_key[:KEY_LENGTH]
        counts = db.session.execute(select(*(
            func.coalesce(func.sum(case((LoginFailure.failed_at > at - _window(item), 1),
                                        else_=0)), 0)
            for item in self.per_account
        )).where(LoginFailure.account_key == key,
                 LoginFailure.failed_at > at - self.longest_window())).one()
        return any(count >= item.amount for count, item in zip(counts, self.per_account,
                                                                   strict=True))

    def address_exhausted(self, address: str) -> bool:
        """The address failed too often: its failures are answered as such, nothing more."""
        try:
            return not all(self.strategy.test(item, "login-address", address)
                           for item in self.per_address)
        except Exception:  # the storage's own errors (Redis down): fail open
            log.warning("rate-limit storage unavailable: per-address login counter skipped")
            return False

    def record_failure(self, account_key: str, address: str) -> None:
        """Count a failure (in the caller's unit of work for the account) and forget the
        account's failures older than every window."""
        at = now()
        key = account_key[:KEY_LENGTH]
        db.session.execute(delete(LoginFailure).where(and_(
            LoginFailure.account_key == key,
            LoginFailure.failed_at <= at - self.longest_window())))
        db.session.add(LoginFailure(account_key=key, failed_at=at))
        try:
            for item in self.per_address:
                self.strategy.hit(item, "login-address", address)
        except Exception:  # the storage's own errors (Redis down): fail open
            log.warning("rate-limit storage unavailable: per-address login counter skipped")

    def longest_window(self) -> timedelta:
        return max((_window(item) for item in self.per_account), default=timedelta(0))


def login_throttle() -> LoginThrottle:
    """The application's throttle, with the limits currently configured."""
    config = current_app.config
    return LoginThrottle(
        strategy=current_app.extensions["login_throttle_strategy"],
        per_account=parse_many(config["LOGIN_FAILURES_PER_ACCOUNT"]),
        per_address=parse_many(config["LOGIN_FAILURES_PER_ADDRESS"]),
    )


def purge_old_failures(before: datetime | None = None) -> int:
    """Delete the failed logins older than every configured window (housekeeping). Commits."""
    cutoff = before or now() - login_throttle().longest_window()
    result = db.session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= cutoff))
    db.session.commit()
    return result.rowcount or 0


def storage_state() -> str:
    """``memory`` (one process only), ``ok`` (shared storage answers) or ``unavailable``."""
    storage: Storage = current_app.extensions["login_throttle_strategy"].storage
    if current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        return "memory"
    try:
        return "ok" if storage.check() else "unavailable"
    except Exception:  # the storage's own errors
        return "unavailable"


def init_app(app: Flask) -> None:
    # Its own counters in the same storage as the request limits: switching request limits
    # off (RATELIMIT_ENABLED) must never switch off the protection of addresses.
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["login_throttle_strategy"] = MovingWindowRateLimiter(storage)
