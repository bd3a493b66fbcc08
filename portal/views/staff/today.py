"""The staff landing page: today's and the next days' sessions of the member's sites."""

from __future__ import annotations

from flask import render_template

from portal.services import roster, staff_access
from portal.views.staff import bp, current_staff


@bp.route("/")
def today() -> str:
    staff = current_staff()
    days = roster.sessions_by_day(staff, days=7)
    sites = (item.session.site_id for _day, items in days for item in items)
    return render_template("staff/today.html", staff=staff, days=days,
                           actions=staff_access.actions_at(staff, sites),
                           can_schedule=staff_access.sites_where(
                               staff, staff_access.Action.SCHEDULE_SESSIONS) != [])
