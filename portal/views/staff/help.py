"""Staff: individual help (*accompagnement individuel*) — the site's list, recording one in
under 30 seconds, its page (cheques and their receipt), editing and deleting it. Rules:
``services/accompaniments.py`` and ``services/vouchers.py``."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.extensions import db
from portal.formatting import euros
from portal.forms import parse_id
from portal.htmx import answer, hx_redirect
from portal.models.bookings import Accompaniment
from portal.models.people import Beneficiary
from portal.models.vocab import (
    AGE_BRACKETS,
    AdminSubtheme,
    Autonomy,
    Equipment,
    Gender,
    PlaceType,
    SocialStatus,
    Theme,
)
from portal.services import accompaniments, people, staff_access, vouchers
from portal.services.accompaniments import Filters, HelpInput
from portal.services.errors import ServiceError, ValidationFailed
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor

_FORM_MAX = 4000  # a field longer than this is cut before checking (the service refuses it)


def _field(name: str) -> str:
    return request.form.get(name, "")[:_FORM_MAX]


def _input() -> HelpInput:
    return HelpInput(
        site=_field("site"), person=_field("person"), day=_field("day"), hour=_field("hour"),
        duration=_field("duration"), duration_other=_field("duration_other"),
        themes=request.form.getlist("themes")[:40],
        subthemes=request.form.getlist("subthemes")[:40],
        equipment=_field("equipment"), place=_field("place"), autonomy=_field("autonomy"),
        referred=_field("referred") or "0", referred_to=_field("referred_to"),
        notes=_field("notes"), gender=_field("gender"), age_bracket=_field("age_bracket"),
        social_status=_field("social_status"), commune=_field("commune"),
        postcode=_field("postcode"))


def _vocabularies() -> dict[str, Any]:
    return {"themes": list(Theme), "subthemes": list(AdminSubtheme),
            "equipments": list(Equipment), "places": list(PlaceType),
            "autonomies": list(Autonomy), "genders": list(Gender),
            "statuses": list(SocialStatus),
            "age_codes": [code for _low, _high, code in AGE_BRACKETS],
            "presets": accompaniments.DURATION_PRESETS,
            "other_duration": accompaniments.OTHER_DURATION,
            "limits": {"notes": accompaniments.NOTES_MAX,
                       "referred_to": accompaniments.REFERRED_TO_MAX,
                       "commune": accompaniments.COMMUNE_MAX}}


def _person_of(data: HelpInput) -> Beneficiary | None:
    person_id = parse_id(data.person)
    return db.session.get(Beneficiary, person_id) if person_id is not None else None


def _form(help_: Accompaniment | None, data: HelpInput, *,
          errors: dict[str, str] | None = None, refused: bool = False,
          message: str = "") -> Response:
    staff = current_staff()
    person = _person_of(data)
    if person is not None and not people.can_see(staff, person) and (
            help_ is None or help_.beneficiary_id != person.id):
        person = None
    return answer("staff/help/form.html", "staff/help/form.html", refused=refused,
                  help=help_, data=data, person=person, errors=errors or {},
                  message=message, sites=accompaniments.site_choices(staff),
                  **_vocabularies())


def _refused(help_: Accompaniment | None, data: HelpInput, error: ServiceError) -> Response:
    if not isinstance(error, ValidationFailed):
        if error.status in (403, 404):
            raise error
        return _form(help_, data, refused=True, message=error.message)
    fields = dict(error.details.get("fields") or {})
    return _form(help_, data, errors=fields, refused=True,
                 message="" if fields else error.message)


@bp.route("/accompagnements")
def help_list() -> str:
    staff = current_staff()
    sites = accompaniments.site_choices(staff)
    filters = Filters.parse(request.args)
    site = next((s for s in sites if s.id == filters.site_id), sites[0] if sites else None)
    context: dict[str, Any] = {"sites": sites, "site": site, "filters": filters,
                               "themes": list(Theme), "places": list(PlaceType)}
    if site is not None:
        context["listing"] = accompaniments.listing(staff, filters, site.id)
        context["authors"] = accompaniments.authors(site.id)
        context["changeable"] = {h.id for h in context["listing"].items
                                 if accompaniments.may_change(staff, h)}
        person = (db.session.get(Beneficiary, filters.person_id)
                  if filters.person_id else None)
        context["person"] = person if person is not None and people.can_see(staff, person) \
            else None
    return render_template("staff/help/list.html", **context)


@bp.route("/accompagnements/nouveau", methods=["GET", "POST"])
def help_new() -> Response:
    staff = current_staff()
    if request.method == "GET":
        person_id = parse_id(request.args.get("personne"))
        person = db.session.get(Beneficiary, person_id) if person_id is not None else None
        if person is not None and not people.can_see(staff, person):
            person = None
        return _form(None, HelpInput.defaults(staff, person))
    data = _input()
    try:
        help_ = accompaniments.record(data, actor=staff_actor())
    except ServiceError as error:
        return _refused(None, data, error)
    flash(_("Accompagnement noté."), "success")
    return hx_redirect(url_for("staff.help_detail", help_id=help_.id))


def _detail_context(help_: Accompaniment) -> dict[str, Any]:
    staff = current_staff()
    person = help_.beneficiary
    return {"help": help_, "person": person if person is not None
            and people.can_see(staff, person) else None,
            "payment": vouchers.help_payment(help_),
            "receipts": vouchers.receipts_of(help_),
            "programmes": vouchers.active_programmes(),
            "may_change": accompaniments.may_change(staff, help_),
            "may_take": staff_access.can(staff, Action.TAKE_CHEQUES, help_.site_id),
            "cheque_input": "", "refusals": [], "message": ""}


@bp.route("/accompagnements/<int:help_id>")
def help_detail(help_id: int) -> str:
    help_ = accompaniments.help_for(current_staff(), help_id)
    return render_template("staff/help/detail.html", **_detail_context(help_))


@bp.route("/accompagnements/<int:help_id>/modifier", methods=["GET", "POST"])
def help_edit(help_id: int) -> Response:
    help_ = accompaniments.help_for(current_staff(), help_id, change=True)
    if request.method == "GET":
        return _form(help_, HelpInput.of(help_))
    data = _input()
    try:
        changed = accompaniments.update(help_, data, actor=staff_actor())
    except ServiceError as error:
        return _refused(help_, data, error)
    flash(_("Accompagnement modifié.") if changed else _("Rien n'a changé."),
          "success" if changed else "info")
    return hx_redirect(url_for("staff.help_detail", help_id=help_.id))


@bp.route("/accompagnements/<int:help_id>/supprimer", methods=["GET", "POST"])
def help_remove(help_id: int) -> Response:
    help_ = accompaniments.help_for(current_staff(), help_id, change=True)
    paid = accompaniments.paid_cheques(help_)
    if request.method == "GET":
        return answer("staff/help/delete.html", "staff/help/delete.html", help=help_,
                      paid=paid, message="")
    try:
        accompaniments.delete(help_, actor=staff_actor())
    except ServiceError as error:
        if error.status in (403, 404):
            raise
        return answer("staff/help/delete.html", "staff/help/delete.html", refused=True,
                      help=help_, paid=paid, message=error.message)
    flash(_("Accompagnement supprimé."), "success")
    return hx_redirect(url_for("staff.help_list", site=help_.site_id))


@bp.route("/accompagnements/<int:help_id>/cheques", methods=["POST"])
def help_cheques(help_id: int) -> Response:
    help_ = accompaniments.help_for(current_staff(), help_id)
    raw = request.form.get("numbers", "")[:2000]
    programme = parse_id(request.form.get("programme_id"))
    try:
        done = vouchers.redeem_cheques(help_, raw, actor=staff_actor(), programme_id=programme)
    except ServiceError as error:
        if error.status in (403, 404):
            raise
        context = _detail_context(help_)
        context.update(cheque_input=raw, message=error.message,
                       refusals=getattr(error, "refusals", []))
        return answer("staff/help/detail.html", "staff/help/detail.html", refused=True,
                      **context)
    message = ngettext("%(num)d chèque pris", "%(num)d chèques pris", len(done.cheques))
    message += f" ({euros(sum(c.value_cents for c in done.cheques))})."
    if done.receipt is not None:
        message += " " + _("Reçu n° %(number)s prêt à imprimer.", number=done.receipt.number)
    else:
        message += " " + _("Le reçu n'a pas pu être édité : cliquez sur « Éditer le reçu ».")
    flash(message, "success")
    return hx_redirect(url_for("staff.help_detail", help_id=help_.id))


@bp.route("/accompagnements/<int:help_id>/recu", methods=["POST"])
def help_receipt(help_id: int) -> Response:
    help_ = accompaniments.help_for(current_staff(), help_id)
    try:
        document = vouchers.issue_missing_receipt(help_, actor=staff_actor())
    except ServiceError as error:
        if error.status in (403, 404):
            raise
        flash(error.message, "error")
    else:
        flash(_("Reçu n° %(number)s prêt à imprimer.", number=document.number), "success")
    return hx_redirect(url_for("staff.help_detail", help_id=help_.id))
