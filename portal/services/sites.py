"""A site's settings: its details, the wording of its documents, its limits, logo and signature.

An administrator of the site (``Action.EDIT_SITE``) changes them; every limit of the ``site``
table's checks is refused in words before the database would. Images go through
``services/uploads.py`` (checked by their content, re-encoded as PNG) and are stored in the
database; every change is audited with the fields that changed (an image by its size and
digest, never its bytes).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from typing import Any

from flask_babel import gettext as _

from portal.extensions import db
from portal.models.people import Site, StaffMember
from portal.services import audit, staff_access, uploads
from portal.services.accounts import create_site
from portal.services.audit import Actor
from portal.services.errors import NotFound, ValidationFailed
from portal.services.staff_access import Action
from portal.services.workshops import changes, check_number, check_text

#: the ``site`` table's checks.
DEADLINE_RANGE = (0, 10080)
IDLE_RANGE = (5, 120)
BOOKINGS_RANGE = (1, 50)
#: months without activity before a person is anonymised (services/personal_data.py purge).
RETENTION_RANGE = (6, 60)
TEXT_MAX = 2000  # opening hours, the régie's wording

#: text fields → their longest value (the columns' lengths), and whether lines are kept.
TEXTS: dict[str, tuple[int, bool]] = {
    "name": (120, False), "address": (200, False), "postcode": (10, False),
    "city": (80, False), "phone": (20, False), "email": (254, False),
    "opening_hours": (TEXT_MAX, True), "aptic_accreditation": (40, False),
    "other_accreditation": (120, False), "signatory_name": (120, False),
    "signatory_role": (120, False), "regie_mention": (TEXT_MAX, True),
    "regisseur_name": (120, False), "regisseur_role": (120, False),
    "receipt_signatory_role": (120, False),
}
NUMBERS = {"cancellation_deadline_minutes": DEADLINE_RANGE,
           "idle_timeout_minutes": IDLE_RANGE, "max_upcoming_bookings": BOOKINGS_RANGE,
           "retention_months": RETENTION_RANGE}

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_POSTCODE = re.compile(r"[0-9]{5}")
_PHONE = re.compile(r"[0-9+().\s]*")


@dataclass
class SiteInput:
    """What the settings form sends, as typed."""

    name: str = ""
    address: str = ""
    postcode: str = ""
    city: str = ""
    phone: str = ""
    email: str = ""
    opening_hours: str = ""
    aptic_accreditation: str = ""
    other_accreditation: str = ""
    signatory_name: str = ""
    signatory_role: str = ""
    regie_mention: str = ""
    regisseur_name: str = ""
    regisseur_role: str = ""
    receipt_signatory_role: str = ""
    cancellation_deadline_minutes: str = "120"
    idle_timeout_minutes: str = "20"
    max_upcoming_bookings: str = "5"
    retention_months: str = "12"

    @classmethod
    def of(cls, site: Site) -> SiteInput:
        return cls(**{f.name: str(getattr(site, f.name) or "") for f in fields(cls)})


def editable_sites(staff: StaffMember) -> list[Site]:
    """The active sites whose settings the staff member may change, by name."""
    return staff_access.sites_for(staff, Action.EDIT_SITE)


def site_for(staff: StaffMember, site_id: int, action: Action = Action.EDIT_SITE) -> Site:
    """A site the staff member may act on (404 without a role there, 403 without the action)."""
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound("not_found", _("Cette page n'existe pas ou n'existe plus."))
    staff_access.require(staff, action, site.id)
    return site


def _check(data: SiteInput) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, (maximum, multiline) in TEXTS.items():
        values[name] = check_text(errors, name, getattr(data, name), maximum=maximum,
                                  multiline=multiline)
    if not values["name"] and "name" not in errors:
        errors["name"] = _("Écrivez le nom du lieu.")
    if values["email"] and "email" not in errors and not _EMAIL.fullmatch(values["email"]):
        errors["email"] = _("Écrivez une adresse e-mail complète, par exemple "
                            "accueil@mairie.fr.")
    values["email"] = values["email"].lower()
    if values["postcode"] and "postcode" not in errors \
            and not _POSTCODE.fullmatch(values["postcode"]):
        errors["postcode"] = _("Écrivez un code postal de 5 chiffres.")
    if values["phone"] and "phone" not in errors and not _PHONE.fullmatch(values["phone"]):
        errors["phone"] = _("Écrivez un numéro de téléphone avec des chiffres, des espaces "
                            "et « + » seulement.")
    values["cancellation_deadline_minutes"] = check_number(
        errors, "cancellation_deadline_minutes", data.cancellation_deadline_minutes,
        *DEADLINE_RANGE, _("Écrivez un délai en minutes, entre %(low)d et %(high)d (7 jours).",
                           low=DEADLINE_RANGE[0], high=DEADLINE_RANGE[1]))
    values["idle_timeout_minutes"] = check_number(
        errors, "idle_timeout_minutes", data.idle_timeout_minutes, *IDLE_RANGE,
        _("Écrivez une durée en minutes, entre %(low)d et %(high)d.", low=IDLE_RANGE[0],
          high=IDLE_RANGE[1]))
    values["max_upcoming_bookings"] = check_number(
        errors, "max_upcoming_bookings", data.max_upcoming_bookings, *BOOKINGS_RANGE,
        _("Écrivez un nombre de réservations entre %(low)d et %(high)d.",
          low=BOOKINGS_RANGE[0], high=BOOKINGS_RANGE[1]))
    values["retention_months"] = check_number(
        errors, "retention_months", data.retention_months, *RETENTION_RANGE,
        _("Écrivez une durée en mois, entre %(low)d et %(high)d.",
          low=RETENTION_RANGE[0], high=RETENTION_RANGE[1]))
    if errors:
        raise ValidationFailed("site_invalid", next(iter(errors.values())), fields=errors)
    return values


def _snapshot(site: Site) -> dict[str, Any]:
    return {name: getattr(site, name) for name in (*TEXTS, *NUMBERS)}


def update(site: Site, data: SiteInput, *, actor: Actor) -> dict[str, Any]:
    """Save the settings; the changed fields (nothing is written when none changed). Issued
    documents keep what they said: their snapshot never changes."""
    staff_access.require_actor(actor, Action.EDIT_SITE, site.id)
    values = _check(data)
    before = _snapshot(site)
    for name, value in values.items():
        setattr(site, name, value)
    changed = changes(before, _snapshot(site))
    if changed:
        audit.record(actor, "site.updated", object_type="site", object_id=site.id,
                     site_id=site.id, changes=changed)
    db.session.commit()
    return changed


# --- images ----------------------------------------------------------------------------------

#: which image → (its column, its audit name).
IMAGES = {"logo": "logo", "signature": "signature_image"}


def _described(data: bytes | None) -> dict[str, Any] | None:
    if not data:
        return None
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def set_image(site: Site, which: str, raw: bytes | None, *, actor: Actor) -> uploads.CleanImage:
    """Replace the site's logo or signature image by the clean PNG of ``raw``."""
    staff_access.require_actor(actor, Action.EDIT_SITE, site.id)
    column = IMAGES[which]
    image = uploads.clean_image(raw, field=which)
    before = _described(getattr(site, column))
    setattr(site, column, image.data)
    if which == "logo":
        site.logo_mime = image.mime
    audit.record(actor, f"site.{which}_set", object_type="site", object_id=site.id,
                 site_id=site.id, changes={which: {"before": before,
                                                   "after": _described(image.data)}},
                 width=image.width, height=image.height)
    db.session.commit()
    return image


def remove_image(site: Site, which: str, *, actor: Actor) -> bool:
    """Remove the logo or the signature image; False when there was none."""
    staff_access.require_actor(actor, Action.EDIT_SITE, site.id)
    column = IMAGES[which]
    before = _described(getattr(site, column))
    if before is None:
        return False
    setattr(site, column, None)
    if which == "logo":
        site.logo_mime = None
    audit.record(actor, f"site.{which}_removed", object_type="site", object_id=site.id,
                 site_id=site.id, changes={which: {"before": before, "after": None}})
    db.session.commit()
    return True


def image_of(site: Site, which: str) -> bytes | None:
    return getattr(site, IMAGES[which])


def create(staff: StaffMember, *, code: str, name: str, actor: Actor) -> Site:
    """A new site of the network (network administrators only): its code, printed in document
    numbers and never changed, and its name; the rest is set on its settings page."""
    staff_access.require_network_admin(staff)
    return create_site(code=code, name=(name or "")[:200], actor=actor)
