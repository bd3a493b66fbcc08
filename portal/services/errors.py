"""Coded errors raised by services before anything is committed.

A code is stable (tests and htmx handlers match on it); the message is plain French,
translated on display, and safe to show to the person who caused it.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A broken rule. ``code`` is stable; ``message`` is for people."""

    code: str = "service_error"
    status: int = 422

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details


class ValidationFailed(ServiceError):
    """Input that cannot be accepted; ``details['fields']`` maps field names to messages."""


class NotAllowed(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class AuthenticationFailed(ServiceError):
    status = 401


class TooManyAttempts(ServiceError):
    status = 429
