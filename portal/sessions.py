"""Flask wiring of the server-side login sessions (see services/login_sessions.py).

The signed Flask cookie carries the CSRF token, flashes, the chosen language and the
login token; the login token is worthless once its row is revoked or timed out.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, request, session
from flask_login import AnonymousUserMixin

from portal.extensions import db, login_manager
from portal.models.people import Beneficiary, Site, StaffMember
from portal.services import login_sessions

TOKEN_KEY = "auth"  # noqa: S105  (a session key name, not a secret)


class Anonymous(AnonymousUserMixin):
    kind = "anonymous"
    id = None
    preferred_language = None


def client_ip() -> str:
    return request.remote_addr or ""


def idle_timeout_for(principal: StaffMember | Beneficiary) -> timedelta:
    if isinstance(principal, StaffMember):
        return current_app.config["STAFF_IDLE_TIMEOUT"]
    if principal.home_site_id is not None:
        site = db.session.get(Site, principal.home_site_id)
        if site is not None:
            return timedelta(minutes=site.idle_timeout_minutes)
    return current_app.config["BENEFICIARY_IDLE_TIMEOUT"]


def log_in(principal: StaffMember | Beneficiary) -> None:
    """Start a fresh login session: a new cookie content, a new server-side row."""
    language = session.get("lang")
    session.clear()
    token = login_sessions.start(
        principal,
        idle_timeout=idle_timeout_for(principal),
        absolute_lifetime=current_app.config["LOGIN_ABSOLUTE_LIFETIME"],
        ip=client_ip(),
        user_agent=request.user_agent.string or "",
    )
    db.session.commit()
    session[TOKEN_KEY] = token
    if language:
        session["lang"] = language
    g.pop("_login_user", None)


def log_out(reason: str = "logout") -> None:
    login_sessions.revoke(session.get(TOKEN_KEY), reason)
    db.session.commit()
    session.clear()


def current_login_session() -> login_sessions.LoginSession | None:
    resolved = g.get("_resolved_login")
    return resolved.login_session if resolved else None


#: sent by screens that refresh themselves (the check-in roster): not a sign of activity.
POLL_HEADER = "X-Portal-Poll"


def _load_from_request(_request: object) -> StaffMember | Beneficiary | None:
    # A screen polling on its own must not keep an unattended login alive.
    polling = request.headers.get(POLL_HEADER) == "1"
    resolved = login_sessions.resolve(
        session.get(TOKEN_KEY),
        touch_interval=current_app.config["LOGIN_SESSION_TOUCH_INTERVAL"], touch=not polling,
    )
    g._resolved_login = resolved
    if resolved is None:
        if TOKEN_KEY in session:
            # A timed-out or revoked session: forget the token, say so on the login page.
            session.pop(TOKEN_KEY, None)
            g.session_ended = True
        return None
    return resolved.principal


def init_app(app: Flask) -> None:
    login_manager.anonymous_user = Anonymous
    login_manager.session_protection = None  # our own server-side sessions do this job
    login_manager.request_loader(_load_from_request)
    login_manager.user_loader(lambda _user_id: None)  # never trust an id stored in the cookie
    login_manager.login_view = "auth.login"
