"""Reading the audit trail (read-only): filters, scope and events in words.

A site administrator (``SEE_AUDIT``) sees the events of their sites only; a network
administrator sees every event, those tied to no site too. Pages are keyset-paginated on the
event id (newest first), :data:`PAGE_SIZE` at a time, and a page costs a fixed number of
queries whatever it shows: the events, then the staff, people and sites they name, each in one
query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, false, or_, true

from portal.clock import PARIS
from portal.extensions import db
from portal.forms import parse_id
from portal.models.audit import AuditEvent
from portal.models.people import Beneficiary, Site, StaffMember, StaffSiteRole
from portal.models.vocab import ActorKind
from portal.services import merging, people, staff_access
from portal.services.errors import NotAllowed
from portal.services.staff_access import Action

PAGE_SIZE = 50
NAME_MATCHES = 30  # people found by a name search, at most

#: what an action code says in words; an action not listed shows as its code.
ACTIONS: dict[str, Any] = {
    "login.succeeded": _l("Connexion"),
    "login.failed": _l("Connexion refusée"),
    "login.blocked": _l("Connexion bloquée (trop d'essais)"),
    "login.first_code_accepted": _l("Première connexion avec le code de la carte"),
    "logout": _l("Déconnexion"),
    "account.password_changed": _l("Mot de passe changé"),
    "account.password_change_refused": _l("Changement de mot de passe refusé"),
    "account.first_password_set": _l("Mot de passe choisi à la première connexion"),
    "account.first_login_code_issued": _l("Nouveau code de première connexion"),
    "account.language_changed": _l("Langue changée"),
    "account.staff_created": _l("Compte de l'équipe créé"),
    "account.disabled": _l("Compte désactivé"),
    "account.enabled": _l("Compte réactivé"),
    "account.session_ended": _l("Session fermée à distance"),
    "account.other_sessions_ended": _l("Autres sessions fermées"),
    "team.invited": _l("Invitation envoyée"),
    "team.invitation_accepted": _l("Invitation acceptée"),
    "team.role_given": _l("Rôle donné"),
    "team.role_changed": _l("Rôle changé"),
    "team.role_removed": _l("Rôle retiré"),
    "booking.created": _l("Inscription"),
    "booking.cancelled": _l("Inscription annulée"),
    "booking.waitlisted": _l("Mise en liste d'attente"),
    "booking.promoted": _l("Place obtenue depuis la liste d'attente"),
    "checkin.present": _l("Présence notée"),
    "checkin.undone": _l("Pointage annulé"),
    "checkin.walk_in": _l("Personne venue sans inscription"),
    "cheques.redeemed": _l("Chèques encaissés"),
    "document.issued": _l("Document émis"),
    "document.revoked": _l("Document annulé"),
    "session.scheduled": _l("Séance programmée"),
    "session.edited": _l("Séance modifiée"),
    "session.cancelled": _l("Séance annulée"),
    "session.closed": _l("Séance clôturée"),
    "session.reopened": _l("Séance rouverte"),
    "workshop.created": _l("Atelier créé"),
    "workshop.updated": _l("Atelier modifié"),
    "workshop.archived": _l("Atelier archivé"),
    "site.created": _l("Lieu créé"),
    "export.attendance": _l("Export des présences"),
    "export.activities": _l("Export du journal des accompagnements"),
    "export.cheques": _l("Export des chèques pris"),
    "export.people": _l("Export des personnes du lieu"),
    "report.pdf": _l("Rapport d'activité imprimé"),
    "person.data_export": _l("Données d'une personne téléchargées"),
    "person.anonymise": _l("Fiche anonymisée"),
    "audit.redacted": _l("Journal expurgé après une anonymisation"),
}

OBJECT_TYPES: dict[str, Any] = {
    "beneficiary": _l("Personne"),
    "staff": _l("Membre de l'équipe"),
    "booking": _l("Inscription"),
    "session": _l("Séance"),
    "workshop": _l("Atelier"),
    "course": _l("Parcours"),
    "document": _l("Document"),
    "site": _l("Lieu"),
    "account": _l("Compte"),
}


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


@dataclass(frozen=True)
class Filters:
    """What the form asks for, already checked (anything unreadable is simply no filter)."""

    person_id: int | None = None
    person_text: str = ""
    staff_id: int | None = None
    action: str = ""
    site_id: int | None = None
    start: date | None = None
    end: date | None = None
    before: int | None = None  # keyset: events with a smaller id

    @classmethod
    def parse(cls, args: Any) -> Filters:
        person = (args.get("personne") or "").strip()[:80]
        return cls(
            person_id=_int(person),
            person_text="" if _int(person) else person,
            staff_id=_int(args.get("agent")),
            action=(args.get("action") or "").strip()[:64],
            site_id=_int(args.get("lieu")),
            start=_day(args.get("du")),
            end=_day(args.get("au")),
            before=_int(args.get("avant")),
        )

    def query_args(self) -> dict[str, str]:
        """The filters as query arguments (for the next page's link)."""
        values = {"personne": str(self.person_id) if self.person_id else self.person_text,
                  "agent": str(self.staff_id or ""), "action": self.action,
                  "lieu": str(self.site_id or ""),
                  "du": self.start.isoformat() if self.start else "",
                  "au": self.end.isoformat() if self.end else ""}
        return {k: v for k, v in values.items() if v}


def _int(raw: Any) -> int | None:
    return parse_id(raw.strip()) if isinstance(raw, str) else None


def _day(raw: Any) -> date | None:
    """A day of the form's date fields; None for anything unreadable or far-fetched (year 1,
    year 9999: the day after must exist in every time zone)."""
    try:
        day = date.fromisoformat(raw.strip()[:10]) if isinstance(raw, str) else None
    except ValueError:
        return None
    return day if day is not None and 1900 <= day.year <= 2200 else None


@dataclass(frozen=True)
class EventView:
    event: AuditEvent
    who: str
    what: str
    on_what: str
    site: str
    details: list[tuple[str, str]]


@dataclass
class Page:
    events: list[EventView]
    next_before: int | None
    actions: list[tuple[str, str]]
    sites: list[Site]
    staff: list[StaffMember]
    matched_people: int | None = None  # how many people a name search found
    network_wide: bool = False


def scope(viewer: StaffMember) -> ColumnElement[bool]:
    """SQL: the events the viewer may read (403 for a role without ``SEE_AUDIT`` anywhere)."""
    sites = staff_access.sites_where(viewer, Action.SEE_AUDIT)
    if sites is None:
        return true()
    if not sites:
        raise NotAllowed("role_required", _("Réservé aux administrateurs du lieu."))
    return AuditEvent.site_id.in_(sites)


def _person_condition(viewer: StaffMember, filters: Filters) -> tuple[ColumnElement[bool],
                                                                      int | None]:
    if filters.person_id is not None:
        ids = [filters.person_id]
        found = None
    elif filters.person_text:
        ids = [p.id for p in people.search(viewer, filters.person_text)[:NAME_MATCHES]]
        found = len(ids)
        if not ids:
            return false(), 0
    else:
        return true(), None
    ids = merging.records_under(ids)  # a merged record's history is the kept person's
    as_object = and_(AuditEvent.object_type == "beneficiary",
                     AuditEvent.object_id.in_([str(i) for i in ids]))
    as_actor = and_(AuditEvent.actor_kind == ActorKind.BENEFICIARY,
                    AuditEvent.actor_id.in_(ids))
    return or_(as_object, as_actor), found


def _conditions(viewer: StaffMember, filters: Filters) -> tuple[list[ColumnElement[bool]],
                                                                int | None]:
    conditions = [scope(viewer)]
    person, found = _person_condition(viewer, filters)
    conditions.append(person)
    if filters.staff_id is not None:
        conditions.append(or_(
            and_(AuditEvent.actor_kind == ActorKind.STAFF,
                 AuditEvent.actor_id == filters.staff_id),
            and_(AuditEvent.object_type == "staff",
                 AuditEvent.object_id == str(filters.staff_id))))
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.site_id is not None:
        conditions.append(AuditEvent.site_id == filters.site_id)
    if filters.start is not None:
        conditions.append(AuditEvent.at >= _start_of(filters.start))
    if filters.end is not None:
        conditions.append(AuditEvent.at < _start_of(filters.end + timedelta(days=1)))
    if filters.before is not None:
        conditions.append(AuditEvent.id < filters.before)
    return conditions, found


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)


