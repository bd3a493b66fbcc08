"""Individual help (*accompagnement individuel*): record, edit, delete, list, a person's history.

The national activity model (docs/domain.md#activity-model): a date, a duration, at least one
theme (administrative sub-themes only with "Aide aux démarches administratives"), the equipment,
the place, the autonomy, an orientation, a free note; a named person the staff member may see,
or nobody named with the few attributes the model allows. Anyone on the team records help at a
site where they hold ``RECORD_HELP``; it is edited or deleted by its author, or by whoever holds
``EDIT_ANY_HELP`` there. Every change is audited with the fields it changed. Cheques pay it
through ``services/vouchers.py``; one paid by cheques is never deleted (a financial record).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func

from portal.clock import local, now, paris_to_utc, today_local
from portal.extensions import db
from portal.forms import parse_id
from portal.models.bookings import Accompaniment, AccompanimentSubtheme, AccompanimentTheme
from portal.models.people import Beneficiary, Site, StaffMember
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
from portal.models.vouchers import Cheque
from portal.services import audit, people, staff_access
from portal.services.audit import Actor
from portal.services.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.services.staff_access import Action
from portal.services.workshops import changes, check_text, check_themes, enum_member, sync_links

#: the national model's duration presets (minutes); any other value in range is accepted.
DURATION_PRESETS = (15, 30, 45, 60, 90, 120)
DURATION_MIN, DURATION_MAX = 1, 1440  # the table's check
#: the form's value of the duration radio that asks for another duration.
OTHER_DURATION = "autre"
NOTES_MAX = 2000
REFERRED_TO_MAX = 200
COMMUNE_MAX = 80
#: help is recorded the same day or later, never for a day more than this in the past.
PAST_DAYS = 366
UNDISCLOSED_AGE = "undisclosed"
AGE_CODES = tuple(code for _low, _high, code in AGE_BRACKETS)
PAGE_SIZE = 50
_POSTCODE = re.compile(r"[0-9]{5}")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass
class HelpInput:
    """What the form sends, as typed (strings): the service checks every field."""

    site: str = ""
    person: str = ""  # a beneficiary's id; empty: nobody named
    day: str = ""  # YYYY-MM-DD
    hour: str = ""  # HH:MM, optional
    duration: str = "30"  # a preset, OTHER_DURATION, or minutes
    duration_other: str = ""
    themes: list[str] = field(default_factory=list)
    subthemes: list[str] = field(default_factory=list)
    equipment: str = Equipment.COMPUTER.value
    place: str = PlaceType.ON_SITE.value
    autonomy: str = ""
    referred: str = "0"  # "1": oriented towards another service
    referred_to: str = ""
    notes: str = ""
    gender: str = ""
    age_bracket: str = ""
    social_status: str = ""
    commune: str = ""
    postcode: str = ""

    @classmethod
    def defaults(cls, staff: StaffMember, person: Beneficiary | None = None) -> HelpInput:
        """A new form: today, now, 30 minutes, at the centre, on a computer."""
        sites = site_choices(staff)
        moment = local(now())
        return cls(site=str(sites[0].id) if len(sites) == 1 else "",
                   person=str(person.id) if person is not None else "",
                   day=moment.date().isoformat(), hour=moment.strftime("%H:%M"))

    @classmethod
    def of(cls, help_: Accompaniment) -> HelpInput:
        """A stored individual help as its form shows it."""
        moment = local(help_.started_at)
        minutes = help_.duration_minutes
        preset = minutes in DURATION_PRESETS
        return cls(site=str(help_.site_id),
                   person=str(help_.beneficiary_id) if help_.beneficiary_id else "",
                   day=moment.date().isoformat(), hour=moment.strftime("%H:%M"),
                   duration=str(minutes) if preset else OTHER_DURATION,
                   duration_other="" if preset else str(minutes),
                   themes=[t.value for t in Theme if t in help_.themes],
                   subthemes=[s.value for s in AdminSubtheme if s in help_.subthemes],
                   equipment=help_.equipment.value, place=help_.place_type.value,
                   autonomy=help_.autonomy.value if help_.autonomy else "",
                   referred="1" if help_.referred else "0", referred_to=help_.referred_to,
                   notes=help_.notes,
                   gender=help_.gender.value if help_.gender else "",
                   age_bracket=help_.age_bracket or "",
                   social_status=help_.social_status.value if help_.social_status else "",
                   commune=help_.commune or "", postcode=help_.postcode or "")


@dataclass
class _Checked:
    values: dict[str, Any]
    themes: list[Theme]
    subthemes: list[AdminSubtheme]


# --- who may see and change ----------------------------------------------------------------------


def site_choices(staff: StaffMember) -> list[Any]:
    """The active sites where the staff member records help, by name."""
    return staff_access.sites_for(staff, Action.RECORD_HELP)


def may_change(staff: StaffMember, help_: Accompaniment) -> bool:
    """Its author (who may still record help there) or whoever edits any help there."""
    if staff_access.can(staff, Action.EDIT_ANY_HELP, help_.site_id):
        return True
    return help_.staff_id == staff.id and staff_access.can(staff, Action.RECORD_HELP,
                                                           help_.site_id)


def _require_change(staff: StaffMember, help_: Accompaniment) -> None:
    staff_access.require(staff, Action.RECORD_HELP, help_.site_id)
    if not may_change(staff, help_):
        raise NotAllowed("help_not_yours",
                         _("Seuls son auteur et un administrateur du lieu modifient ou "
                           "suppriment cet accompagnement."))


def help_for(staff: StaffMember, help_id: int, *, change: bool = False) -> Accompaniment:
    """An individual help of a site where the staff member records help (404 otherwise);
    with ``change``, one they may edit or delete (403 otherwise)."""
    help_ = db.session.get(Accompaniment, help_id)
    if help_ is None:
        raise NotFound("not_found", _("Cette page n'existe pas ou n'existe plus."))
    staff_access.require(staff, Action.RECORD_HELP, help_.site_id)
    if change:
        _require_change(staff, help_)
    return help_


# --- checking a form -----------------------------------------------------------------------------


def _duration(data: HelpInput, errors: dict[str, str]) -> int:
    raw = data.duration_other if data.duration == OTHER_DURATION else data.duration
    minutes = parse_id((raw or "").strip())
    if minutes is None or not DURATION_MIN <= minutes <= DURATION_MAX:
        name = "duration_other" if data.duration == OTHER_DURATION else "duration"
        errors[name] = _("Choisissez une durée, ou écrivez-en une autre en minutes (de "
                         "%(low)d à %(high)d).", low=DURATION_MIN, high=DURATION_MAX)
        return DURATION_MIN
    return minutes


def _started_at(data: HelpInput, errors: dict[str, str]) -> datetime:
    today = today_local()
    try:
        day = date.fromisoformat((data.day or "").strip())
    except ValueError:
        errors["day"] = _("Écrivez la date sous la forme jj/mm/aaaa.")
        return now()
    if day > today:
        errors["day"] = _("Un accompagnement se note le jour même ou après, pas à l'avance.")
        return now()
    if day < today - timedelta(days=PAST_DAYS):
        errors["day"] = _("Cette date a plus d'un an : vérifiez-la.")
        return now()
    raw = (data.hour or "").strip()
    match = _TIME.fullmatch(raw)
    if raw and match is None:
        errors["hour"] = _("Écrivez l'heure sous la forme 14:30, ou laissez-la vide.")
    at = time(int(match[1]), int(match[2])) if match else time(12, 0)
    return paris_to_utc(datetime.combine(day, at))


def _person(staff: StaffMember, data: HelpInput, errors: dict[str, str],
            current: int | None) -> Beneficiary | None:
    raw = (data.person or "").strip()
    if not raw:
        return None
    person_id = parse_id(raw)
    person = db.session.get(Beneficiary, person_id) if person_id is not None else None
    if person is None or (person.id != current and not people.can_see(staff, person)):
        errors["person"] = _("Cette personne n'est pas connue. Cherchez-la, ou laissez vide "
                             "pour un accompagnement sans nom.")
        return None
    return person


def _anonymous(data: HelpInput, errors: dict[str, str]) -> dict[str, Any]:
    """The attributes of help given to nobody named (each optional)."""
    values: dict[str, Any] = {"gender": None, "age_bracket": None, "social_status": None,
                              "commune": None, "postcode": None}
    if data.gender:
        values["gender"] = enum_member(Gender, data.gender)
        if values["gender"] is None:
            errors["gender"] = _("Choisissez un genre de la liste.")
    if data.age_bracket:
        if data.age_bracket in (*AGE_CODES, UNDISCLOSED_AGE):
            values["age_bracket"] = data.age_bracket
        else:
            errors["age_bracket"] = _("Choisissez une tranche d'âge de la liste.")
    if data.social_status:
        values["social_status"] = enum_member(SocialStatus, data.social_status)
        if values["social_status"] is None:
            errors["social_status"] = _("Choisissez une situation de la liste.")
    commune = check_text(errors, "commune", data.commune, maximum=COMMUNE_MAX)
    values["commune"] = commune or None
    postcode = "".join((data.postcode or "").split())
    if postcode and not _POSTCODE.fullmatch(postcode):
        errors["postcode"] = _("Un code postal a 5 chiffres, par exemple 62680.")
    values["postcode"] = postcode or None
    return values


def _check(staff: StaffMember, data: HelpInput, *, help_: Accompaniment | None) -> _Checked:
    errors: dict[str, str] = {}
    if help_ is None:
        site_id = parse_id(data.site)
        site = db.session.get(Site, site_id) if site_id is not None else None
        if site is None or not site.is_active:
            errors["site"] = _("Choisissez le lieu de l'accompagnement.")
        else:  # another site's: a 404 without a role there, a 403 if the role lacks it
            staff_access.require(staff, Action.RECORD_HELP, site.id)
    else:
        site_id = help_.site_id
    themes, subthemes = check_themes(errors, data.themes, data.subthemes)
    person = _person(staff, data, errors, help_.beneficiary_id if help_ else None)
    started_at = _started_at(data, errors)
    duration = _duration(data, errors)
    equipment = enum_member(Equipment, data.equipment)
    if equipment is None:
        errors["equipment"] = _("Choisissez un matériel de la liste.")
    place = enum_member(PlaceType, data.place)
    if place is None:
        errors["place"] = _("Choisissez un lieu de la liste.")
    autonomy = enum_member(Autonomy, data.autonomy) if data.autonomy else None
    if data.autonomy and autonomy is None:
        errors["autonomy"] = _("Choisissez une autonomie de la liste.")
    if data.referred not in ("0", "1"):
        errors["referred"] = _("Dites si la personne a été orientée.")
    referred = data.referred == "1"
    referred_to = check_text(errors, "referred_to", data.referred_to, maximum=REFERRED_TO_MAX)
    if referred_to and not referred and "referred" not in errors:
        errors["referred_to"] = _("Cochez « Oui, orientée » ou effacez vers qui.")
    notes = check_text(errors, "notes", data.notes, maximum=NOTES_MAX, multiline=True)
    anonymous = _anonymous(data, errors) if person is None else {
        "gender": None, "age_bracket": None, "social_status": None, "commune": None,
        "postcode": None}
    if errors:
        raise ValidationFailed("help_invalid", next(iter(errors.values())), fields=errors)
    assert site_id is not None and equipment is not None and place is not None
    staff_access.require(staff, Action.RECORD_HELP, site_id)
    values = {"site_id": site_id, "beneficiary_id": person.id if person else None,
              "started_at": started_at, "duration_minutes": duration, "equipment": equipment,
              "place_type": place, "autonomy": autonomy, "referred": referred,
              "referred_to": referred_to, "notes": notes, **anonymous}
    return _Checked(values, themes or [], subthemes or [])


# --- writing ---------------------------------------------------------------------------------


def _snapshot(help_: Accompaniment) -> dict[str, Any]:
    """The audited fields, as plain values (the note only as "changed": it may be personal)."""
    return {
        "site_id": help_.site_id, "beneficiary_id": help_.beneficiary_id,
        "started_at": help_.started_at.isoformat() if help_.started_at else None,
        "duration_minutes": help_.duration_minutes,
        "themes": [t.value for t in Theme if t in help_.themes],
        "subthemes": [s.value for s in AdminSubtheme if s in help_.subthemes],
        "equipment": help_.equipment.value if help_.equipment else None,
        "place_type": help_.place_type.value if help_.place_type else None,
        "autonomy": help_.autonomy.value if help_.autonomy else None,
        "referred": bool(help_.referred), "referred_to": help_.referred_to or "",
        "gender": help_.gender.value if help_.gender else None,
        "age_bracket": help_.age_bracket, "commune": help_.commune,
        "postcode": help_.postcode,
        "social_status": help_.social_status.value if help_.social_status else None,
        "note_length": len(help_.notes or ""),
    }


def _summary(themes: list[Theme]) -> str:
    """The receipt's and the list's title: the themes, in French (documents are French)."""
    with force_locale("fr"):
        return ", ".join(str(t.label) for t in themes)[:300]


def _apply(help_: Accompaniment, checked: _Checked) -> None:
    for name, value in checked.values.items():
        setattr(help_, name, value)
    sync_links(help_.theme_links, checked.themes, "theme", AccompanimentTheme)
    sync_links(help_.subtheme_links, checked.subthemes, "subtheme", AccompanimentSubtheme)
    help_.summary = _summary([t for t in Theme if t in checked.themes])


def record(data: HelpInput, *, actor: Actor) -> Accompaniment:
    """Record an individual help given by the actor."""
    staff = staff_access.staff_of(actor)
    checked = _check(staff, data, help_=None)
    help_ = Accompaniment(staff_id=staff.id, theme_links=[], subtheme_links=[])
    _apply(help_, checked)
    db.session.add(help_)
    db.session.flush()
    audit.record(actor, "help.recorded", object_type="accompaniment", object_id=help_.id,
                 site_id=help_.site_id, changes=changes({}, _snapshot(help_)))
    db.session.commit()
    return help_


def update(help_: Accompaniment, data: HelpInput, *, actor: Actor) -> dict[str, Any]:
    """Save an edited individual help; the changed fields (nothing written if none). Once
    cheques paid it, the person named on their receipt stays."""
    staff = staff_access.staff_of(actor)
    _require_change(staff, help_)
    checked = _check(staff, data, help_=help_)
    if checked.values["beneficiary_id"] != help_.beneficiary_id and paid_cheques(help_):
        message = _("Des chèques ont payé cet accompagnement : la personne de leur reçu ne "
                    "change plus.")
        raise ValidationFailed("help_paid_person_fixed", message, fields={"person": message})
    before = _snapshot(help_)
    _apply(help_, checked)
    changed = changes(before, _snapshot(help_))
    if changed:
        help_.updated_at = now()
        audit.record(actor, "help.updated", object_type="accompaniment", object_id=help_.id,
                     site_id=help_.site_id, changes=changed)
        db.session.commit()
    else:
        db.session.rollback()
    return changed


def delete(help_: Accompaniment, *, actor: Actor) -> None:
    """Delete an individual help recorded by mistake; refused once cheques paid it."""
    staff = staff_access.staff_of(actor)
    _require_change(staff, help_)
    paid = paid_cheques(help_)
    if paid:
        raise Conflict("help_paid", _(
            "Des chèques ont payé cet accompagnement : c'est une trace comptable, il ne se "
            "supprime pas. Corrigez-le plutôt."), cheques=paid)
    audit.record(actor, "help.deleted", object_type="accompaniment", object_id=help_.id,
                 site_id=help_.site_id, deleted=_snapshot(help_))
    db.session.delete(help_)
    db.session.commit()


# --- reading -----------------------------------------------------------------------------------


def paid_cheques(help_: Accompaniment) -> int:
    """How many cheques were taken for this help."""
    return db.session.scalar(
        db.select(func.count(Cheque.id)).where(Cheque.accompaniment_id == help_.id,
                                               Cheque.redeemed_at.is_not(None))) or 0


def history(staff: StaffMember, person: Beneficiary, *, limit: int = 20) -> list[Accompaniment]:
    """A person's individual help at the sites where the staff member records help, newest
    first."""
    return list(db.session.scalars(
        db.select(Accompaniment)
        .where(Accompaniment.beneficiary_id == person.id,
               staff_access.at_sites(staff, Action.RECORD_HELP, Accompaniment.site_id))
        .order_by(Accompaniment.started_at.desc(), Accompaniment.id.desc()).limit(limit)))


@dataclass
class Filters:
    """The list's filters, parsed (anything unreadable is ignored)."""

    site_id: int | None = None
    start: date | None = None
    end: date | None = None
    staff_id: int | None = None
    theme: Theme | None = None
    person_id: int | None = None
    place: PlaceType | None = None
    page: int = 1

    @classmethod
    def parse(cls, args: Any) -> Filters:
        def day(name: str) -> date | None:
            try:
                value = date.fromisoformat((args.get(name) or "")[:10])
            except ValueError:
                return None
            return value if 2000 <= value.year <= 2100 else None

        page = parse_id(args.get("page")) or 1
        return cls(site_id=parse_id(args.get("site")), start=day("du"), end=day("au"),
                   staff_id=parse_id(args.get("auteur")),
                   theme=enum_member(Theme, args.get("theme") or ""),
                   person_id=parse_id(args.get("personne")),
                   place=enum_member(PlaceType, args.get("lieu") or ""),
                   page=min(page, 10_000))


