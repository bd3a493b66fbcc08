"""Writing the catalogue's workshops: create, edit, archive and restore, with their rules.

The reading side for beneficiaries is ``services/catalogue.py``. Every check of who may act is
``staff_access`` at the workshop's site; a workshop of the whole network (``site_id`` NULL) is
seen by every staff member and edited by network administrators only. See
docs/architecture.md#the-catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_

from portal.clock import now
from portal.extensions import db
from portal.folding import fold
from portal.forms import parse_id
from portal.models.catalogue import Workshop, WorkshopSession, WorkshopSubtheme, WorkshopTheme
from portal.models.people import Site, StaffMember
from portal.models.vocab import AdminSubtheme, Equipment, Level, SessionStatus, Theme
from portal.services import audit, staff_access
from portal.services.audit import Actor
from portal.services.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.services.locking import lock_row
from portal.services.staff_access import Action

E = TypeVar("E", bound=Enum)

TITLE_MAX = 120  # the column's length
DESCRIPTION_MAX = 4000
OBJECTIVES_MAX = 2000
WHAT_TO_BRING_MAX = 1000
DURATION_MIN, DURATION_MAX = 5, 1440  # the table's check
PRICE_MAX = 20  # the table's check
#: durations offered as presets (minutes); any other value in range is accepted.
DURATION_PRESETS = (30, 60, 90, 120, 150, 180)
#: the site field's value for a workshop of the whole network.
NETWORK = "reseau"

_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # newlines allowed


@dataclass
class WorkshopInput:
    """What a workshop form sends, as typed (strings): the service checks every field."""

    title: str = ""
    description: str = ""
    themes: list[str] = field(default_factory=list)
    subthemes: list[str] = field(default_factory=list)
    level: str = Level.BEGINNER.value
    equipment: str = Equipment.COMPUTER.value
    what_to_bring: str = ""
    duration_minutes: str = "120"
    price_cheques: str = "1"
    grants_attestation: bool = False
    objectives: str = ""
    site: str = ""  # a site id, or NETWORK

    @classmethod
    def of(cls, workshop: Workshop) -> WorkshopInput:
        """A stored workshop as its form shows it."""
        return cls(title=workshop.title, description=workshop.description,
                   themes=[t.value for t in Theme if t in workshop.themes],
                   subthemes=[s.value for s in AdminSubtheme if s in workshop.subthemes],
                   level=workshop.level.value, equipment=workshop.equipment.value,
                   what_to_bring=workshop.what_to_bring,
                   duration_minutes=str(workshop.duration_minutes),
                   price_cheques=str(workshop.price_cheques),
                   grants_attestation=workshop.grants_attestation,
                   objectives=workshop.objectives,
                   site=NETWORK if workshop.site_id is None else str(workshop.site_id))


@dataclass
class _Checked:
    """A workshop's values once every field passed."""

    values: dict[str, Any]
    themes: list[Theme]
    subthemes: list[AdminSubtheme]
    site_id: int | None


# --- who may see and edit ----------------------------------------------------------------------


def require(staff: StaffMember, action: Action, site_id: int | None) -> None:
    """``staff_access.require`` for a workshop's site; a network workshop is seen by every
    staff member and changed by network administrators only."""
    if site_id is not None:
        staff_access.require(staff, action, site_id)
    elif action is not Action.SEE_SESSIONS and not staff.is_network_admin:
        raise NotAllowed("network_admin_only",
                         _("Seul un administrateur du réseau modifie les ateliers de tout "
                           "le réseau."))


def workshop_for(staff: StaffMember, workshop_id: int, action: Action) -> Workshop:
    """A workshop the staff member may see (404 otherwise) and act on with ``action`` (403)."""
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound("not_found", _("Cette page n'existe pas ou n'existe plus."))
    require(staff, Action.SEE_SESSIONS, workshop.site_id)
    require(staff, action, workshop.site_id)
    return workshop


def may_edit(staff: StaffMember, workshop: Workshop) -> bool:
    if workshop.site_id is None:
        return staff.is_network_admin
    return staff_access.can(staff, Action.EDIT_CATALOGUE, workshop.site_id)


def may_create(staff: StaffMember) -> bool:
    return staff.is_network_admin or bool(staff_access.sites_where(staff,
                                                                   Action.EDIT_CATALOGUE))


def require_preview(staff: StaffMember, site: str) -> None:
    """A preview is for someone who may write the workshop at the place chosen in its form
    (any place where they edit the catalogue while none is chosen)."""
    site_id = parse_id(site)
    if site == NETWORK or site_id is None:
        if not (may_create(staff) if site != NETWORK else staff.is_network_admin):
            raise NotAllowed("role_required", _("Votre rôle ne permet pas de modifier le "
                                                "catalogue."))
        return
    staff_access.require(staff, Action.EDIT_CATALOGUE, site_id)