def events(viewer: StaffMember, filters: Filters) -> tuple[list[AuditEvent], int | None,
                                                           int | None]:
    """One page of events, newest first; the id to continue from (None: last page)."""
    conditions, found = _conditions(viewer, filters)
    rows = list(db.session.scalars(
        db.select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())
        .limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].id if more else None), found


def page(viewer: StaffMember, filters: Filters) -> Page:
    rows, next_before, found = events(viewer, filters)
    staff_ids = {e.actor_id for e in rows if e.actor_kind is ActorKind.STAFF and e.actor_id}
    staff_ids |= {i for e in rows if e.object_type == "staff"
                  and (i := parse_id(e.object_id)) is not None}
    person_ids = {e.actor_id for e in rows
                  if e.actor_kind is ActorKind.BENEFICIARY and e.actor_id}
    person_ids |= {i for e in rows if e.object_type == "beneficiary"
                   and (i := parse_id(e.object_id)) is not None}
    staff_names = {row.id: row.full_name for row in _rows(
        (StaffMember.id, StaffMember.full_name), staff_ids)}
    people_names = {row.id: (_("Personne anonymisée") if row.anonymised_at
                             else f"{row.first_name} {row.last_name}".strip())
                    for row in _rows((Beneficiary.id, Beneficiary.first_name,
                                      Beneficiary.last_name, Beneficiary.anonymised_at),
                                     person_ids)}
    sites = _sites(viewer)
    site_names = {s.id: s.name for s in sites}
    views = [_in_words(e, staff_names, people_names, site_names) for e in rows]
    return Page(views, next_before, _actions(viewer), sites, _team(viewer),
                matched_people=found,
                network_wide=staff_access.sites_where(viewer, Action.SEE_AUDIT) is None)