@dataclass
class Listing:
    items: list[Accompaniment]
    count: int
    minutes: int
    people: int  # distinct named people
    anonymous: int
    page: int
    pages: int


def _conditions(filters: Filters, site_id: int) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Accompaniment.site_id == site_id]
    if filters.start:
        where.append(Accompaniment.started_at >= paris_to_utc(
            datetime.combine(filters.start, time())))
    if filters.end:
        where.append(Accompaniment.started_at < paris_to_utc(
            datetime.combine(filters.end + timedelta(days=1), time())))
    if filters.staff_id:
        where.append(Accompaniment.staff_id == filters.staff_id)
    if filters.person_id:
        where.append(Accompaniment.beneficiary_id == filters.person_id)
    if filters.place:
        where.append(Accompaniment.place_type == filters.place)
    if filters.theme:
        where.append(Accompaniment.theme_links.any(AccompanimentTheme.theme == filters.theme))
    return where


def listing(staff: StaffMember, filters: Filters, site_id: int) -> Listing:
    """One site's individual help, newest first, a page at a time, with the totals of every
    page (the site must be one where the staff member records help)."""
    staff_access.require(staff, Action.RECORD_HELP, site_id)
    where = and_(*_conditions(filters, site_id))
    count, minutes, named = db.session.execute(
        db.select(func.count(Accompaniment.id),
                  func.coalesce(func.sum(Accompaniment.duration_minutes), 0),
                  func.count(func.distinct(Accompaniment.beneficiary_id))).where(where)).one()
    anonymous = db.session.scalar(
        db.select(func.count(Accompaniment.id))
        .where(where, Accompaniment.beneficiary_id.is_(None))) or 0
    pages = max(1, -(-int(count) // PAGE_SIZE))
    page = min(filters.page, pages)
    items = list(db.session.scalars(
        db.select(Accompaniment).where(where)
        .order_by(Accompaniment.started_at.desc(), Accompaniment.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return Listing(items, int(count), int(minutes), int(named), int(anonymous), page, pages)


def authors(site_id: int) -> list[StaffMember]:
    """The staff members who recorded help at the site (the list's filter), by name."""
    return list(db.session.scalars(
        db.select(StaffMember).where(StaffMember.id.in_(
            db.select(Accompaniment.staff_id).where(Accompaniment.site_id == site_id)))
        .order_by(StaffMember.full_name)))
