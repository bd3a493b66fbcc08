"""Staff: the cheque programmes (a network administrator creates and edits them, with a live
test of the number pattern) and the cheques of a programme (scoped to the sites where the
viewer sees cheques). Rules: ``services/programmes.py``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, flash, render_template, request, url_for
from flask_babel import gettext as _

from portal.forms import parse_id
from portal.htmx import answer, hx_redirect, is_htmx
from portal.models.vouchers import ChequeProgramme
from portal.services import programmes, staff_access
from portal.services.errors import ServiceError, ValidationFailed
from portal.services.programmes import ProgrammeInput
from portal.views.staff import bp, current_staff, staff_actor

_FORM_MAX = 400


def _input() -> ProgrammeInput:
    form = request.form
    return ProgrammeInput(**{name: form.get(name, "")[:_FORM_MAX]
                             for name in ("name", "issuer", "operator", "face_value",
                                          "number_pattern", "validity_end", "grace_days")},
                          is_active=form.get("is_active") == "1")


def _sample() -> str:
    return request.form.get("sample", "")[:_FORM_MAX]


@bp.route("/cheques")
def programmes_list() -> str:
    staff = current_staff()
    return render_template("staff/cheques/list.html", programmes=programmes.listing(staff),
                           may_edit=staff.is_network_admin)


def _form(programme: ChequeProgramme | None, data: ProgrammeInput, *,
          errors: dict[str, str] | None = None, refused: bool = False,
          message: str = "", tried: bool = False) -> Response:
    context: dict[str, Any] = {"programme": programme, "values": asdict(data),
                               "errors": errors or {}, "message": message,
                               "sample": _sample() if request.method == "POST" else "",
                               "pattern_max": programmes.PATTERN_MAX}
    if tried:
        context["result"] = programmes.try_number(data.number_pattern.strip(),
                                                  context["sample"])
    return answer("staff/cheques/form.html", "staff/cheques/form.html", refused=refused,
                  **context)


def _save(programme: ChequeProgramme | None) -> Response:
    data = _input()
    if request.form.get("intent") == "try":  # the "Tester" button, without JavaScript
        return _form(programme, data, tried=True)
    try:
        if programme is None:
            programme = programmes.create(data, actor=staff_actor())
            flash(_("Le dispositif « %(name)s » est créé.", name=programme.name), "success")
        else:
            changed = programmes.update(programme, data, actor=staff_actor())
            flash(_("Le dispositif « %(name)s » est modifié.", name=programme.name)
                  if changed else _("Rien n'a changé."), "success" if changed else "info")
    except ServiceError as error:
        if not isinstance(error, ValidationFailed):
            raise
        fields = dict(error.details.get("fields") or {})
        return _form(programme, data, errors=fields, refused=True,
                     message="" if fields else error.message)
    return hx_redirect(url_for("staff.programme_detail", programme_id=programme.id))


@bp.route("/cheques/nouveau", methods=["GET", "POST"])
def programme_new() -> Response:
    staff_access.require_network_admin(current_staff())
    if request.method == "GET":
        return _form(None, ProgrammeInput())
    return _save(None)


@bp.route("/cheques/<int:programme_id>/modifier", methods=["GET", "POST"])
def programme_edit(programme_id: int) -> Response:
    staff = current_staff()
    programme = programmes.programme_for(staff, programme_id)
    staff_access.require_network_admin(staff)
    if request.method == "GET":
        return _form(programme, ProgrammeInput.of(programme))
    return _save(programme)


@bp.route("/cheques/essai", methods=["POST"])
def programme_try() -> Response:
    """The live test of a number pattern (htmx, as one types)."""
    staff_access.require_network_admin(current_staff())
    if not is_htmx():  # a plain post: the whole form, with the answer
        return _form(None, _input(), tried=True)
    matched, text = programmes.try_number(request.form.get("number_pattern", "")
                                          [:_FORM_MAX].strip(), _sample())
    return answer("staff/cheques/form.html", "staff/cheques/_try.html",
                  result=(matched, text))


@bp.route("/cheques/<int:programme_id>")
def programme_detail(programme_id: int) -> str:
    staff = current_staff()
    programme = programmes.programme_for(staff, programme_id)
    page = programmes.cheques_of(staff, programme, parse_id(request.args.get("page")) or 1)
    return render_template("staff/cheques/detail.html", programme=programme, page=page,
                           may_edit=staff.is_network_admin)
