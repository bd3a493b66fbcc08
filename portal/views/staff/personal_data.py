"""Staff: a person's personal data — everything held on them (JSON and PDF, on request) and
their anonymisation (a confirmation screen; no undo). Rules: ``services/personal_data.py``."""

from __future__ import annotations

from flask import Response, flash, request, url_for
from flask_babel import gettext as _

from portal.access import staff_person_or_404
from portal.downloads import file_response, pdf_response
from portal.htmx import answer, hx_redirect
from portal.models.people import Beneficiary
from portal.services import personal_data, registration
from portal.services.errors import ServiceError, ValidationFailed
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor


def export_response(person: Beneficiary, form: str, data: dict) -> Response:
    name = f"donnees-personnelles-{person.id}"
    if form == "pdf":
        return pdf_response(personal_data.as_pdf(data), f"{name}.pdf")
    return file_response(personal_data.as_json(data), "application/json", f"{name}.json")


@bp.route("/beneficiaires/<int:person_id>/donnees.pdf", methods=["POST"],
          defaults={"form": "pdf"})
@bp.route("/beneficiaires/<int:person_id>/donnees.json", methods=["POST"],
          defaults={"form": "json"})
def person_data_export(person_id: int, form: str) -> Response:
    person = staff_person_or_404(person_id)
    data = personal_data.export(person, actor=staff_actor(), form=form, staff=current_staff())
    return export_response(person, form, data)


@bp.route("/beneficiaires/<int:person_id>/anonymiser", methods=["GET", "POST"])
def person_anonymise(person_id: int) -> Response:
    staff = current_staff()
    person = staff_person_or_404(person_id)
    registration.require(staff, Action.ANONYMISE_PERSON, person)
    if request.method == "GET":
        return answer("staff/anonymise.html", "staff/anonymise.html", person=person,
                      errors={}, typed="")
    typed = request.form.get("first_name", "")[:200]
    ticked = request.form.get("confirm") == "1"
    try:
        personal_data.anonymise_on_request(staff, person, typed=typed, ticked=ticked,
                                           actor=staff_actor())
    except ValidationFailed as error:
        return answer("staff/anonymise.html", "staff/anonymise.html", refused=True,
                      person=person, errors={"first_name": error.message}, typed=typed)
    except ServiceError:
        raise
    flash(_("La fiche est anonymisée : le nom, les coordonnées et les notes sont effacés."),
          "success")
    return hx_redirect(url_for("staff.people_search"))
