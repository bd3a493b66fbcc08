"""The dashboard of activity figures (a site or the whole network, a period) and its printable
report for a funder. A plain GET form: every figure, chart and table is on the page without
JavaScript."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, make_response, render_template, request

from portal.access import current_staff, is_staff
from portal.downloads import pdf_response
from portal.forms import parse_id
from portal.services import periods, report_layout, reports
from portal.services.errors import ValidationFailed
from portal.views.staff import bp, staff_actor

#: the site choice that means every site (network administrators).
NETWORK = "reseau"
PERIOD_FIELDS = ("periode", "mois", "trimestre", "annee", "du", "au")


@bp.app_template_global()
def staff_sees_reports() -> bool:
    """The navigation shows "Rapports" to staff who see figures at some site."""
    return is_staff() and reports.may_see_reports(current_staff())


def _scope_asked() -> tuple[int | None, str]:
    """The site id asked for (None: the network) and the form's value."""
    staff = current_staff()
    raw = (request.args.get("site") or "").strip()[:20]
    if raw == NETWORK:
        return None, NETWORK
    if not raw:
        if staff.is_network_admin:
            return None, NETWORK
        sites = reports.sites_for(staff)
        if not sites:
            abort(403)
        return sites[0].id, str(sites[0].id)
    site_id = parse_id(raw)
    if site_id is None:
        abort(404)
    return site_id, str(site_id)


def _form_values() -> dict[str, str]:
    values = {name: (request.args.get(name) or "").strip()[:20] for name in PERIOD_FIELDS}
    values["periode"] = values["periode"] or periods.PeriodKind.MONTH.value
    return values


def _context(site_value: str, values: dict[str, str], **extra: Any) -> dict[str, Any]:
    staff = current_staff()
    return {"sites": reports.sites_for(staff), "network": staff.is_network_admin,
            "network_value": NETWORK, "site_value": site_value, "values": values,
            "kinds": list(periods.PeriodKind), **extra}


@bp.route("/rapports", endpoint="reports")
def reports_page() -> Response:
    site_id, site_value = _scope_asked()
    staff = current_staff()
    values = _form_values()
    try:
        period = periods.parse(request.args)
    except ValidationFailed as error:
        reports.scope(staff, site_id)  # the access refusal before the input error
        return make_response(render_template(
            "staff/reports/dashboard.html",
            **_context(site_value, values, errors=error.details.get("fields", {}),
                       report=None)), 422)
    report = reports.figures(staff, site_id, period)
    values.update(period.as_args())
    # A plain GET form, whole pages only: the dashboard has no fragment.
    return make_response(render_template(
        "staff/reports/dashboard.html",
        **_context(site_value, values, errors={}, report=report,
                   blocks=report_layout.blocks(report),
                   key_figures=report_layout.key_figures(report),
                   definitions=report_layout.definitions(),
                   pdf_args={"site": site_value, **period.as_args()})))


@bp.route("/rapports/pdf")
def reports_pdf() -> Response:
    site_id, site_value = _scope_asked()
    staff = current_staff()
    try:
        period = periods.parse(request.args)
    except ValidationFailed:
        reports.scope(staff, site_id)
        abort(422)
    pdf = report_layout.print_report(staff, site_id, period, actor=staff_actor())
    name = f"rapport-{site_value}-{period.first:%Y-%m-%d}.pdf"
    return pdf_response(pdf, name)

