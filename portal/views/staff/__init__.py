"""Staff screens (check-in, desk, catalogue, reports, settings), split by screen."""

from __future__ import annotations

from flask import Blueprint

from portal.access import require_staff

bp = Blueprint("staff", __name__, url_prefix="/equipe")
bp.before_request(require_staff)

from portal.views.staff import checkin, closing, desk, documents, today  # noqa: E402,F401  (routes register on bp)
