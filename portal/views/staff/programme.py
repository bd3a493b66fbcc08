"""The programme of a site: the week (rooms × days) and the month, the printed programme of a
month (A4 or A3) and the day's convocations for the people no message reaches."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, request
from flask_babel import gettext as _

from portal.access import current_staff, staff_site_or_404
from portal.downloads import pdf_response
from portal.forms import parse_id
from portal.htmx import answer, render_page_or_partial
from portal.models.catalogue import Workshop
from portal.models.people import Site
from portal.public_urls import public_url
from portal.services import convocations, programme, staff_access
from portal.services.errors import ServiceError
from portal.services.staff_access import Action
from portal.views.staff import bp, staff_actor


def _site(action: Action, raw: str | None) -> Site | None:
    """The site asked for (another's is a 404), else the first of the member's sites."""
    site_id = parse_id(raw)
    if raw and site_id is None:
        site_id = 0  # not an id: no such site
    if site_id is not None:
        return staff_site_or_404(site_id, action)
    sites = programme.sites_for(current_staff())
    return sites[0] if sites else None


def _day_asked(raw: str | None) -> tuple[date, str | None]:
    """The day asked for, or today with a notice when it is not a date."""
    day = programme.parse_day(raw)
    if raw and day is None:
        return programme.today(), _("Cette date n'est pas valide : voici la semaine en cours.")
    return day or programme.today(), None


def _common(site: Site | None, **context: Any) -> dict[str, Any]:
    staff = current_staff()
    return {"site": site, "sites": programme.sites_for(staff), "today": programme.today(),
            "actions": staff_access.allowed_actions(staff, site.id) if site else frozenset(),
            **context}


@bp.route("/programme")
def programme_week() -> Response:
    site = _site(Action.SEE_SESSIONS, request.args.get("site"))
    day, notice = _day_asked(request.args.get("semaine"))
    view = programme.week(current_staff(), site, day) if site else None
    return render_page_or_partial("staff/programme/week.html", "staff/programme/_week.html",
                                  **_common(site, week=view, notice=notice))


def _month_asked(raw: str | None) -> tuple[date, str | None]:
    first = programme.parse_month(raw)
    if raw and first is None:
        return programme.today().replace(day=1), _(
            "Ce mois n'est pas valide : voici le mois en cours.")
    return first or programme.today().replace(day=1), None


def _month_page(site: Site | None, first: date, *, notice: str | None = None,
                error: str | None = None, paper: str = "A4", status: int = 200) -> Response:
    view = programme.month(current_staff(), site, first) if site else None
    return render_page_or_partial(
        "staff/programme/month.html", "staff/programme/_month.html", status=status,
        **_common(site, month=view, notice=notice, print_error=error, paper=paper,
                  papers=list(programme.Paper)))


@bp.route("/programme/mois")
def programme_month() -> Response:
    site = _site(Action.SEE_SESSIONS, request.args.get("site"))
    first, notice = _month_asked(request.args.get("mois"))
    return _month_page(site, first, notice=notice)


def _booking_url(workshop: Workshop, site: Site) -> str:
    """Where a workshop's QR code leads: Find a workshop, on this workshop at this site."""
    return public_url("me.find", q=workshop.title, site=site.id)


@bp.route("/programme/imprimer")
def programme_print() -> Response:
    site = _site(Action.PRINT_PROGRAMME, request.args.get("site") or "0")
    assert site is not None
    raw_month, paper = request.args.get("mois", "")[:20], request.args.get("format", "")[:10]
    first = programme.parse_month(raw_month)
    if first is None:
        return _month_page(site, programme.today().replace(day=1), paper=paper, status=422,
                           error=_("Choisissez un mois (par exemple 2026-12)."))
    try:
        pdf = programme.print_programme(current_staff(), site, first, paper,
                                        lambda workshop: _booking_url(workshop, site))
    except ServiceError as error:
        return _month_page(site, first, paper=paper, status=error.status,
                           error=error.message)
    return pdf_response(pdf, f"programme-{site.code}-{first:%Y-%m}-{paper}.pdf")


# --- convocations ----------------------------------------------------------------------------


def _convocations_context(site: Site | None, day: date, **context: Any) -> dict[str, Any]:
    people = convocations.day_list(current_staff(), site, day) if site else []
    return _common(site, day=day, people=people, **context)


@bp.route("/convocations")
def convocations_page() -> Response:
    site = _site(Action.PRINT_CONVOCATIONS, request.args.get("site"))
    raw = request.args.get("jour")
    day = programme.parse_day(raw)
    notice = None
    if raw and day is None:
        notice = _("Cette date n'est pas valide : voici les convocations de demain.")
    day = day or programme.today() + timedelta(days=1)
    return render_page_or_partial("staff/programme/convocations.html",
                                  "staff/programme/convocations.html",
                                  **_convocations_context(site, day, notice=notice))


@bp.route("/convocations", methods=["POST"])
def convocations_print() -> Response:
    site = _site(Action.PRINT_CONVOCATIONS, request.form.get("site") or "0")
    assert site is not None
    raw = request.form.get("jour", "")[:20]
    day = programme.parse_day(raw)
    if day is None:
        return answer("staff/programme/convocations.html", "staff/programme/convocations.html",
                      refused=True, **_convocations_context(
                          site, programme.today() + timedelta(days=1),
                          error=_("Choisissez un jour (par exemple 2026-12-07).")))
    try:
        pdf = convocations.print_day(current_staff(), site, day, actor=staff_actor())
    except ServiceError as error:
        return answer("staff/programme/convocations.html", "staff/programme/convocations.html",
                      refused=True, **_convocations_context(site, day, error=error.message))
    return pdf_response(pdf, f"convocations-{site.code}-{day.isoformat()}.pdf")
