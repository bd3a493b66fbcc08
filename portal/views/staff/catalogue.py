"""Staff: the catalogue — workshops (list, create, edit with a live preview, archive, restore)
and courses (list, create, edit, their sessions). Rules: ``services/workshops.py`` and
``services/courses.py``."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, render_template, request, url_for
from flask_babel import gettext as _

from portal.forms import EmptyForm, parse_id
from portal.htmx import answer, hx_redirect
from portal.models.vocab import AdminSubtheme, CompletionRule, Equipment, Level, Theme
from portal.services import courses, staff_access, workshops
from portal.services.catalogue import description_blocks
from portal.services.courses import CourseInput
from portal.services.errors import ServiceError, ValidationFailed
from portal.services.staff_access import Action
from portal.services.workshops import WorkshopInput
from portal.views.staff import bp, current_staff, staff_actor

# The beneficiary pages and the preview show descriptions through the same filter and macro
# (``templates/_macros/description.html``).
bp.add_app_template_filter(description_blocks, "description_blocks")

_FORM_MAX = 8000  # a field longer than this is cut before checking (the service refuses it)


def _field(name: str) -> str:
    return request.form.get(name, "")[:_FORM_MAX]


def _workshop_input() -> WorkshopInput:
    return WorkshopInput(
        title=_field("title"), description=_field("description"),
        themes=request.form.getlist("themes")[:40],
        subthemes=request.form.getlist("subthemes")[:40],
        level=_field("level"), equipment=_field("equipment"),
        what_to_bring=_field("what_to_bring"), duration_minutes=_field("duration_minutes"),
        price_cheques=_field("price_cheques"),
        grants_attestation=request.form.get("grants_attestation") == "1",
        objectives=_field("objectives"), site=_field("site"))


def _vocabularies() -> dict[str, Any]:
    return {"themes": list(Theme), "subthemes": list(AdminSubtheme), "levels": list(Level),
            "equipments": list(Equipment), "presets": workshops.DURATION_PRESETS,
            "limits": {"title": workshops.TITLE_MAX,
                       "description": workshops.DESCRIPTION_MAX,
                       "objectives": workshops.OBJECTIVES_MAX,
                       "what_to_bring": workshops.WHAT_TO_BRING_MAX}}


# --- workshops ---------------------------------------------------------------------------------


@bp.route("/catalogue")
def catalogue() -> str:
    staff = current_staff()
    archived = request.args.get("etat") == "archives"
    text = request.args.get("q", "")[:80]
    items = workshops.listing(staff, archived=archived, text=text)
    return render_template("staff/catalogue/workshops.html", workshops=items,
                           archived=archived, text=text, form=EmptyForm(),
                           may_create=workshops.may_create(staff),
                           editable={w.id for w in items if workshops.may_edit(staff, w)})


def _workshop_context(workshop: Any, data: WorkshopInput, *,
                      errors: dict[str, str] | None = None, message: str = "") -> dict[str, Any]:
    staff = current_staff()
    context = {"workshop": workshop, "data": data, "errors": errors or {},
               "message": message, "sites": workshops.site_choices(staff), **_vocabularies()}
    if workshop is not None:
        context["upcoming"] = workshops.upcoming_sessions(workshop)
        context["editable"] = workshops.may_edit(staff, workshop)
    return context


def _workshop_form(workshop: Any, data: WorkshopInput, *, errors: dict[str, str] | None = None,
                   refused: bool = False, message: str = "") -> Response:
    return answer("staff/catalogue/workshop_form.html", "staff/catalogue/workshop_form.html",
                  refused=refused,
                  **_workshop_context(workshop, data, errors=errors, message=message))


def _refused(workshop: Any, data: WorkshopInput, error: ServiceError) -> Response:
    if not isinstance(error, ValidationFailed):
        raise error  # 403 / 404: the error pages
    fields = dict(error.details.get("fields") or {})
    if not fields and error.details.get("field"):
        fields[error.details["field"]] = error.message
    return _workshop_form(workshop, data, errors=fields, refused=True,
                          message="" if fields else error.message)


@bp.route("/catalogue/ateliers/nouveau", methods=["GET", "POST"])
def workshop_new() -> Response:
    staff = current_staff()
    if request.method == "GET":
        sites = workshops.site_choices(staff)
        return _workshop_form(None, WorkshopInput(site=sites[0][0] if len(sites) == 1 else ""))
    data = _workshop_input()
    if request.form.get("intent") == "preview":
        return _workshop_form(None, data)
    try:
        workshop = workshops.create(data, actor=staff_actor())
    except ServiceError as error:
        return _refused(None, data, error)
    flash(_("L'atelier « %(title)s » est enregistré.", title=workshop.title), "success")
    return hx_redirect(url_for("staff.catalogue"))


@bp.route("/catalogue/ateliers/<int:workshop_id>", methods=["GET", "POST"])
def workshop_edit(workshop_id: int) -> Response:
    staff = current_staff()
    needed = Action.SEE_SESSIONS if request.method == "GET" else Action.EDIT_CATALOGUE
    workshop = workshops.workshop_for(staff, workshop_id, needed)
    if request.method == "GET":
        return _workshop_form(workshop, WorkshopInput.of(workshop))
    data = _workshop_input()
    if request.form.get("intent") == "preview":
        return _workshop_form(workshop, data)
    try:
        changed = workshops.update(workshop, data, actor=staff_actor())
    except ServiceError as error:
        return _refused(workshop, data, error)
    if changed:
        flash(_("L'atelier « %(title)s » est modifié.", title=workshop.title), "success")
    else:
        flash(_("Rien n'a changé."), "info")
    return hx_redirect(url_for("staff.catalogue"))


@bp.route("/catalogue/ateliers/apercu", methods=["POST"])
def workshop_preview() -> Response:
    """The preview alone, as the beneficiary will see it (htmx, as one types), for someone
    who may write the workshop at the place chosen in the form."""
    workshops.require_preview(current_staff(), _field("site"))
    return answer("staff/catalogue/workshop_form.html", "staff/catalogue/_preview.html",
                  **_workshop_context(None, _workshop_input()))


@bp.route("/catalogue/ateliers/<int:workshop_id>/archiver", methods=["POST"])
def workshop_archive(workshop_id: int) -> Response:
    workshop = workshops.workshop_for(current_staff(), workshop_id, Action.EDIT_CATALOGUE)
    try:
        workshops.archive(workshop, actor=staff_actor())
    except ServiceError as error:
        if error.status in (403, 404):
            raise
        return _workshop_form(workshop, WorkshopInput.of(workshop), refused=True,
                              message=error.message)
    flash(_("L'atelier « %(title)s » est archivé. Ses séances passées et ses documents "
            "restent.", title=workshop.title), "success")
    return hx_redirect(url_for("staff.catalogue"))


@bp.route("/catalogue/ateliers/<int:workshop_id>/restaurer", methods=["POST"])
def workshop_restore(workshop_id: int) -> Response:
    workshop = workshops.workshop_for(current_staff(), workshop_id, Action.EDIT_CATALOGUE)
    try:
        workshops.restore(workshop, actor=staff_actor())
    except ServiceError as error:
        if error.status in (403, 404):
            raise
        flash(error.message, "error")
        return hx_redirect(url_for("staff.catalogue", etat="archives"))
    flash(_("L'atelier « %(title)s » est de nouveau au catalogue.", title=workshop.title),
          "success")
    return hx_redirect(url_for("staff.catalogue"))


# --- courses -----------------------------------------------------------------------------------


def _course_input() -> CourseInput:
    return CourseInput(title=_field("title"), description=_field("description"),
                       site=_field("site"), completion_rule=_field("completion_rule"),
                       min_sessions=_field("min_sessions"),
                       grants_attestation=request.form.get("grants_attestation") == "1",
                       objectives=_field("objectives"))


@bp.route("/catalogue/parcours")
def courses_list() -> str:
    staff = current_staff()
    items = courses.listing(staff)
    return render_template("staff/catalogue/courses.html", courses=items,
                           may_create=bool(staff_access.sites_for(staff,
                                                                  Action.EDIT_CATALOGUE)),
                           actions=staff_access.actions_at(staff,
                                                           (c.site_id for c in items)))


def _course_form(course: Any, data: CourseInput, *, errors: dict[str, str] | None = None,
                 refused: bool = False, message: str = "") -> Response:
    staff = current_staff()
    context: dict[str, Any] = {
        "course": course, "data": data, "errors": errors or {}, "message": message,
        "sites": staff_access.sites_for(staff, Action.EDIT_CATALOGUE),
        "rules": list(CompletionRule), "form": EmptyForm(),
        "limits": {"title": workshops.TITLE_MAX, "description": workshops.DESCRIPTION_MAX,
                   "objectives": workshops.OBJECTIVES_MAX}}
    if course is not None:
        context["editable"] = staff_access.can(staff, Action.EDIT_CATALOGUE, course.site_id)
        context["addable"] = courses.addable_sessions(course) if context["editable"] else []
    return answer("staff/catalogue/course_form.html", "staff/catalogue/course_form.html",
                  refused=refused, **context)


def _course_refused(course: Any, data: CourseInput, error: ServiceError) -> Response:
    if not isinstance(error, ValidationFailed):
        if error.status in (403, 404):
            raise error
        return _course_form(course, data, refused=True, message=error.message)
    fields = dict(error.details.get("fields") or {})
    if not fields and error.details.get("field"):
        fields[error.details["field"]] = error.message
    return _course_form(course, data, errors=fields, refused=True,
                        message="" if fields else error.message)


@bp.route("/catalogue/parcours/nouveau", methods=["GET", "POST"])
def course_new() -> Response:
    if request.method == "GET":
        sites = staff_access.sites_for(current_staff(), Action.EDIT_CATALOGUE)
        return _course_form(None, CourseInput(site=str(sites[0].id) if len(sites) == 1
                                              else ""))
    data = _course_input()
    try:
        course = courses.create(data, actor=staff_actor())
    except ServiceError as error:
        return _course_refused(None, data, error)
    flash(_("Le parcours « %(title)s » est enregistré. Ajoutez-lui ses séances.",
            title=course.title), "success")
    return hx_redirect(url_for("staff.course_edit", course_id=course.id))


@bp.route("/catalogue/parcours/<int:course_id>", methods=["GET", "POST"])
def course_edit(course_id: int) -> Response:
    needed = Action.SEE_SESSIONS if request.method == "GET" else Action.EDIT_CATALOGUE
    course = courses.course_for(current_staff(), course_id, needed)
    if request.method == "GET":
        return _course_form(course, CourseInput.of(course))
    data = _course_input()
    try:
        changed = courses.update(course, data, actor=staff_actor())
    except ServiceError as error:
        return _course_refused(course, data, error)
    flash(_("Le parcours « %(title)s » est modifié.", title=course.title) if changed
          else _("Rien n'a changé."), "success" if changed else "info")
    return hx_redirect(url_for("staff.course_edit", course_id=course.id))


@bp.route("/catalogue/parcours/<int:course_id>/seances", methods=["POST"])
def course_add_session(course_id: int) -> Response:
    course = courses.course_for(current_staff(), course_id, Action.EDIT_CATALOGUE)
    try:
        courses.add_session(course, parse_id(request.form.get("session_id")),
                            actor=staff_actor())
    except ServiceError as error:
        return _course_refused(course, CourseInput.of(course), error)
    flash(_("La séance est ajoutée au parcours."), "success")
    return hx_redirect(url_for("staff.course_edit", course_id=course.id))


@bp.route("/catalogue/parcours/<int:course_id>/seances/<int:session_id>/retirer",
          methods=["POST"])
def course_remove_session(course_id: int, session_id: int) -> Response:
    course = courses.course_for(current_staff(), course_id, Action.EDIT_CATALOGUE)
    try:
        courses.remove_session(course, session_id, actor=staff_actor())
    except ServiceError as error:
        return _course_refused(course, CourseInput.of(course), error)
    flash(_("La séance est retirée du parcours."), "success")
    return hx_redirect(url_for("staff.course_edit", course_id=course.id))
