"""Staff screens (check-in, desk, catalogue, reports, settings), split by screen."""

from __future__ import annotations

from flask import Blueprint

from portal.access import current_staff, require_staff
from portal.public_urls import verify_url_template
from portal.services.audit import Actor
from portal.sessions import client_ip

bp = Blueprint("staff", __name__, url_prefix="/equipe")
bp.before_request(require_staff)

__all__ = ["bp", "current_staff", "staff_actor", "verify_url"]


def staff_actor() -> Actor:
    return Actor.of(current_staff(), client_ip())


def verify_url() -> str:
    """Where a printed QR code sends its reader, ``{code}`` to fill."""
    return verify_url_template()


from portal.views.staff import (  # noqa: E402,F401  (routes register on bp)
    catalogue,
    checkin,
    cheques,
    closing,
    desk,
    documents,
    exports,
    help,
    journal,
    network,
    people_forms,
    personal_data,
    programme,
    reports,
    sessions,
    sites,
    team,
    today,
)
