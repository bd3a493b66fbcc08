"""Staff: the network view (network administrators only). Figures: ``services/network.py``."""

from __future__ import annotations

from datetime import datetime, time

from flask import render_template

from portal.clock import PARIS
from portal.services import network as figures
from portal.views.staff import bp, current_staff


@bp.route("/reseau")
def network() -> str:
    view = figures.overview(current_staff())
    # Noon of each day of the week, for the date filters (which read a moment in Paris).
    heads = [datetime.combine(day, time(12), PARIS) for day in view.week_days]
    return render_template("staff/network.html", view=view, heads=heads,
                           silent_days=figures.SILENT_DAYS, past_weeks=figures.PAST_WEEKS)
