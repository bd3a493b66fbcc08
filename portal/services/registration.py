"""The desk registers people and corrects their details; it resets a person's access.

Only the first name is required (docs/domain.md#beneficiary-attributes); every other field of
the national model is optional and checked here, each refusal with a code and the field it
concerns. Before a new record is saved the likely duplicates among the people the staff member
may see are looked for (:func:`duplicates`); the desk then confirms it is someone else.
Every change is audited with the names of the fields that changed and their new values, except
the staff notes, whose text is never written to the audit trail (it may say anything about the
person): only that they changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_

from portal.clock import now
from portal.extensions import db
from portal.folding import fold, person_search_key, phone_digits
from portal.forms import parse_id
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.vocab import ContactChannel, Gender, Language, SocialStatus
from portal.services import accounts, audit, login_sessions, people, staff_access
from portal.services.audit import Actor
from portal.services.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.services.messages import sms_number
from portal.services.staff_access import Action

NAME_MAX = 80
PHONE_MAX = 20
EMAIL_MAX = 254
COMMUNE_MAX = 80
NOTES_MAX = 4000
BIRTH_YEAR_MIN = 1900
#: how many likely duplicates are shown at most.
DUPLICATES_MAX = 8

_PHONE = re.compile(r"\+?[0-9 .\-/()]{6,20}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_POSTCODE = re.compile(r"(?:[0-9]{5}|2[AB][0-9]{3})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

#: the fields the desk edits, in form order (the audit names them so).
FIELDS = ("first_name", "last_name", "phone", "has_no_phone", "email", "birth_year",
          "commune", "postcode", "gender", "social_status", "preferred_language",
          "preferred_channel", "home_site_id", "staff_notes")
#: never written to the audit trail, only named.
SECRET_FIELDS = frozenset({"staff_notes"})


@dataclass
class PersonInput:
    """What the person form sends, as typed (strings): the service checks every field."""

    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    has_no_phone: bool = False
    email: str = ""
    birth_year: str = ""
    commune: str = ""
    postcode: str = ""
    gender: str = Gender.UNDISCLOSED.value
    social_status: str = SocialStatus.UNDISCLOSED.value
    language: str = Language.FR.value
    channel: str = ""  # "" = automatic
    site: str = ""  # the usual site's id
    staff_notes: str = ""

    @classmethod
    def of(cls, person: Beneficiary) -> PersonInput:
        return cls(first_name=person.first_name, last_name=person.last_name,
                   phone=person.phone, has_no_phone=person.has_no_phone, email=person.email,
                   birth_year=str(person.birth_year or ""), commune=person.commune,
                   postcode=person.postcode, gender=person.gender.value,
                   social_status=person.social_status.value,
                   language=person.preferred_language.value,
                   channel=person.preferred_channel.value if person.preferred_channel else "",
                   site=str(person.home_site_id or ""), staff_notes=person.staff_notes)


@dataclass
class Duplicate:
    """A person who may be the one being registered, and why."""

    person: Beneficiary
    reasons: list[str] = field(default_factory=list)

    @property
    def reason_labels(self) -> list[str]:
        labels = {"same_name_year": _("même nom et même année de naissance"),
                  "same_phone": _("même téléphone"), "same_email": _("même e-mail"),
                  "similar_name": _("nom proche")}
        return [labels[r] for r in self.reasons]


class LikelyDuplicates(Conflict):
    """Someone like this person is already known: the desk confirms before saving."""

    def __init__(self, found: list[Duplicate]) -> None:
        super().__init__("likely_duplicates",
                         _("Cette personne est peut-être déjà enregistrée."))
        self.found = found


# --- where --------------------------------------------------------------------------------------


def site_choices(staff: StaffMember) -> list[Site]:
    """The sites where the staff member may register people (the first is the default)."""
    return staff_access.sites_for(staff, Action.REGISTER_PERSON)


def person_sites(person: Beneficiary) -> set[int]:
    """The sites a person belongs to: their usual site and those of the sessions they booked."""
    booked = db.session.scalars(
        db.select(WorkshopSession.site_id).join(Booking, Booking.session_id == WorkshopSession.id)
        .where(Booking.beneficiary_id == person.id).distinct())
    sites = set(booked)
    if person.home_site_id is not None:
        sites.add(person.home_site_id)
    return sites


def may(staff: StaffMember, action: Action, person: Beneficiary) -> bool:
    """May the staff member do ``action`` for the person at one of the person's sites?"""
    if staff.is_network_admin:
        return True
    return any(staff_access.can(staff, action, s) for s in person_sites(person))


