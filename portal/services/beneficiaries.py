"""What a beneficiary may change about themselves: contact details and language."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from portal.extensions import db
from portal.models.people import Beneficiary
from portal.models.vocab import Language
from portal.services.accounts import normalise_email
from portal.services.audit import Actor, record
from portal.services.errors import ValidationFailed

_PHONE = re.compile(r"^\+?[0-9]{9,15}$")
_POSTCODE = re.compile(r"^[0-9]{5}$")


def normalise_phone(raw: str) -> str:
    """``06 12 34 56 78`` → ``0612345678``; refuses what is not a phone number."""
    compact = re.sub(r"[\s.\-()]", "", raw or "")
    if not compact:
        return ""
    if not _PHONE.match(compact):
        raise ValidationFailed("phone_invalid",
                               _("Le numéro de téléphone n'est pas valide (10 chiffres)."),
                               field="phone")
    return compact


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_COMMUNE_LENGTH = 80


def _commune(raw: str) -> str:
    commune = (raw or "").strip()
    if _CONTROL.search(commune):
        raise ValidationFailed("commune_invalid",
                               _("Le nom de la commune contient un caractère invisible "
                                 "(tabulation, retour à la ligne…) : écrivez-le à nouveau."),
                               field="commune")
    if len(commune) > MAX_COMMUNE_LENGTH:
        raise ValidationFailed("commune_too_long", _("Le nom de la commune est trop long."),
                               field="commune")
    return commune


def _postcode(raw: str) -> str:
    postcode = (raw or "").strip()
    if postcode and not _POSTCODE.match(postcode):
        raise ValidationFailed("postcode_invalid", _("Le code postal a 5 chiffres."),
                               field="postcode")
    return postcode


def _language(raw: str) -> Language:
    try:
        return Language(raw)
    except ValueError:
        raise ValidationFailed("language_unknown", _("Choisissez une langue dans la liste."),
                               field="language") from None


def update_contact(person: Beneficiary, *, phone: str, has_no_phone: bool, email: str,
                   commune: str, postcode: str, language: str, actor: Actor) -> list[str]:
    """Change contact details; returns the names of the fields that changed.

    Every field is checked before anything is refused, so the person sees all the problems
    of a submission at once: ``ValidationFailed.details['fields']`` maps each field refused
    to its message (the error itself carries the first one).
    """
    checks = {
        "phone": lambda: "" if has_no_phone else normalise_phone(phone),
        "email": lambda: normalise_email(email) if (email or "").strip() else "",
        "commune": lambda: _commune(commune),
        "postcode": lambda: _postcode(postcode),
        "preferred_language": lambda: _language(language),
    }
    values: dict[str, object] = {"has_no_phone": bool(has_no_phone)}
    refused: list[ValidationFailed] = []
    for name, check in checks.items():
        try:
            values[name] = check()
        except ValidationFailed as error:
            refused.append(error)
    if refused:
        first = refused[0]
        raise ValidationFailed(first.code, first.message, field=first.details.get("field"),
                               fields={e.details["field"]: e.message for e in refused})
    changed = [name for name, value in values.items() if getattr(person, name) != value]
    for name in changed:
        setattr(person, name, values[name])
    if changed:
        # Field names only: the audit trail does not copy personal data.
        record(actor, "beneficiary.contact_changed", object_type="beneficiary",
               object_id=person.id, fields=changed)
    db.session.commit()
    return changed
