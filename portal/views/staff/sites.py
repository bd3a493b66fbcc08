"""Staff: a site's settings (details, documents' wording, limits), its logo and signature image.
Rules: ``services/sites.py`` and ``services/uploads.py``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, flash, make_response, render_template, request, url_for
from flask_babel import gettext as _

from portal.htmx import answer, hx_redirect
from portal.models.people import Site
from portal.services import sites, staff_access, uploads
from portal.services.errors import Conflict, ServiceError, ValidationFailed
from portal.services.sites import SiteInput
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor

_FORM_MAX = 8000


#: settings added after the form's first version: absent from a submission, they stay as they are.
KEPT = ("retention_months",)


def _input(site: Site) -> SiteInput:
    """The form as typed; a setting the form did not send keeps the site's value."""
    current = asdict(SiteInput.of(site))
    return SiteInput(**{name: request.form.get(name, current[name] if name in KEPT else "")
                        [:_FORM_MAX] for name in current})


@bp.route("/lieux")
def sites_list() -> str:
    staff = current_staff()
    return render_template("staff/sites/list.html", sites=sites.editable_sites(staff),
                           may_create=staff.is_network_admin,
                           may_see_cheques=bool(staff.is_network_admin or
                                                staff_access.sites_where(staff,
                                                                         Action.SEE_CHEQUES)))


@bp.route("/lieux/nouveau", methods=["GET", "POST"])
def site_new() -> Response:
    """A new site (network administrators): its code and name, then its settings page."""
    staff = current_staff()
    staff_access.require_network_admin(staff)
    values = {"code": request.form.get("code", "")[:20], "name": request.form.get("name", "")[:200]}
    if request.method == "GET":
        return answer("staff/sites/new.html", "staff/sites/new.html", values=values, errors={},
                      message="")
    try:
        site = sites.create(staff, code=values["code"], name=values["name"], actor=staff_actor())
    except (ValidationFailed, Conflict) as error:
        field = error.details.get("field") or ""
        return answer("staff/sites/new.html", "staff/sites/new.html", refused=True,
                      values=values, errors={field: error.message} if field else {},
                      message="" if field else error.message)
    flash(_("Le lieu « %(site)s » est créé. Complétez ses réglages, puis invitez son équipe.",
            site=site.name), "success")
    return hx_redirect(url_for("staff.site_settings", site_id=site.id))


def _form(site: Site, data: SiteInput, *, errors: dict[str, str] | None = None,
          refused: bool = False, message: str = "") -> Response:
    staff = current_staff()
    context: dict[str, Any] = {
        "site": site, "values": asdict(data), "errors": errors or {}, "message": message,
        "has_logo": sites.image_of(site, "logo") is not None,
        "has_signature": sites.image_of(site, "signature") is not None,
        "closures": staff_access.can(staff, Action.EDIT_CLOSURES, site.id),
        "max_kb": uploads.MAX_BYTES // 1024, "max_side": uploads.MAX_SIDE,
        "ranges": {"deadline": sites.DEADLINE_RANGE, "idle": sites.IDLE_RANGE,
                   "bookings": sites.BOOKINGS_RANGE, "retention": sites.RETENTION_RANGE}}
    return answer("staff/sites/settings.html", "staff/sites/settings.html", refused=refused,
                  **context)


def _refused(site: Site, data: SiteInput, error: ServiceError) -> Response:
    if not isinstance(error, ValidationFailed):
        raise error
    fields = dict(error.details.get("fields") or {})
    return _form(site, data, errors=fields, refused=True, message="" if fields else error.message)


@bp.route("/lieux/<int:site_id>/reglages", methods=["GET", "POST"])
def site_settings(site_id: int) -> Response:
    site = sites.site_for(current_staff(), site_id)
    if request.method == "GET":
        return _form(site, SiteInput.of(site))
    data = _input(site)
    try:
        changed = sites.update(site, data, actor=staff_actor())
    except ServiceError as error:
        return _refused(site, data, error)
    flash(_("Les réglages de « %(site)s » sont enregistrés.", site=site.name) if changed
          else _("Rien n'a changé."), "success" if changed else "info")
    return hx_redirect(url_for("staff.site_settings", site_id=site.id))


def _image(site_id: int, which: str) -> Response:
    """The stored image (a PNG re-encoded at upload), from the site's row only."""
    site = sites.site_for(current_staff(), site_id)
    data = sites.image_of(site, which)
    if data is None:
        return make_response(render_template("errors/error.html", status=404,
                                             title=_("Page introuvable"),
                                             message=_("Aucune image n'est enregistrée.")), 404)
    response = make_response(data)
    response.headers["Content-Type"] = uploads.MIME
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{which}.png"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _upload(site_id: int, which: str) -> Response:
    site = sites.site_for(current_staff(), site_id)
    file = request.files.get(which)
    raw = file.stream.read(uploads.MAX_BYTES + 1) if file is not None else None
    try:
        sites.set_image(site, which, raw, actor=staff_actor())
    except ServiceError as error:
        return _refused(site, SiteInput.of(site), error)
    flash(_("Le logo est enregistré.") if which == "logo"
          else _("L'image de la signature est enregistrée."), "success")
    return hx_redirect(url_for("staff.site_settings", site_id=site.id))


def _remove(site_id: int, which: str) -> Response:
    site = sites.site_for(current_staff(), site_id)
    if sites.remove_image(site, which, actor=staff_actor()):
        flash(_("Le logo est retiré.") if which == "logo"
              else _("L'image de la signature est retirée."), "success")
    return hx_redirect(url_for("staff.site_settings", site_id=site.id))


@bp.route("/lieux/<int:site_id>/logo", methods=["GET", "POST"])
def site_logo(site_id: int) -> Response:
    if request.method == "GET":
        return _image(site_id, "logo")
    return _upload(site_id, "logo")


@bp.route("/lieux/<int:site_id>/logo/retirer", methods=["POST"])
def site_logo_remove(site_id: int) -> Response:
    return _remove(site_id, "logo")


@bp.route("/lieux/<int:site_id>/signature", methods=["GET", "POST"])
def site_signature(site_id: int) -> Response:
    if request.method == "GET":
        return _image(site_id, "signature")
    return _upload(site_id, "signature")


@bp.route("/lieux/<int:site_id>/signature/retirer", methods=["POST"])
def site_signature_remove(site_id: int) -> Response:
    return _remove(site_id, "signature")