def _rows(columns: tuple[Any, ...], ids: set[int]) -> list[Any]:
    """The named columns of the rows with these ids (no relationship loaded), in one query."""
    if not ids:
        return []
    return list(db.session.execute(db.select(*columns).where(columns[0].in_(sorted(ids)))))


def _sites(viewer: StaffMember) -> list[Site]:
    return list(db.session.scalars(
        db.select(Site).where(staff_access.at_sites(viewer, Action.SEE_AUDIT, Site.id))
        .order_by(Site.name)))


def _actions(viewer: StaffMember) -> list[tuple[str, str]]:
    """The actions present in the events the viewer may read, in words, for the select."""
    present = db.session.scalars(
        db.select(AuditEvent.action).where(scope(viewer)).distinct())
    return sorted(((a, action_label(a)) for a in present), key=lambda pair: pair[1].lower())


def _team(viewer: StaffMember) -> list[StaffMember]:
    """The staff the viewer may filter on: the team of the sites they audit (all for the
    network)."""
    query = db.select(StaffMember).order_by(StaffMember.full_name)
    sites = staff_access.sites_where(viewer, Action.SEE_AUDIT)
    if sites is not None:
        query = query.where(StaffMember.id.in_(
            db.select(StaffSiteRole.staff_id).where(StaffSiteRole.site_id.in_(sites))))
    return list(db.session.scalars(query.limit(500)).unique())


def _in_words(event: AuditEvent, staff_names: dict[int, str], people_names: dict[int, str],
              site_names: dict[int, str]) -> EventView:
    if event.actor_kind is ActorKind.STAFF:
        who = staff_names.get(event.actor_id or 0) or _("Membre de l'équipe n° %(id)s",
                                                         id=event.actor_id)
    elif event.actor_kind is ActorKind.BENEFICIARY:
        who = people_names.get(event.actor_id or 0) or _("Personne n° %(id)s",
                                                         id=event.actor_id)
    else:
        who = str(event.actor_kind.label)
    kind = OBJECT_TYPES.get(event.object_type)
    on_what = ""
    if event.object_type:
        named = ""
        object_id = parse_id(event.object_id) or 0
        if event.object_type == "staff":
            named = staff_names.get(object_id, "")
        elif event.object_type == "beneficiary":
            named = people_names.get(object_id, "")
        label = str(kind) if kind is not None else event.object_type
        on_what = (_("%(kind)s : %(name)s", kind=label, name=named) if named
                   else _("%(kind)s n° %(id)s", kind=label, id=event.object_id))
    site = site_names.get(event.site_id or 0, "") if event.site_id else ""
    details = [(str(key), _detail(value)) for key, value in sorted((event.details or {}).items())]
    return EventView(event, who, action_label(event.action), on_what, site, details[:20])


def _detail(value: Any) -> str:
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)[:300]
    if isinstance(value, dict):
        return ", ".join(f"{k} : {v}" for k, v in value.items())[:300]
    return str(value)[:300]
