"""Sessions: the page of one session, scheduling one or a weekly series (with a preview),
editing, duplicating and cancelling a session, and a site's closure days.

Every screen works without JavaScript: forms post, a refusal re-renders the form with 422 and
the typed values, a success redirects (303) to the session's page.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from portal.access import load_or_404, staff_may, staff_session_or_404
from portal.extensions import db
from portal.forms import parse_id
from portal.htmx import answer, hx_redirect
from portal.models.people import Site
from portal.services import closures, roster, scheduling, staff_access
from portal.services.errors import NotAllowed, NotFound, ServiceError
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor

#: codes of refusals about who acts (a 404 or a 403), not about what was typed.
_ACCESS_CODES = {"not_found", "role_required", "staff_only"}
WEEKDAYS = ("0", "1", "2", "3", "4", "5", "6")


def _abort_if_access(error: ServiceError) -> None:
    if error.code in _ACCESS_CODES and isinstance(error, NotFound | NotAllowed):
        abort(error.status)


def _errors(error: ServiceError) -> dict[str, str]:
    """Field → message; the refusal's own message goes under ``""`` (above the form) unless
    a field already says it."""
    fields = {name: message for name, message in
              (error.details.get("fields") or {}).items() if message}
    if error.message not in fields.values():
        fields[""] = error.message
    return fields


@bp.route("/seances/<int:session_id>")
def session_detail(session_id: int) -> str:
    session = staff_session_or_404(session_id, Action.SEE_SESSIONS)
    actions = staff_access.allowed_actions(current_staff(), session.site_id)
    return render_template(
        "staff/session.html", item=roster.session_counts(session), actions=actions,
        series=scheduling.series_of(session), changeable=scheduling.can_change(session),
        cheques=scheduling.cheques_taken(session) if session.status.value == "cancelled"
        else [])


def _choices(site_ids: list[int]) -> dict[str, Any]:
    """(value, text) options of the form's lists."""
    return {"workshops": [(w.id, w.title) for w in scheduling.workshops_for(site_ids)],
            "animators": [(a.id, a.full_name) for a in scheduling.animators_for(site_ids)]}


def _form_page(template: str, values: dict[str, str], *,
               errors: dict[str, str] | None = None, **context: Any) -> Response:
    """A scheduling form (or the series preview); a refused one answers as every refusal."""
    staff = current_staff()
    sites = context.pop("sites", None) or scheduling.sites_for(staff)
    return _page(template, refused=bool(errors), values=values, errors=errors or {},
                 sites=sites, site_options=[(s.id, s.name) for s in sites],
                 weekdays=context.pop("chosen_weekdays", []),
                 **_choices([s.id for s in sites]), **context)


def _page(template: str, *, refused: bool = False, **context: Any) -> Response:
    """These screens have no fragment: htmx (a boosted form) gets the page too."""
    return answer(template, template, refused=refused, **context)


@bp.route("/seances/nouvelle", methods=["GET", "POST"])
def session_new() -> Response:
    """Schedule a session, or a weekly series: a preview first, then all of it at once."""
    staff = current_staff()
    if request.method == "GET":
        sites = scheduling.sites_for(staff)
        if not sites:
            abort(403)
        values = {"site_id": str(sites[0].id) if len(sites) == 1 else "", "capacity": "8",
                  "repeat": "once"}
        return _form_page("staff/sessions/new.html", values, sites=sites)
    values = {name: request.form.get(name, "") for name in
              (*scheduling.FIELDS, "repeat", "until", "count")}
    weekdays = [d for d in request.form.getlist("weekdays") if d in WEEKDAYS]
    site_id = parse_id(values["site_id"])
    if site_id is not None and db.session.get(Site, site_id) is not None:
        staff_may(Action.SCHEDULE_SESSIONS, site_id)
    try:
        if values["repeat"] != "weekly":
            session = scheduling.schedule(values, actor=staff_actor())
            flash(_("Séance programmée."), "success")
            return hx_redirect(url_for("staff.session_detail", session_id=session.id))
        plan, days, until, count = scheduling.read_series(values, weekdays, actor=staff_actor())
        if request.form.get("confirm") == "edit":  # back from the preview, values kept
            return _form_page("staff/sessions/new.html", values, chosen_weekdays=weekdays)
        if request.form.get("confirm") != "1":
            preview = scheduling.preview_series(plan, days, until=until, count=count)
            return _form_page("staff/sessions/preview.html", values, preview=preview,
                              chosen_weekdays=weekdays)
        created = scheduling.create_series(plan, days, actor=staff_actor(), until=until,
                                           count=count)
    except ServiceError as error:
        _abort_if_access(error)
        return _form_page("staff/sessions/new.html", values,
                          errors=_errors(error), chosen_weekdays=weekdays,
                          clashes=error.details.get("clashes", []))
    flash(ngettext("%(num)d séance programmée.", "%(num)d séances programmées.",
                   len(created)), "success")
    return hx_redirect(url_for("staff.session_detail", session_id=created[0].id))