def require(staff: StaffMember, action: Action, person: Beneficiary) -> None:
    """A 404 for a person the staff member may not see, a 403 when no role of theirs at the
    person's sites allows ``action``."""
    people.require_visible(staff, person)
    if person.merged_into_id is not None:
        raise NotFound("person_merged", _("Cette fiche a été fusionnée avec une autre."))
    if not may(staff, action, person):
        raise NotAllowed("role_required", _("Votre rôle ne permet pas cette action."))


# --- checking the form --------------------------------------------------------------------------


def _line(value: str, limit: int, name: str, label: str, errors: dict[str, str]) -> str:
    value = " ".join(_CONTROL.sub(" ", value or "").split())
    if len(value) > limit:
        errors[name] = _("%(label)s : %(max)d caractères au plus.", label=label, max=limit)
    return value


def _choice(enum_class: Any, raw: str, name: str, errors: dict[str, str]) -> Any:
    try:
        return enum_class(raw)
    except ValueError:
        errors[name] = _("Choisissez une valeur dans la liste.")
        return None


def clean(data: PersonInput, staff: StaffMember, *, action: Action = Action.REGISTER_PERSON,
          current_site: int | None = None) -> dict[str, Any]:
    """The columns the form gives, checked; every problem at once (``ValidationFailed`` with
    ``fields``: field name → message)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    values["first_name"] = _line(data.first_name, NAME_MAX, "first_name", _("Prénom"), errors)
    if not values["first_name"] and "first_name" not in errors:
        errors["first_name"] = _("Indiquez le prénom.")
    values["last_name"] = _line(data.last_name, NAME_MAX, "last_name", _("Nom"), errors)
    values["has_no_phone"] = bool(data.has_no_phone)
    phone = _line(data.phone, PHONE_MAX, "phone", _("Téléphone"), errors)
    if values["has_no_phone"]:
        phone = ""
    elif phone and "phone" not in errors:
        digits = phone_digits(phone)
        if not _PHONE.fullmatch(phone) or not 6 <= len(digits) <= 15:
            errors["phone"] = _("Le téléphone s'écrit avec des chiffres, par exemple "
                                "06 12 34 56 78.")
    values["phone"] = phone
    email = _line(data.email, EMAIL_MAX, "email", _("E-mail"), errors).lower()
    if email and "email" not in errors and not _EMAIL.fullmatch(email):
        errors["email"] = _("L'adresse e-mail n'est pas complète, par exemple "
                            "nom@exemple.fr.")
    values["email"] = email
    raw_year = (data.birth_year or "").strip()
    values["birth_year"] = None
    if raw_year:
        year = parse_id(raw_year) if raw_year.isdigit() and len(raw_year) == 4 else None
        if year is None or not BIRTH_YEAR_MIN <= year <= now().year:
            errors["birth_year"] = _("L'année de naissance s'écrit sur 4 chiffres, entre "
                                     "%(first)d et %(last)d.", first=BIRTH_YEAR_MIN,
                                     last=now().year)
        else:
            values["birth_year"] = year
    values["commune"] = _line(data.commune, COMMUNE_MAX, "commune", _("Commune"), errors)
    postcode = (data.postcode or "").strip().upper()
    if postcode and not _POSTCODE.fullmatch(postcode):
        errors["postcode"] = _("Le code postal a 5 chiffres, par exemple 62680.")
    values["postcode"] = postcode
    values["gender"] = _choice(Gender, data.gender, "gender", errors)
    values["social_status"] = _choice(SocialStatus, data.social_status, "social_status",
                                      errors)
    values["preferred_language"] = _choice(Language, data.language, "language", errors)
    channel = _choice(ContactChannel, data.channel, "channel", errors) if data.channel else None
    if channel is ContactChannel.EMAIL and not email and "email" not in errors:
        errors["channel"] = _("Pour recevoir des e-mails, indiquez l'adresse e-mail.")
    if (channel is ContactChannel.SMS and "phone" not in errors
            and not (phone and sms_number(phone))):
        errors["channel"] = _("Pour recevoir des SMS, indiquez un numéro de portable.")
    values["preferred_channel"] = channel
    values["staff_notes"] = _CONTROL_IN_TEXT.sub(" ", data.staff_notes or "").strip()
    if len(values["staff_notes"]) > NOTES_MAX:
        errors["staff_notes"] = _("Les notes : %(max)d caractères au plus.", max=NOTES_MAX)
    site_id = parse_id(data.site) if data.site else None
    allowed = {s.id for s in staff_access.sites_for(staff, action)}
    unknown = site_id is None and bool(data.site)
    not_theirs = site_id is not None and site_id != current_site and site_id not in allowed
    missing = site_id is None and action is Action.REGISTER_PERSON
    if unknown or not_theirs or missing:
        errors["site"] = _("Choisissez un lieu dans la liste.")
    values["home_site_id"] = site_id
    if errors:
        first = next(iter(errors.values()))
        raise ValidationFailed("person_invalid", first, fields=errors)
    return values


# --- likely duplicates --------------------------------------------------------------------------


def duplicates(staff: StaffMember, values: dict[str, Any], *,
               other_than: int | None = None) -> list[Duplicate]:
    """People the staff member may see who may be this one: the same folded name and year of
    birth, the same phone digits, the same e-mail, or names that sound the same."""
    key = person_search_key(values["first_name"], values["last_name"])
    digits = phone_digits(values.get("phone") or "")
    email = values.get("email") or ""
    conditions: list[Any] = [Beneficiary.search_key == key]
    if len(digits) >= 6:
        conditions.append(Beneficiary.search_text.like(f"% {digits} %"))
    if email:
        conditions.append(db.func.lower(Beneficiary.email) == email)
    query = (db.select(Beneficiary)
             .where(people.visible(staff), Beneficiary.merged_into_id.is_(None), or_(*conditions))
             .order_by(Beneficiary.id).limit(DUPLICATES_MAX))
    if other_than is not None:
        query = query.where(Beneficiary.id != other_than)
    name = fold(f"{values['first_name']} {values['last_name']}")
    found = []
    for person in db.session.scalars(query):
        reasons = []
        same_name = fold(person.display_name) == name
        if same_name and values.get("birth_year") and person.birth_year == values["birth_year"]:
            reasons.append("same_name_year")
        if len(digits) >= 6 and phone_digits(person.phone) == digits:
            reasons.append("same_phone")
        if email and person.email.lower() == email:
            reasons.append("same_email")
        if person.search_key == key and "same_name_year" not in reasons:
            reasons.append("similar_name")
        found.append(Duplicate(person, reasons))
    return found


# --- writing ------------------------------------------------------------------------------------


def _audited(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def register(data: PersonInput, *, actor: Actor, not_a_duplicate: bool = False) -> Beneficiary:
    """A new person, usual site chosen among the staff member's (``LikelyDuplicates`` unless
    ``not_a_duplicate``, when someone like them is already known)."""
    staff = staff_access.staff_of(actor)
    chosen = parse_id(data.site) if data.site else None
    if chosen is not None and db.session.get(Site, chosen) is not None:
        staff_access.require(staff, Action.REGISTER_PERSON, chosen)  # 404 / 403 elsewhere
    values = clean(data, staff)
    if not not_a_duplicate:
        found = duplicates(staff, values)
        if found:
            raise LikelyDuplicates(found)
    person = Beneficiary(login_id=accounts.new_login_id(), created_by_id=staff.id, **values)
    db.session.add(person)
    db.session.flush()
    audit.record(actor, "person.registered", object_type="beneficiary", object_id=person.id,
                 site_id=person.home_site_id,
                 fields=sorted(k for k, v in values.items() if v not in ("", None, False)),
                 despite_duplicates=not_a_duplicate or None)
    db.session.commit()
    return person


def update(person: Beneficiary, data: PersonInput, *, actor: Actor) -> list[str]:
    """Correct the person's details and notes; the names of the fields that changed."""
    staff = staff_access.staff_of(actor)
    require(staff, Action.EDIT_PERSON, person)
    values = clean(data, staff, action=Action.EDIT_PERSON, current_site=person.home_site_id)
    changed = {name: value for name, value in values.items()
               if getattr(person, name) != value}
    if not changed:
        return []
    for name, value in changed.items():
        setattr(person, name, value)
    audit.record(actor, "person.edited", object_type="beneficiary", object_id=person.id,
                 site_id=person.home_site_id, fields=sorted(changed),
                 values={k: _audited(k, v) for k, v in changed.items()
                         if k not in SECRET_FIELDS})
    db.session.commit()
    return sorted(changed)


def reset_access(person: Beneficiary, *, actor: Actor) -> int:
    """The person lost their card or their password: the card's code and the password stop
    working, every open session of theirs ends; a new card (``documents.issue_login_card``)
    gives a new first-login code. The number of sessions ended."""
    staff = staff_access.staff_of(actor)
    require(staff, Action.RESET_ACCESS, person)
    person.first_login_code_hash = None
    person.first_login_code_expires_at = None
    person.password_hash = None
    ended = login_sessions.revoke_all(person, "access_reset")
    audit.record(actor, "person.access_reset", object_type="beneficiary", object_id=person.id,
                 site_id=person.home_site_id, sessions_ended=ended)
    db.session.commit()
    return ended
