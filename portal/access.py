"""Who may reach what: the public allow-list, role guards and owner-scoped loaders.

Every endpoint needs a login unless it is listed in ``PUBLIC_ENDPOINTS`` (SECURITY.md §2.10);
the check runs before any view, so a new route is protected by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, make_response, redirect, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.models.people import Beneficiary, StaffMember
from portal.models.vocab import StaffRole

PUBLIC_ENDPOINTS = frozenset({
    "static",
    "public.home",
    "public.accessibility",
    "public.privacy",
    "public.healthz",
    "public.set_language",
    "auth.login",
    "auth.first_login",
    "calendar_feed.feed",  # authenticated by the secret token in its URL
    "public.verify",
    "public.verify_form",
})

F = TypeVar("F", bound=Callable[..., Any])


def login_url() -> str:
    ended = "session" if g.get("session_ended") else None
    return url_for("auth.login", next=safe_next(request.full_path), fin=ended)


#: control characters (C0, DEL, C1) and the backslash: a newline would break the Location
#: header, and browsers drop tabs and newlines from URLs ("/\t/site" becomes "//site").
_UNSAFE_IN_NEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
MAX_NEXT_LENGTH = 2000


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths may be used as a post-login destination; anything else
    (another site, a control character, a huge value) is None: the caller's default applies."""
    if not target or len(target) > MAX_NEXT_LENGTH or _UNSAFE_IN_NEXT.search(target):
        return None
    target = target.rstrip("?")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_required_response() -> Response:
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url_for("auth.login")
        return response
    return redirect(login_url())  # type: ignore[return-value]


def _guard() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return _login_required_response()
    return None


def is_staff(user: Any = None) -> bool:
    return isinstance(user if user is not None else current_user._get_current_object(),
                      StaffMember)


def is_beneficiary(user: Any = None) -> bool:
    return isinstance(user if user is not None else current_user._get_current_object(),
                      Beneficiary)


def require_beneficiary() -> Response | None:
    """Blueprint guard for the beneficiary space."""
    if not current_user.is_authenticated:
        return _login_required_response()
    if not is_beneficiary():
        abort(403)
    return None


def require_staff() -> Response | None:
    """Blueprint guard for every staff screen (finer roles per view and per site)."""
    if not current_user.is_authenticated:
        return _login_required_response()
    if not is_staff():
        abort(403)
    return None


def roles_required(*roles: StaffRole) -> Callable[[F], F]:
    """The staff member holds one of ``roles`` at some site (or is a network admin)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user._get_current_object()
            if not isinstance(user, StaffMember):
                abort(403)
            if not user.is_network_admin and not any(r.role in roles for r in user.roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def load_or_404(model: type, object_id: int, **owner: Any) -> Any:
    """Load an object only if it belongs to the given owner columns; another's is a 404."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    for column, value in owner.items():
        if getattr(obj, column) != value:
            abort(404)
    return obj


def own_booking_or_404(booking_id: int) -> Any:
    """A booking of the logged-in beneficiary; anyone else's is a 404."""
    from portal.models.bookings import Booking

    return load_or_404(Booking, booking_id, beneficiary_id=current_user.id)


def own_document_or_404(document_id: int) -> Any:
    from portal.models.documents import Document

    return load_or_404(Document, document_id, beneficiary_id=current_user.id)


def init_app(app: Flask) -> None:
    app.before_request(_guard)
    app.jinja_env.globals["is_staff"] = is_staff
    app.jinja_env.globals["is_beneficiary"] = is_beneficiary
