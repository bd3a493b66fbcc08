"""May this staff member do this here? The one answer, for views and services alike.

A staff member holds one role per site (reception, animateur, administrator); a network
administrator is an administrator at every site. What each role may do is the
:data:`PERMISSIONS` table, and every check is "this action at this site": a role held at
another site never counts.

- :func:`require` refuses with ``NotFound`` when the staff member has no role at the site (the
  site's sessions, people and documents do not exist for them: a 404, as another person's
  booking is for a beneficiary) and with ``NotAllowed`` when their role there lacks the action
  (a 403).
- :func:`can` asks the same question; :func:`allowed_actions` answers it for every action at
  once, so that screens offer only the buttons a person may use.
- :func:`sites_where` lists the sites where an action is allowed (``None``: every site) and
  :func:`at_sites` is the same as a SQL condition, for listings.

No request state here: the staff member is passed in (:func:`staff_of` turns a service's actor
into one). See docs/security.md#roles-per-site.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import InstrumentedAttribute

from portal.extensions import db
from portal.models.people import Site, StaffMember
from portal.models.vocab import StaffRole
from portal.services.audit import Actor
from portal.services.errors import NotAllowed, NotFound


class Action(StrEnum):
    """What a staff member may do at a site."""

    SEE_SESSIONS = "see_sessions"  # the week's sessions, a check-in screen and its roster
    CHECK_IN = "check_in"  # scan, present / absent / excused, undo, walk-ins
    ADD_SEAT = "add_seat"  # one more seat in a full session, for someone at the door
    TAKE_CHEQUES = "take_cheques"  # cheques at check-in and their receipt
    CLOSE_SESSION = "close_session"  # settles attendance and issues the session's documents
    REOPEN_SESSION = "reopen_session"  # an administrator's correction
    PRINT_ATTENDANCE = "print_attendance"  # an attendance sheet
    ISSUE_CERTIFICATES = "issue_certificates"  # attestations of a session or of a person
    SEE_PEOPLE = "see_people"  # the desk: find a person, see their bookings and notes
    BOOK_FOR = "book_for"  # book or cancel on a person's behalf
    PRINT_CARD = "print_card"  # a login card with a new first-login code
    SEE_DOCUMENTS = "see_documents"  # the documents issued at the site
    REVOKE_DOCUMENT = "revoke_document"  # an issued document, with a reason
    DEPOSIT_SLIP = "deposit_slip"  # the monthly cheque deposit slip (a gap-free number)
    EDIT_CATALOGUE = "edit_catalogue"  # create, edit and archive the site's workshops and courses
    SCHEDULE_SESSIONS = "schedule_sessions"  # schedule, edit and duplicate sessions and series
    CANCEL_SESSION = "cancel_session"  # cancel a session, telling everyone booked or waiting
    EDIT_CLOSURES = "edit_closures"  # the site's closure days, which series skip
    PRINT_PROGRAMME = "print_programme"  # the month's programme for the notice board
    PRINT_CONVOCATIONS = "print_convocations"  # slips for people no message can reach
    REGISTER_PERSON = "register_person"  # register a new person at the desk or at the door
    EDIT_PERSON = "edit_person"  # correct a person's details and notes
    RESET_ACCESS = "reset_access"  # a new first-login code; the person's sessions end
    MERGE_PEOPLE = "merge_people"  # two records of one person become one (no undo)
    RECORD_HELP = "record_help"  # record individual help; edit or delete one's own
    EDIT_ANY_HELP = "edit_any_help"  # edit or delete individual help recorded by a colleague
    SEE_CHEQUES = "see_cheques"  # the cheques taken at the site, programme by programme
    MANAGE_TEAM = "manage_team"  # invite colleagues, give and take roles at the site, disable
    EDIT_SITE = "edit_site"  # the site's settings, logo and signature
    SEE_AUDIT = "see_audit"  # the site's audit trail (read-only)
    SEE_REPORTS = "see_reports"  # the site's activity figures and their printable report
    EXPORT_DATA = "export_data"  # attendance, activity log and cheques as CSV or XLSX files
    EXPORT_PERSON = "export_person"  # everything held on one person, every site (PDF, JSON)
    ANONYMISE_PERSON = "anonymise_person"  # erase a person's identity on request (no undo)


_RECEPTION = frozenset({
    Action.SEE_SESSIONS, Action.CHECK_IN, Action.TAKE_CHEQUES, Action.CLOSE_SESSION,
    Action.PRINT_ATTENDANCE, Action.ISSUE_CERTIFICATES, Action.SEE_PEOPLE, Action.BOOK_FOR,
    Action.PRINT_CARD, Action.SEE_DOCUMENTS, Action.PRINT_PROGRAMME, Action.PRINT_CONVOCATIONS,
    Action.REGISTER_PERSON, Action.EDIT_PERSON, Action.RESET_ACCESS, Action.RECORD_HELP,
})
#: the animateur builds the programme; reception sees and prints it but does not change it.
_ANIMATEUR = _RECEPTION | {
    Action.ADD_SEAT, Action.REVOKE_DOCUMENT, Action.DEPOSIT_SLIP, Action.EDIT_CATALOGUE,
    Action.SCHEDULE_SESSIONS, Action.CANCEL_SESSION, Action.EDIT_CLOSURES, Action.MERGE_PEOPLE,
    Action.SEE_CHEQUES, Action.SEE_REPORTS, Action.EXPORT_DATA,
}

#: role → what it may do at the site where it is held.
PERMISSIONS: dict[StaffRole, frozenset[Action]] = {
    StaffRole.RECEPTION: _RECEPTION,
    StaffRole.ANIMATEUR: _ANIMATEUR,
    StaffRole.ADMIN: _ANIMATEUR | {
        Action.REOPEN_SESSION, Action.EDIT_ANY_HELP, Action.MANAGE_TEAM, Action.EDIT_SITE,
        Action.SEE_AUDIT, Action.EXPORT_PERSON, Action.ANONYMISE_PERSON,
    },
}


def staff_of(actor: Actor) -> StaffMember:
    """The active staff member behind a service's actor; anyone else may not act here."""
    staff = db.session.get(StaffMember, actor.staff_id) if actor.staff_id else None
    if staff is None or not staff.is_active:
        raise NotAllowed("staff_only", _("Réservé à l'équipe."))
    return staff


