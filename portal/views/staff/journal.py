"""Staff: the audit trail, read-only, filtered and paginated. Rules: ``services/audit_viewer.py``
(a site administrator reads the events of their sites, a network administrator all)."""

from __future__ import annotations

from flask import Response, request

from portal.htmx import render_page_or_partial
from portal.services import audit_viewer
from portal.services.audit_viewer import Filters
from portal.views.staff import bp, current_staff


@bp.route("/journal")
def journal() -> Response:
    filters = Filters.parse(request.args)
    page = audit_viewer.page(current_staff(), filters)
    return render_page_or_partial("staff/journal.html", "staff/journal.html", journal=page,
                                  filters=filters)