def site_choices(staff: StaffMember) -> list[tuple[str, str]]:
    """(value, label) of the places a new or moved workshop may belong to."""
    choices = [(str(s.id), s.name) for s in staff_access.sites_for(staff,
                                                                   Action.EDIT_CATALOGUE)]
    if staff.is_network_admin:
        choices.insert(0, (NETWORK, _("Tout le réseau")))
    return choices


def listing(staff: StaffMember, *, archived: bool = False, text: str = "") -> list[Workshop]:
    """The workshops of the sites where the staff member sees sessions, and the network's;
    active ones (or archived ones), whose title holds ``text`` (folded), by title."""
    query = db.select(Workshop).where(
        Workshop.is_active.is_(not archived),
        or_(Workshop.site_id.is_(None),
            staff_access.at_sites(staff, Action.SEE_SESSIONS, Workshop.site_id)))
    workshops = list(db.session.scalars(query.order_by(Workshop.title, Workshop.id)))
    words = fold(_CONTROL_IN_LINE.sub(" ", text or "")[:80]).split()
    if words:
        workshops = [w for w in workshops if all(word in fold(w.title) for word in words)]
    return workshops


def schedulable(site_id: int) -> list[Workshop]:
    """The workshops a new session of the site may take: the site's and the network's active
    ones (an archived workshop is never scheduled again)."""
    return list(db.session.scalars(
        db.select(Workshop)
        .where(Workshop.is_active.is_(True),
               or_(Workshop.site_id == site_id, Workshop.site_id.is_(None)))
        .order_by(Workshop.title, Workshop.id)))


def upcoming_sessions(workshop: Workshop) -> int:
    """How many of the workshop's sessions are scheduled and not started."""
    return db.session.scalar(
        db.select(func.count(WorkshopSession.id))
        .where(WorkshopSession.workshop_id == workshop.id,
               WorkshopSession.status == SessionStatus.SCHEDULED,
               WorkshopSession.starts_at > now())) or 0


# --- checking a form ---------------------------------------------------------------------------


def _line(raw: str) -> str:
    return " ".join((raw or "").split())


