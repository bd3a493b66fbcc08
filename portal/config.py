"""Configuration: defaults here, then ``instance/config.py``, then ``PORTAL_*`` variables.

The explicit ``config`` mapping given to ``create_app`` (tests) wins over everything.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask


class ConfigurationError(RuntimeError):
    """The application refuses to start with an unsafe or incomplete configuration."""


DEFAULTS: dict[str, Any] = {
    "ENV_NAME": "development",  # "production" turns on every production safeguard (ENVIRONMENTS)
    "DEBUG": False,
    "TESTING": False,
    "SQLALCHEMY_DATABASE_URI": None,  # None: instance/portal.sqlite3
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SQLALCHEMY_RECORD_QUERIES": False,
    # SQLite: how long a request waits for another writer's lock before the person is told the
    # portal is busy (a 503, docs/security.md#database-unavailable).
    "SQLITE_BUSY_TIMEOUT_MS": 15000,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Cookies: no "remember me"; the session cookie lives as long as the browser tab.
    "SESSION_COOKIE_NAME": "portail_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PATH": "/",
    "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
    # Login sessions (server-side records, see portal.sessions).
    "LOGIN_ABSOLUTE_LIFETIME": timedelta(hours=12),
    "STAFF_IDLE_TIMEOUT": timedelta(hours=4),
    "BENEFICIARY_IDLE_TIMEOUT": timedelta(minutes=20),  # a site's own setting overrides it
    "IDLE_WARNING_BEFORE": timedelta(minutes=2),
    "LOGIN_SESSION_TOUCH_INTERVAL": timedelta(seconds=60),
    "FIRST_LOGIN_CODE_VALIDITY": timedelta(days=30),
    # CSRF: a check-in screen stays open all afternoon; tokens live as long as a login session.
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    "WTF_CSRF_SSL_STRICT": True,
    # Failed logins: per account strictly, per address loosely (a whole room shares one address).
    "LOGIN_FAILURES_PER_ACCOUNT": "5 per 15 minutes; 10 per day",
    "LOGIN_FAILURES_PER_ADDRESS": "100 per hour",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": False,
    "RATELIMIT_STRATEGY": "moving-window",
    # Redis down: request limits fail open (a logged error, not a 500); account lock-outs live
    # in the database and still apply (docs/security.md#login-throttling).
    "RATELIMIT_SWALLOW_ERRORS": True,
    # Passwords.
    "PASSWORD_MIN_LENGTH": 12,
    "PASSWORD_MAX_LENGTH": 256,
    # i18n.
    "LANGUAGES": ("fr", "en"),
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "PREFERRED_URL_SCHEME": "http",
    "HSTS_SECONDS": 31536000,
    "TRUST_PROXY_HOPS": 0,  # number of reverse proxies whose X-Forwarded-* headers are trusted
    "PORTAL_NAME": "Portail",
    # The public address every absolute link is built from (portal.public_urls): QR codes,
    # verification links, login cards, calendar feeds. `make run` sets it to the port it serves;
    # production refuses to start without a real HTTPS address.
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # Messages to beneficiaries: queued in the outbox, sent by `flask send-messages` (cron).
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,  # STARTTLS on MAIL_PORT (usually 587)
    "MAIL_USE_SSL": False,  # TLS from the start (usually port 465)
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "Portail <portail@localhost>",
    "MAIL_TIMEOUT": 10,  # seconds
    "SMS_BACKEND": "portal.messaging.LogSmsBackend",  # dotted path of a class
    "REMINDER_BEFORE": timedelta(hours=48),  # `flask send-reminders` reminds this long before
}

#: the longest wait for an SMTP answer (seconds): far below the 5-minute claim of a message
#: (docs/architecture.md#delivery-guarantees).
MAIL_TIMEOUT_LIMIT = 60

#: PORTAL_* variables and the setting each one fills (with its type).
ENVIRONMENT: dict[str, tuple[str, type]] = {
    "PORTAL_ENV": ("ENV_NAME", str),
    "PORTAL_DEBUG": ("DEBUG", bool),
    "PORTAL_DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "PORTAL_SECRET_KEY": ("SECRET_KEY", str),
    "PORTAL_RATELIMIT_STORAGE_URL": ("RATELIMIT_STORAGE_URI", str),
    "PORTAL_TRUST_PROXY_HOPS": ("TRUST_PROXY_HOPS", int),
    "PORTAL_PREFERRED_URL_SCHEME": ("PREFERRED_URL_SCHEME", str),
    "PORTAL_SERVER_NAME": ("SERVER_NAME", str),
    "PORTAL_PUBLIC_URL": ("PUBLIC_URL", str),
    "PORTAL_MAIL_SERVER": ("MAIL_SERVER", str),
    "PORTAL_MAIL_PORT": ("MAIL_PORT", int),
    "PORTAL_MAIL_USE_TLS": ("MAIL_USE_TLS", bool),
    "PORTAL_MAIL_USE_SSL": ("MAIL_USE_SSL", bool),
    "PORTAL_MAIL_USERNAME": ("MAIL_USERNAME", str),
    "PORTAL_MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "PORTAL_MAIL_FROM": ("MAIL_FROM", str),
    "PORTAL_MAIL_TIMEOUT": ("MAIL_TIMEOUT", float),
    "PORTAL_SMS_BACKEND": ("SMS_BACKEND", str),
}

#: the values PORTAL_ENV may take (any case): anything else refuses to start, so that a typo
#: never runs a development configuration in production.
ENVIRONMENTS = ("development", "production")

PRODUCTION_OVERRIDES: dict[str, Any] = {
    "SESSION_COOKIE_NAME": "__Host-portail",
    "SESSION_COOKIE_SECURE": True,
    "PREFERRED_URL_SCHEME": "https",
}


def _parse(raw: str, kind: type) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return kind(raw)


def is_production(app: Flask) -> bool:
    return app.config.get("ENV_NAME") == "production"


def load(app: Flask, overrides: dict[str, Any]) -> None:
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for variable, (key, kind) in ENVIRONMENT.items():
        if variable in os.environ:
            app.config[key] = _parse(os.environ[variable], kind)
    app.config.update(overrides)
    app.config["ENV_NAME"] = _environment_name(app.config.get("ENV_NAME"))

    if is_production(app):
        for key, value in PRODUCTION_OVERRIDES.items():
            if key not in overrides:
                app.config[key] = value
        if app.config.get("DEBUG"):
            raise ConfigurationError("DEBUG must be off in production (PORTAL_DEBUG).")
        if not app.config.get("SECRET_KEY"):
            raise ConfigurationError("PORTAL_SECRET_KEY is required in production.")
        if len(app.config["SECRET_KEY"]) < 32:
            raise ConfigurationError("PORTAL_SECRET_KEY must be at least 32 characters long.")
    app.config["PUBLIC_URL"] = _public_url(app.config.get("PUBLIC_URL"),
                                           production=is_production(app))
    if not is_production(app) and not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
    timeout = float(app.config.get("MAIL_TIMEOUT") or 0)
    if not 0 < timeout <= MAIL_TIMEOUT_LIMIT:  # a send must end well within its claim's lease
        raise ConfigurationError(
            f"PORTAL_MAIL_TIMEOUT must be a number of seconds above 0 and at most "
            f"{MAIL_TIMEOUT_LIMIT}, not {app.config.get('MAIL_TIMEOUT')!r}.")

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        path = Path(app.instance_path) / "portal.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})  # never the shared default
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A connection the server dropped (a restart) is replaced before use: the portal
        # recovers by itself when the database is back.
        options.setdefault("pool_pre_ping", True)
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", int(app.config["SQLITE_BUSY_TIMEOUT_MS"]) / 1000)
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.debug = bool(app.config.get("DEBUG"))


def _environment_name(raw: object) -> str:
    name = str(raw if raw is not None else "").strip().lower()
    if name not in ENVIRONMENTS:
        raise ConfigurationError(
            f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)} (any case), not {raw!r}.")
    return name


def _public_url(raw: object, *, production: bool) -> str:
    """The public address, normalised (lower-case scheme and host, no trailing slash).

    Anywhere: an absolute http(s) address without credentials, query or fragment.
    In production: HTTPS on a name or address that others can reach (no loopback).
    """
    text = str(raw or "").strip()
    try:
        parts = urlsplit(text)
        host, port = parts.hostname or "", parts.port
    except ValueError as error:  # a port out of range, a malformed IPv6 address
        raise ConfigurationError(f"PORTAL_PUBLIC_URL is not a valid address: {text!r}.") from error
    if (parts.scheme.lower() not in ("http", "https") or not host or parts.query
            or parts.fragment or parts.username is not None or parts.password is not None
            or any(c.isspace() or c in "{}" for c in text)):
        raise ConfigurationError(
            "PORTAL_PUBLIC_URL must be the portal's full address, such as "
            f"https://portail.example.fr (no query, no password), not {text!r}.")
    scheme = parts.scheme.lower()
    if production and (scheme != "https" or _is_local(host)):
        raise ConfigurationError(
            "PORTAL_PUBLIC_URL must be the public HTTPS address of the portal in production "
            f"(https://portail.example.fr), not {text!r}: it is printed on documents.")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _is_local(host: str) -> bool:
    """Loopback, unspecified or ``localhost`` names: nobody else can open such an address."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret_key(instance: Path) -> str:
    """Generate the development secret key once and keep it in the instance folder."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()