@bp.route("/seances/<int:session_id>/modifier", methods=["GET", "POST"])
def session_edit(session_id: int) -> Response:
    session = staff_session_or_404(session_id, Action.SCHEDULE_SESSIONS)
    sites = scheduling.sites_to_move(current_staff(), session)
    if request.method == "GET":
        return _form_page("staff/sessions/edit.html", scheduling.form_of(session),
                          session=session, sites=sites)
    values = {name: request.form.get(name, "") for name in scheduling.FIELDS}
    try:
        outcome = scheduling.edit(session, values, actor=staff_actor())
    except ServiceError as error:
        _abort_if_access(error)
        return _form_page("staff/sessions/edit.html", values,
                          errors=_errors(error), session=session, sites=sites)
    if outcome.told:
        flash(ngettext("Séance modifiée. %(num)d personne est prévenue du changement.",
                       "Séance modifiée. %(num)d personnes sont prévenues du changement.",
                       outcome.told), "success")
    else:
        flash(_("Séance modifiée."), "success")
    return hx_redirect(url_for("staff.session_detail", session_id=session.id))


@bp.route("/seances/<int:session_id>/dupliquer", methods=["GET", "POST"])
def session_duplicate(session_id: int) -> Response:
    session = staff_session_or_404(session_id, Action.SCHEDULE_SESSIONS)
    sites = [session.site]
    if request.method == "GET":
        values = scheduling.form_of(session)
        values["day"] = ""
        return _form_page("staff/sessions/duplicate.html", values, session=session,
                          sites=sites)
    values = {**scheduling.form_of(session),
              **{name: request.form.get(name, "") for name in scheduling.FIELDS
                 if name not in ("workshop_id", "site_id")}}
    try:
        copy = scheduling.schedule(values, actor=staff_actor(), duplicate_of=session)
    except ServiceError as error:
        _abort_if_access(error)
        return _form_page("staff/sessions/duplicate.html", values,
                          errors=_errors(error), session=session, sites=sites)
    flash(_("Séance dupliquée."), "success")
    return hx_redirect(url_for("staff.session_detail", session_id=copy.id))


@bp.route("/seances/<int:session_id>/annuler", methods=["GET", "POST"])
def call_off_session(session_id: int) -> Response:
    session = staff_session_or_404(session_id, Action.CANCEL_SESSION)
    context = {"session": session, "item": roster.session_counts(session),
               "cheques": scheduling.cheques_taken(session)}
    if request.method == "GET":
        return _page("staff/sessions/cancel.html", reason="", errors={}, **context)
    reason = request.form.get("reason", "")
    try:
        told = scheduling.cancel(session, reason, actor=staff_actor())
    except ServiceError as error:
        _abort_if_access(error)
        if error.code == "already_cancelled":
            flash(error.message, "info")
            return hx_redirect(url_for("staff.session_detail", session_id=session.id))
        field = "reason" if error.code == "reason_required" else ""
        return _page("staff/sessions/cancel.html", refused=True, reason=reason,
                     errors={field: error.message}, **context)
    flash(ngettext("Séance annulée. %(num)d personne est prévenue.",
                   "Séance annulée. %(num)d personnes sont prévenues.", told), "success")
    return hx_redirect(url_for("staff.session_detail", session_id=session.id))


@bp.route("/lieux/<int:site_id>/fermetures", methods=["GET", "POST"])
def closure_days(site_id: int) -> Response:
    """A site's closure days: add a day or a period with a label, remove one."""
    site = load_or_404(Site, site_id)
    staff_may(Action.EDIT_CLOSURES, site.id)
    values = {name: request.form.get(name, "") for name in ("first_day", "last_day", "label")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            removing = parse_id(request.form.get("remove"))
            if removing is not None:
                closures.remove(site, removing, actor=staff_actor())
                flash(_("Fermeture supprimée."), "success")
            else:
                closures.add(site, first_day=values["first_day"], last_day=values["last_day"],
                             label=values["label"], actor=staff_actor())
                flash(_("Fermeture ajoutée."), "success")
            return hx_redirect(url_for("staff.closure_days", site_id=site.id))
        except ServiceError as error:
            _abort_if_access(error)
            errors = _errors(error)
    return _page("staff/sessions/closures.html", refused=bool(errors), site=site,
                 values=values, errors=errors, closures=closures.upcoming(site))
