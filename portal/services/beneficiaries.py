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


def update_contact(person: Beneficiary, *, phone: str, has_no_phone: bool, email: str,
                   commune: str, postcode: str, language: str, actor: Actor) -> list[str]:
    """Change contact details; returns the names of the fields that changed."""
    values = {
        "phone": "" if has_no_phone else normalise_phone(phone),
        "has_no_phone": bool(has_no_phone),
        "email": normalise_email(email) if (email or "").strip() else "",
        "commune": (commune or "").strip(),
        "postcode": (postcode or "").strip(),
    }
    if len(values["commune"]) > 80:
        raise ValidationFailed("commune_too_long", _("Le nom de la commune est trop long."),
                               field="commune")
    if values["postcode"] and not _POSTCODE.match(values["postcode"]):
        raise ValidationFailed("postcode_invalid", _("Le code postal a 5 chiffres."),
                               field="postcode")
    try:
        values["preferred_language"] = Language(language)
    except ValueError:
        raise ValidationFailed("language_unknown", _("Langue inconnue."),
                               field="language") from None
    changed = [name for name, value in values.items() if getattr(person, name) != value]
    for name in changed:
        setattr(person, name, values[name])
    if changed:
        # Field names only: the audit trail does not copy personal data.
        record(actor, "beneficiary.contact_changed", object_type="beneficiary",
               object_id=person.id, fields=changed)
    db.session.commit()
    return changed
