"""Staff screens (check-in, desk, catalogue, reports, settings), split by screen."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from portal.access import require_staff
from portal.models.people import StaffMember
from portal.public_urls import verify_url_template
from portal.services.audit import Actor
from portal.sessions import client_ip

bp = Blueprint("staff", __name__, url_prefix="/equipe")
bp.before_request(require_staff)


def current_staff() -> StaffMember:
    """The logged-in staff member (the blueprint guard lets nobody else in)."""
    return current_user._get_current_object()


def staff_actor() -> Actor:
    return Actor.of(current_staff(), client_ip())


def verify_url() -> str:
    """Where a printed QR code sends its reader, ``{code}`` to fill."""
    return verify_url_template()


from portal.views.staff import checkin, closing, desk, documents, today  # noqa: E402,F401  (routes register on bp)
