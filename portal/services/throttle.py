"""Counting failed logins per account (strict) and per address (loose), SECURITY.md §1.3.

Beneficiaries share the centre's public address: one person's mistakes must not lock
out the whole room, so the per-address limit is far looser than the per-account one.
Counters live in the rate-limit storage (memory on one process, Redis for several).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.strategies import RateLimiter

from portal.extensions import limiter


@dataclass
class LoginThrottle:
    strategy: RateLimiter
    per_account: list[RateLimitItem]
    per_address: list[RateLimitItem]

    def is_blocked(self, account_key: str, address: str) -> bool:
        return not all(
            self.strategy.test(item, "login-account", account_key) for item in self.per_account
        ) or not all(
            self.strategy.test(item, "login-address", address) for item in self.per_address
        )

    def record_failure(self, account_key: str, address: str) -> None:
        for item in self.per_account:
            self.strategy.hit(item, "login-account", account_key)
        for item in self.per_address:
            self.strategy.hit(item, "login-address", address)


def login_throttle() -> LoginThrottle:
    config = current_app.config
    return LoginThrottle(
        strategy=limiter.limiter,
        per_account=parse_many(config["LOGIN_FAILURES_PER_ACCOUNT"]),
        per_address=parse_many(config["LOGIN_FAILURES_PER_ADDRESS"]),
    )
