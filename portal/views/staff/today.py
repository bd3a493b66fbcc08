"""The staff landing page: today's and the next days' sessions of the member's sites."""

from __future__ import annotations

from flask import render_template

from portal.services import roster
from portal.views.staff import bp, current_staff


@bp.route("/")
def today() -> str:
    staff = current_staff()
    days = roster.sessions_by_day(staff, days=7)
    return render_template("staff/today.html", staff=staff, days=days)