def role_at(staff: StaffMember, site_id: int) -> StaffRole | None:
    """The role held at the site (administrator everywhere for a network administrator)."""
    if staff.is_network_admin:
        return StaffRole.ADMIN
    return next((r.role for r in staff.roles if r.site_id == site_id), None)


def allowed_actions(staff: StaffMember, site_id: int) -> frozenset[Action]:
    """Everything the staff member may do at the site (nothing without a role there)."""
    role = role_at(staff, site_id)
    return PERMISSIONS[role] if role is not None else frozenset()


def actions_at(staff: StaffMember, site_ids: Iterable[int]) -> dict[int, frozenset[Action]]:
    """:func:`allowed_actions` for each site of a listing."""
    return {site_id: allowed_actions(staff, site_id) for site_id in set(site_ids)}


def can(staff: StaffMember, action: Action, site_id: int) -> bool:
    return action in allowed_actions(staff, site_id)


def require(staff: StaffMember, action: Action, site_id: int) -> StaffRole:
    """The role that allows ``action`` at the site; a 404 without a role there, a 403 when
    the role does not allow it."""
    role = role_at(staff, site_id)
    if role is None:
        raise NotFound("not_found", _("Cette page n'existe pas ou n'existe plus."))
    if action not in PERMISSIONS[role]:
        raise NotAllowed("role_required",
                         _("Votre rôle dans ce lieu (%(role)s) ne permet pas cette action.",
                           role=role.label))
    return role


def require_actor(actor: Actor, action: Action, site_id: int) -> StaffMember:
    """:func:`require` for a service's actor; the staff member."""
    staff = staff_of(actor)
    require(staff, action, site_id)
    return staff


def sites_where(staff: StaffMember, action: Action) -> list[int] | None:
    """The sites where the action is allowed, by id; ``None`` means every site."""
    if staff.is_network_admin:
        return None
    return sorted(r.site_id for r in staff.roles if action in PERMISSIONS[r.role])


def at_sites(staff: StaffMember, action: Action,
             column: InstrumentedAttribute[int] | InstrumentedAttribute[int | None]
             ) -> ColumnElement[bool]:
    """SQL: ``column`` (a site id) is one of :func:`sites_where`."""
    sites = sites_where(staff, action)
    return true() if sites is None else column.in_(sites)


def sites_for(staff: StaffMember, action: Action) -> list[Site]:
    """The active sites where the action is allowed, by name (for a form's choice)."""
    return list(db.session.scalars(
        db.select(Site).where(Site.is_active.is_(True), at_sites(staff, action, Site.id))
        .order_by(Site.name)))


def require_network_admin(staff: StaffMember) -> None:
    """What belongs to no site (the cheque programmes, the network's staff) is the network
    administrator's: a 403 for anyone else on the team."""
    if not staff.is_network_admin:
        raise NotAllowed("network_admin_required",
                         _("Réservé à l'administration du réseau."))