def _text(raw: str) -> str:
    lines = (raw or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def check_text(errors: dict[str, str], name: str, raw: str, *, maximum: int,
               multiline: bool = False) -> str:
    """A text field cleaned (spaces, line ends), its problem in ``errors``: control
    characters, or longer than ``maximum``."""
    value = _text(raw) if multiline else _line(raw)
    control = _CONTROL_IN_TEXT if multiline else _CONTROL_IN_LINE
    if control.search(value):
        errors[name] = _("Ce texte contient des caractères invisibles non autorisés. "
                         "Retapez-le sans copier-coller.")
    elif len(value) > maximum:
        errors[name] = ngettext("%(num)d caractère au plus.", "%(num)d caractères au plus.",
                                maximum)
    return value


def check_number(errors: dict[str, str], name: str, raw: str, low: int, high: int,
                 message: str) -> int:
    value = parse_id((raw or "").strip())
    if value is None or not low <= value <= high:
        errors[name] = message
        return low
    return value


def _check(staff: StaffMember, data: WorkshopInput) -> _Checked:
    errors: dict[str, str] = {}
    title = check_text(errors, "title", data.title, maximum=TITLE_MAX)
    if not title and "title" not in errors:
        errors["title"] = _("Écrivez le titre de l'atelier.")
    description = check_text(errors, "description", data.description,
                             maximum=DESCRIPTION_MAX, multiline=True)
    objectives = check_text(errors, "objectives", data.objectives, maximum=OBJECTIVES_MAX,
                            multiline=True)
    what_to_bring = check_text(errors, "what_to_bring", data.what_to_bring,
                               maximum=WHAT_TO_BRING_MAX, multiline=True)
    themes, subthemes = check_themes(errors, data.themes, data.subthemes)
    level = enum_member(Level, data.level)
    if level is None:
        errors["level"] = _("Choisissez un niveau de la liste.")
    equipment = enum_member(Equipment, data.equipment)
    if equipment is None:
        errors["equipment"] = _("Choisissez un matériel de la liste.")
    duration = check_number(errors, "duration_minutes", data.duration_minutes, DURATION_MIN,
                            DURATION_MAX,
                            _("Écrivez une durée en minutes, entre %(low)d et %(high)d.",
                              low=DURATION_MIN, high=DURATION_MAX))
    price = check_number(errors, "price_cheques", data.price_cheques, 0, PRICE_MAX,
                         _("Écrivez un prix en chèques, entre 0 (gratuit) et %(high)d.",
                           high=PRICE_MAX))
    site_id = _site(staff, data.site, errors)
    if errors:
        raise ValidationFailed("workshop_invalid", next(iter(errors.values())), fields=errors)
    if site_id is not None:
        staff_access.require(staff, Action.EDIT_CATALOGUE, site_id)
    elif not staff.is_network_admin:
        require(staff, Action.EDIT_CATALOGUE, None)
    values = {"title": title, "description": description, "objectives": objectives,
              "what_to_bring": what_to_bring, "level": level, "equipment": equipment,
              "duration_minutes": duration, "price_cheques": price,
              "grants_attestation": bool(data.grants_attestation), "site_id": site_id}
    return _Checked(values, themes or [], subthemes or [], site_id)


def _site(staff: StaffMember, raw: str, errors: dict[str, str]) -> int | None:
    if raw == NETWORK:
        if not staff.is_network_admin:
            errors["site"] = _("Seul un administrateur du réseau crée des ateliers pour "
                               "tout le réseau.")
        return None
    site_id = parse_id(raw)
    site = db.session.get(Site, site_id) if site_id is not None else None
    if site is None or not site.is_active:
        errors["site"] = _("Choisissez le lieu de l'atelier.")
        return None
    return site_id


def enum_member(enum: type[E], raw: str) -> E | None:
    try:
        return enum(raw)
    except ValueError:
        return None


def enum_members(enum: type[E], raw: Iterable[str]) -> list[E] | None:
    """The members named (each once, in the list's order), None if one is unknown."""
    chosen = set()
    for value in raw:
        try:
            chosen.add(enum(value))
        except ValueError:
            return None
    return [member for member in enum if member in chosen]


def check_themes(errors: dict[str, str], raw_themes: Iterable[str], raw_subthemes: Iterable[str]
                 ) -> tuple[list[Theme] | None, list[AdminSubtheme] | None]:
    """At least one theme of the national list; administrative sub-themes only with the theme
    they belong to (the national activity model, for workshops and individual help alike)."""
    themes = enum_members(Theme, raw_themes)
    if themes is None:
        errors["themes"] = _("Ce thème n'existe pas dans la liste nationale.")
    elif not themes:
        errors["themes"] = _("Choisissez au moins un thème.")
    subthemes = enum_members(AdminSubtheme, raw_subthemes)
    if subthemes is None:
        errors["subthemes"] = _("Ce sous-thème n'existe pas dans la liste nationale.")
    elif subthemes and Theme.ADMIN_PROCEDURES not in (themes or []):
        errors["subthemes"] = _("Les sous-thèmes vont avec le thème « %(theme)s » : "
                                "cochez-le ou décochez les sous-thèmes.",
                                theme=Theme.ADMIN_PROCEDURES.label)
    return themes, subthemes


def _title_taken(title: str, site_id: int | None, *, besides: int | None) -> bool:
    """Another active workshop of the same site (or of the network) has this title. The site's
    row is locked first, so two people saving the same title at once cannot both pass
    (docs/security.md#no-count-then-insert); network workshops, written by network
    administrators only, are not serialised."""
    if site_id is not None:
        lock_row(Site, site_id, "city")
    same_site = (Workshop.site_id.is_(None) if site_id is None
                 else Workshop.site_id == site_id)
    candidates = db.session.scalars(
        db.select(Workshop.title).where(same_site, Workshop.is_active.is_(True),
                                        Workshop.id != (besides or 0)))
    folded = fold(title)
    return any(fold(other) == folded for other in candidates)


def _refuse_taken_title(title: str) -> None:
    message = _("Un atelier actif de ce lieu s'appelle déjà « %(title)s ». Choisissez un "
                "autre titre, ou modifiez l'atelier existant.", title=title)
    raise ValidationFailed("workshop_title_taken", message, fields={"title": message})


# --- writing -----------------------------------------------------------------------------------


def _snapshot(workshop: Workshop) -> dict[str, Any]:
    """The audited fields of a workshop, as plain values."""
    return {
        "title": workshop.title, "description": workshop.description,
        "themes": [t.value for t in Theme if t in workshop.themes],
        "subthemes": [s.value for s in AdminSubtheme if s in workshop.subthemes],
        "level": workshop.level.value, "equipment": workshop.equipment.value,
        "what_to_bring": workshop.what_to_bring,
        "duration_minutes": workshop.duration_minutes,
        "price_cheques": workshop.price_cheques,
        "grants_attestation": workshop.grants_attestation,
        "objectives": workshop.objectives, "site_id": workshop.site_id,
    }


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields that changed: ``{name: {"before": …, "after": …}}``."""
    return {name: {"before": before.get(name), "after": value}
            for name, value in after.items() if before.get(name) != value}


def _apply(workshop: Workshop, checked: _Checked) -> None:
    for name, value in checked.values.items():
        setattr(workshop, name, value)
    sync_links(workshop.theme_links, checked.themes, "theme", WorkshopTheme)
    sync_links(workshop.subtheme_links, checked.subthemes, "subtheme", WorkshopSubtheme)


def sync_links(links: list[Any], wanted: Iterable[Any], key: str,
               make: Callable[..., Any]) -> None:
    """Make a list of theme (or sub-theme) link rows name exactly ``wanted``. Links are kept,
    dropped or added one by one: replacing the list would insert a theme again before its old
    row is deleted (one row per owner and theme)."""
    wanted = list(wanted)
    for link in [x for x in links if getattr(x, key) not in wanted]:
        links.remove(link)
    present = {getattr(x, key) for x in links}
    for value in wanted:
        if value not in present:
            links.append(make(**{key: value}))


def create(data: WorkshopInput, *, actor: Actor) -> Workshop:
    staff = staff_access.staff_of(actor)
    checked = _check(staff, data)
    if _title_taken(checked.values["title"], checked.site_id, besides=None):
        _refuse_taken_title(checked.values["title"])
    workshop = Workshop(theme_links=[], subtheme_links=[])
    _apply(workshop, checked)
    db.session.add(workshop)
    db.session.flush()
    audit.record(actor, "workshop.created", object_type="workshop", object_id=workshop.id,
                 site_id=workshop.site_id, changes=changes({}, _snapshot(workshop)))
    db.session.commit()
    return workshop


def update(workshop: Workshop, data: WorkshopInput, *, actor: Actor) -> dict[str, Any]:
    """Save the edited workshop; the changed fields (nothing is written when none changed).
    Its sessions and issued documents keep what they said (a document's snapshot never
    changes)."""
    staff = staff_access.staff_of(actor)
    require(staff, Action.EDIT_CATALOGUE, workshop.site_id)
    checked = _check(staff, data)
    if workshop.is_active and _title_taken(checked.values["title"], checked.site_id,
                                           besides=workshop.id):
        _refuse_taken_title(checked.values["title"])
    before = _snapshot(workshop)
    _apply(workshop, checked)
    changed = changes(before, _snapshot(workshop))
    if changed:
        audit.record(actor, "workshop.updated", object_type="workshop", object_id=workshop.id,
                     site_id=workshop.site_id, changes=changed)
    db.session.commit()
    return changed


def archive(workshop: Workshop, *, actor: Actor) -> None:
    """Hide the workshop from new scheduling and from Find a workshop. Refused while it has
    upcoming scheduled sessions: those have people booked, who must be told, which cancelling
    each session does (on its own screen); archiving never strands a booking silently."""
    staff = staff_access.staff_of(actor)
    require(staff, Action.EDIT_CATALOGUE, workshop.site_id)
    if not workshop.is_active:
        raise Conflict("workshop_already_archived", _("Cet atelier est déjà archivé."))
    upcoming = upcoming_sessions(workshop)
    if upcoming:
        raise Conflict("workshop_has_upcoming_sessions", ngettext(
            "Cet atelier a encore %(num)d séance prévue. Annulez-la d'abord (les personnes "
            "inscrites seront prévenues), puis archivez l'atelier.",
            "Cet atelier a encore %(num)d séances prévues. Annulez-les d'abord (les "
            "personnes inscrites seront prévenues), puis archivez l'atelier.", upcoming),
            upcoming=upcoming)
    workshop.is_active = False
    audit.record(actor, "workshop.archived", object_type="workshop", object_id=workshop.id,
                 site_id=workshop.site_id,
                 changes={"is_active": {"before": True, "after": False}})
    db.session.commit()


def restore(workshop: Workshop, *, actor: Actor) -> None:
    """Offer an archived workshop again (refused if an active one took its title since)."""
    staff = staff_access.staff_of(actor)
    require(staff, Action.EDIT_CATALOGUE, workshop.site_id)
    if workshop.is_active:
        raise Conflict("workshop_not_archived", _("Cet atelier n'est pas archivé."))
    if _title_taken(workshop.title, workshop.site_id, besides=workshop.id):
        raise Conflict("workshop_title_taken", _(
            "Un atelier actif de ce lieu s'appelle déjà « %(title)s ». Renommez l'un des deux "
            "avant de remettre celui-ci au catalogue.", title=workshop.title))
    workshop.is_active = True
    audit.record(actor, "workshop.restored", object_type="workshop", object_id=workshop.id,
                 site_id=workshop.site_id,
                 changes={"is_active": {"before": False, "after": True}})
    db.session.commit()
