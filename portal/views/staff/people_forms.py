"""The desk's forms about a person: register a new one (with the duplicate check), correct
their details and notes, reset their access. Rules: ``services/registration.py``."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _

from portal.access import staff_person_or_404
from portal.extensions import db
from portal.forms import parse_id
from portal.htmx import answer, hx_redirect
from portal.models.people import Beneficiary
from portal.models.vocab import ContactChannel, Gender, Language, SocialStatus
from portal.services import merging, registration
from portal.services.errors import ServiceError, ValidationFailed
from portal.services.registration import Duplicate, LikelyDuplicates, PersonInput
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor

_FORM_MAX = 5000


def _field(name: str) -> str:
    return request.form.get(name, "")[:_FORM_MAX]


def person_input() -> PersonInput:
    """The person form as sent (also used by the check-in screen's "new person")."""
    return PersonInput(
        first_name=_field("first_name"), last_name=_field("last_name"), phone=_field("phone"),
        has_no_phone=request.form.get("has_no_phone") == "1", email=_field("email"),
        birth_year=_field("birth_year"), commune=_field("commune"),
        postcode=_field("postcode"),
        gender=_field("gender") or Gender.UNDISCLOSED.value,
        social_status=_field("social_status") or SocialStatus.UNDISCLOSED.value,
        language=_field("language") or Language.FR.value, channel=_field("channel"),
        site=_field("site"), staff_notes=_field("staff_notes"))


def vocabularies() -> dict[str, Any]:
    return {"genders": list(Gender), "statuses": list(SocialStatus),
            "languages": list(Language), "channels": list(ContactChannel),
            "limits": {"name": registration.NAME_MAX, "phone": registration.PHONE_MAX,
                       "email": registration.EMAIL_MAX, "commune": registration.COMMUNE_MAX,
                       "notes": registration.NOTES_MAX}}


def field_errors(error: ServiceError) -> tuple[dict[str, str], str]:
    """The refusal's messages by field, and the one without a field."""
    if not isinstance(error, ValidationFailed):
        raise error  # 403 / 404: the error pages
    fields = dict(error.details.get("fields") or {})
    return fields, "" if fields else error.message


def _form(person: Beneficiary | None, data: PersonInput, *, errors: dict[str, str] | None = None,
          refused: bool = False, message: str = "",
          found: list[Duplicate] | None = None) -> Response:
    return answer("staff/person_form.html", "staff/person_form.html", refused=refused,
                  person=person, data=data, errors=errors or {}, message=message,
                  found=found or [], sites=registration.site_choices(current_staff()),
                  **vocabularies())


@bp.route("/beneficiaires/nouveau", methods=["GET", "POST"])
def person_new() -> Response:
    staff = current_staff()
    if request.method == "GET":
        sites = registration.site_choices(staff)
        return _form(None, PersonInput(site=str(sites[0].id) if sites else ""))
    data = person_input()
    try:
        person = registration.register(data, actor=staff_actor(),
                                       not_a_duplicate=request.form.get("confirmed") == "1")
    except LikelyDuplicates as duplicates:
        return _form(None, data, found=duplicates.found)
    except ServiceError as error:
        errors, message = field_errors(error)
        return _form(None, data, errors=errors, refused=True, message=message)
    flash(_("%(name)s est enregistré(e). Imprimez sa carte d'accès maintenant.",
            name=person.display_name), "success")
    return hx_redirect(url_for("staff.person", person_id=person.id, nouveau=1))


@bp.route("/beneficiaires/<int:person_id>/modifier", methods=["GET", "POST"])
def person_edit(person_id: int) -> Response:
    person = staff_person_or_404(person_id)
    if request.method == "GET":
        registration.require(current_staff(), Action.EDIT_PERSON, person)
        return _form(person, PersonInput.of(person))
    data = person_input()
    try:
        changed = registration.update(person, data, actor=staff_actor())
    except ServiceError as error:
        errors, message = field_errors(error)
        return _form(person, data, errors=errors, refused=True, message=message)
    flash(_("La fiche est modifiée.") if changed else _("Rien n'a changé."),
          "success" if changed else "info")
    return hx_redirect(url_for("staff.person", person_id=person.id))


@bp.route("/beneficiaires/<int:person_id>/acces", methods=["POST"])
def reset_access(person_id: int) -> Response:
    person = staff_person_or_404(person_id)
    registration.reset_access(person, actor=staff_actor())
    flash(_("L'ancien code et le mot de passe de %(name)s ne marchent plus, et ses connexions "
            "ouvertes sont fermées. Imprimez la nouvelle carte d'accès.",
            name=person.first_name), "success")
    return hx_redirect(url_for("staff.person", person_id=person.id, nouveau=1))


# --- merging two records ------------------------------------------------------------------------


def _other_from(raw: str) -> Beneficiary | None:
    other_id = parse_id(raw)
    return db.session.get(Beneficiary, other_id) if other_id else None


@bp.route("/beneficiaires/<int:person_id>/fusionner", methods=["GET", "POST"])
def person_merge(person_id: int) -> Response:
    staff = current_staff()
    kept = staff_person_or_404(person_id)
    registration.require(staff, Action.MERGE_PEOPLE, kept)
    raw_other = (request.form.get("other_id", "") if request.method == "POST"
                 else request.args.get("autre", ""))[:20]
    other = _other_from(raw_other)
    if raw_other and other is None:
        abort(404)
    if other is not None:
        merging.require_pair(staff, kept, other)
    if request.method == "GET" or other is None:
        text = request.args.get("q", "")[:80]
        found = merging.candidates(staff, kept, text) if text and other is None else []
        return answer("staff/merge.html", "staff/merge.html", person=kept, other=other,
                      text=text, found=found,
                      rows=merging.comparison(kept, other) if other else [],
                      refused=request.method == "POST")
    take = [name for name in merging.FIELDS
            if request.form.get(f"keep_{name}") == "other"]
    merging.merge(kept, other, take_from_other=take, actor=staff_actor())
    flash(_("Les deux fiches n'en font plus qu'une : tout ce qui était sur l'autre fiche est "
            "maintenant ici."), "success")
    return hx_redirect(url_for("staff.person", person_id=kept.id))
