"""The page of one session: what, when, where, who, how full, and what may be done with it."""

from __future__ import annotations

from flask import render_template

from portal.access import staff_session_or_404
from portal.services import roster, staff_access
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff


@bp.route("/seances/<int:session_id>")
def session_detail(session_id: int) -> str:
    session = staff_session_or_404(session_id, Action.SEE_SESSIONS)
    return render_template(
        "staff/session.html", item=roster.session_counts(session),
        actions=staff_access.allowed_actions(current_staff(), session.site_id))
