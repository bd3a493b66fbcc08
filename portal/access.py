"""Who may reach what: the public allow-list, audience guards and scoped loaders.

Every endpoint needs a login unless it is listed in ``PUBLIC_ENDPOINTS``
(docs/security.md#public-allow-list); the check runs before any view, so a new route is
protected by default.

Beneficiaries load their own objects (another person's is a 404). Staff load the objects of
the sites where their role allows the route's action: the rule is ``services/staff_access.py``
(a 404 without a role at the site, a 403 when the role there does not allow the action), the
loaders below only find the row and its site.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, make_response, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, inspect, select

from portal.extensions import db
from portal.models.bookings import Booking
from portal.models.catalogue import Course, WorkshopSession
from portal.models.documents import Document
from portal.models.people import Beneficiary, Site, StaffMember
from portal.services import people, staff_access
from portal.services.staff_access import Action

PUBLIC_ENDPOINTS = frozenset({
    "static",
    "public.home",
    "public.accessibility",
    "public.privacy",
    "public.healthz",
    "public.set_language",
    "auth.login",
    "auth.first_login",
    "auth.invitation",  # authenticated by the secret token in its URL (services/team.py)
    "auth.invitation_code",
    "calendar_feed.feed",  # authenticated by the secret token in its URL
    "public.verify",
    "public.verify_form",
})

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
        # A session that just ended says so on the login page, as for a whole page.
        ended = "session" if g.get("session_ended") else None
        response.headers["HX-Redirect"] = url_for("auth.login", fin=ended)
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


@lru_cache(maxsize=64)
def _by_id(model: type, options: tuple[Any, ...]) -> Any:
    """``select(model)`` by primary key with ``options``, built once per model and options
    (the staff pages load their session this way on every request, polls included)."""
    key = inspect(model).primary_key[0]
    return select(model).options(*options).where(key == bindparam("object_id", type_=key.type))


def _get(model: type, object_id: int, options: Sequence[Any]) -> Any:
    """``db.session.get``: from the identity map when the object is there, else one prebuilt
    statement (for options built once, such as ``as_listed()``)."""
    if isinstance(options, tuple) and db.session.identity_key(model, object_id) \
            not in db.session.identity_map:
        try:
            statement = _by_id(model, options)
        except TypeError:  # options that cannot be a cache key: as before
            pass
        else:
            return db.session.execute(statement,
                                      {"object_id": object_id}).unique().scalar_one_or_none()
    return db.session.get(model, object_id, options=options)


def load_or_404(model: type, object_id: int, *, options: Sequence[Any] = (),
                **owner: Any) -> Any:
    """Load an object only if it belongs to the given owner columns; another's is a 404.
    ``options``: loader options (what the page shows of it)."""
    obj = _get(model, object_id, options)
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
    return load_or_404(Document, document_id, beneficiary_id=current_user.id)


# --- staff: the objects of the sites where they may act -----------------------------------------


def current_staff() -> StaffMember:
    """The logged-in staff member (the staff blueprint's guard lets nobody else in)."""
    user = current_user._get_current_object()
    if not isinstance(user, StaffMember):
        abort(403)
    return user


def staff_may(action: Action, site_id: int) -> StaffMember:
    """The logged-in staff member, who may do ``action`` at the site (else 404 or 403)."""
    staff = current_staff()
    staff_access.require(staff, action, site_id)
    return staff


def staff_session_or_404(session_id: int, action: Action, *,
                         options: Sequence[Any] = ()) -> WorkshopSession:
    session = load_or_404(WorkshopSession, session_id, options=options)
    staff_may(action, session.site_id)
    return session


def staff_booking_or_404(booking_id: int, action: Action, *,
                         session: WorkshopSession | None = None) -> Booking:
    """A booking of a session where ``action`` is allowed (of ``session`` when given)."""
    booking = load_or_404(Booking, booking_id)
    if session is not None and booking.session_id != session.id:
        abort(404)
    staff_may(action, booking.session.site_id)
    return booking


def staff_person_or_404(person_id: int) -> Beneficiary:
    """A beneficiary the staff member may see (``services/people.py``); anyone else is a 404."""
    person = load_or_404(Beneficiary, person_id)
    people.require_visible(current_staff(), person)
    return person


def staff_document_or_404(document_id: int, action: Action) -> Document:
    document = load_or_404(Document, document_id)
    staff_may(action, document.site_id)
    return document


def staff_course_or_404(course_id: int, action: Action) -> Course:
    course = load_or_404(Course, course_id)
    staff_may(action, course.site_id)
    return course


def staff_site_or_404(site_id: int, action: Action) -> Site:
    site = load_or_404(Site, site_id)
    staff_may(action, site.id)
    return site


def init_app(app: Flask) -> None:
    app.before_request(_guard)
    app.jinja_env.globals["is_staff"] = is_staff
    app.jinja_env.globals["is_beneficiary"] = is_beneficiary
