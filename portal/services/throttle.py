"""Counting failed logins per account (strict) and per address (loose).

See docs/security.md#login-throttling. An account over its limit is refused, even with the
right password. An address over its limit only changes how further *failures* from it are
answered: beneficiaries and staff of a centre all leave through one public address, so the
mistakes of a few (or an attacker on the same network) must never refuse a right password.
Counters live in the rate-limit storage (memory on one process, Redis for several).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter, RateLimiter


@dataclass
class LoginThrottle:
    strategy: RateLimiter
    per_account: list[RateLimitItem]
    per_address: list[RateLimitItem]

    def account_blocked(self, account_key: str) -> bool:
        """The account failed too often: refused whatever the password."""
        return not all(self.strategy.test(item, "login-account", account_key)
                       for item in self.per_account)

    def address_exhausted(self, address: str) -> bool:
        """The address failed too often: its failures are answered as such, nothing more."""
        return not all(self.strategy.test(item, "login-address", address)
                       for item in self.per_address)

    def record_failure(self, account_key: str, address: str) -> None:
        for item in self.per_account:
            self.strategy.hit(item, "login-account", account_key)
        for item in self.per_address:
            self.strategy.hit(item, "login-address", address)


def login_throttle() -> LoginThrottle:
    """The application's throttle, with the limits currently configured."""
    config = current_app.config
    return LoginThrottle(
        strategy=current_app.extensions["login_throttle_strategy"],
        per_account=parse_many(config["LOGIN_FAILURES_PER_ACCOUNT"]),
        per_address=parse_many(config["LOGIN_FAILURES_PER_ADDRESS"]),
    )


def init_app(app: Flask) -> None:
    # Its own counters in the same storage as the request limits: switching request limits
    # off (RATELIMIT_ENABLED) must never switch off the protection of accounts.
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["login_throttle_strategy"] = MovingWindowRateLimiter(storage)
