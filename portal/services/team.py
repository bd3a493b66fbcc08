"""The team of a site: who works there, inviting a colleague, roles, disabling an account.

A site administrator manages the staff holding a role at the sites where they have
``MANAGE_TEAM``; a network administrator manages everyone. Rules (docs/architecture.md#the-team):

- an invitation is single-use, expires after :data:`INVITATION_VALIDITY`, and a new one for the
  same person revokes the previous; only the SHA-256 of its token and of its short code are kept;
- nobody removes or demotes the last administrator of a site; a site administrator does not
  change their own role;
- disabling an account ends all its login sessions at once; nobody disables themselves; a site
  administrator disables only someone whose every role is at a site they manage, and a network
  administrator only by a network administrator.

Every function is one unit of work and audits what it changes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, update

from portal.clock import now
from portal.extensions import db
from portal.forms import parse_id
from portal.models.messages import OutboxMessage
from portal.models.people import Site, StaffMember, StaffSiteRole
from portal.models.sessions import LoginSession
from portal.models.team import StaffInvitation
from portal.models.vocab import MessageChannel, StaffRole
from portal.services import login_sessions, passwords, staff_access
from portal.services.accounts import new_password_problems, normalise_email, refuse_all
from portal.services.audit import Actor, record
from portal.services.codes import group, normalise_code, random_code
from portal.services.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.services.staff_access import Action

INVITATION_VALIDITY = timedelta(days=7)
INVITATION_CODE_LENGTH = 10
NAME_MAX = 120
INVITATION_TOPIC = "staff_invitation"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _not_found() -> NotFound:
    return NotFound("not_found", _("Cette page n'existe pas ou n'existe plus."))


# --- who is on the team ---------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A line of the team screen: the roles shown are those at sites the viewer manages."""

    staff: StaffMember
    roles: list[StaffSiteRole]
    pending: StaffInvitation | None  # an open invitation, not yet used


def managed_sites(viewer: StaffMember) -> list[int] | None:
    """The sites whose team the viewer manages (``None``: every site)."""
    return staff_access.sites_where(viewer, Action.MANAGE_TEAM)


def may_manage_someone(viewer: StaffMember) -> bool:
    sites = managed_sites(viewer)
    return sites is None or bool(sites)


def listing(viewer: StaffMember) -> list[Member]:
    """The staff holding a role at a site the viewer manages (everyone for the network)."""
    sites = managed_sites(viewer)
    query = db.select(StaffMember).order_by(StaffMember.full_name, StaffMember.id)
    if sites is not None:
        if not sites:
            return []
        query = query.where(StaffMember.id.in_(
            db.select(StaffSiteRole.staff_id).where(StaffSiteRole.site_id.in_(sites))))
    members = list(db.session.scalars(query))
    pending = _open_invitations([m.id for m in members])
    return [Member(m, _visible_roles(m, sites), pending.get(m.id)) for m in members]


def _visible_roles(staff: StaffMember, sites: list[int] | None) -> list[StaffSiteRole]:
    roles = [r for r in staff.roles if sites is None or r.site_id in sites]
    return sorted(roles, key=lambda r: r.site.name)


def _open_invitations(staff_ids: list[int]) -> dict[int, StaffInvitation]:
    if not staff_ids:
        return {}
    rows = db.session.scalars(db.select(StaffInvitation).where(
        StaffInvitation.staff_id.in_(staff_ids), StaffInvitation.used_at.is_(None),
        StaffInvitation.revoked_at.is_(None), StaffInvitation.expires_at > now()))
    return {row.staff_id: row for row in rows}


def member_for(viewer: StaffMember, staff_id: int) -> Member:
    """A colleague the viewer manages. Someone with no role at the viewer's sites is a 404;
    someone at a site where the viewer's role does not manage the team, a 403."""
    sites = managed_sites(viewer)
    staff = db.session.get(StaffMember, staff_id)
    if staff is None:
        raise _not_found()
    if sites is not None:
        theirs = {r.site_id for r in staff.roles}
        if not theirs & set(sites):
            if theirs & set(viewer.site_ids) or staff.id == viewer.id:
                raise NotAllowed("role_required", _("Réservé aux administrateurs du lieu."))
            raise _not_found()
    return Member(staff, _visible_roles(staff, sites), _open_invitations([staff.id]).get(staff.id))


# --- inviting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationInput:
    email: str = ""
    full_name: str = ""
    site: str = ""
    role: str = ""


@dataclass(frozen=True)
class Issued:
    """What the administrator hands over, shown once: the link and the code to type."""

    staff: StaffMember
    token: str | None  # None: an account that already has a password just got a role
    code: str | None
    expires_at: datetime | None
    emailed: bool


def invite(data: InvitationInput, *, actor: Actor, link_for: object = None) -> Issued:
    """Invite a colleague to a site with a role, or give the role to an existing account.

    ``link_for(token)`` builds the absolute link put in the e-mail (none is queued without it).
    """
    inviter = staff_access.staff_of(actor)
    problems: list[ValidationFailed] = []
    email = ""
    try:
        email = normalise_email(data.email)
    except ValidationFailed as error:
        problems.append(error)
    full_name = " ".join((data.full_name or "").split())
    if not full_name or len(full_name) > NAME_MAX:
        problems.append(ValidationFailed("name_invalid",
                                         _("Écrivez le nom et le prénom (120 caractères au "
                                           "plus)."), field="full_name"))
    site_id = parse_id((data.site or "").strip())
    site = None
    if site_id is not None:
        staff_access.require(inviter, Action.MANAGE_TEAM, site_id)  # 404 / 403
        site = db.session.get(Site, site_id)
    if site is None:
        problems.append(ValidationFailed("site_required",
                                         _("Choisissez le lieu."), field="site"))
    role = _role(data.role)
    if role is None:
        problems.append(ValidationFailed("role_required", _("Choisissez le rôle."),
                                         field="role"))
    refuse_all(problems)
    assert site is not None and role is not None

    staff = db.session.scalar(db.select(StaffMember).filter_by(email=email))
    if staff is not None:
        if staff.is_network_admin:
            raise Conflict("already_network_admin",
                           _("Cette personne administre déjà tout le réseau."), field="email")
        held = next((r for r in staff.roles if r.site_id == site.id), None)
        if held is not None and staff.password_hash:
            raise Conflict("already_on_team",
                           _("Cette personne fait déjà partie de l'équipe de ce lieu. "
                             "Changez son rôle depuis sa fiche."), field="email")
        if held is None:
            staff.roles.append(StaffSiteRole(site_id=site.id, role=role))
            record(actor, "team.role_given", object_type="staff", object_id=staff.id,
                   site_id=site.id, role=role.value)
        elif held.role is not role:
            record(actor, "team.role_changed", object_type="staff", object_id=staff.id,
                   site_id=site.id, previous=held.role.value, role=role.value)
            held.role = role
        if staff.password_hash:
            db.session.commit()
            return Issued(staff, None, None, None, emailed=False)
    else:
        staff = StaffMember(email=email, full_name=full_name, password_hash=None)
        staff.roles.append(StaffSiteRole(site_id=site.id, role=role))
        db.session.add(staff)
        db.session.flush()
        record(actor, "account.staff_created", object_type="staff", object_id=staff.id,
               site_id=site.id, role=role.value)
    token, code, invitation = _new_invitation(staff, site.id, role, inviter, actor)
    emailed = False
    if callable(link_for):
        _queue_email(staff, site.name, str(link_for(token)), code, invitation)
        emailed = True
    db.session.commit()
    return Issued(staff, token, code, invitation.expires_at, emailed=emailed)


def _role(raw: str) -> StaffRole | None:
    try:
        return StaffRole((raw or "").strip())
    except ValueError:
        return None


def _new_invitation(staff: StaffMember, site_id: int, role: StaffRole, inviter: StaffMember,
                    actor: Actor) -> tuple[str, str, StaffInvitation]:
    revoked = db.session.execute(
        update(StaffInvitation)
        .where(StaffInvitation.staff_id == staff.id, StaffInvitation.used_at.is_(None),
               StaffInvitation.revoked_at.is_(None))
        .values(revoked_at=now()),
        execution_options={"synchronize_session": False}).rowcount or 0
    token = secrets.token_urlsafe(32)
    code = random_code(INVITATION_CODE_LENGTH)
    at = now()
    invitation = StaffInvitation(staff_id=staff.id, site_id=site_id, role=role,
                                 token_hash=_hash(token), code_hash=_hash(code), created_at=at,
                                 expires_at=at + INVITATION_VALIDITY, created_by_id=inviter.id)
    db.session.add(invitation)
    db.session.flush()
    record(actor, "team.invited", object_type="staff", object_id=staff.id, site_id=site_id,
           role=role.value, invitation=invitation.id, expires_at=invitation.expires_at.isoformat(),
           **({"previous_revoked": revoked} if revoked else {}))
    return token, code, invitation


def _queue_email(staff: StaffMember, site_name: str, link: str, code: str,
                 invitation: StaffInvitation) -> None:
    """The link by e-mail, in the outbox (staff are no beneficiaries: ``beneficiary_id`` None),
    in the colleague's language whatever the language of the administrator's screen."""
    with force_locale(staff.preferred_language.value):
        subject = _("Invitation à rejoindre l'équipe : %(site)s", site=site_name)
        body = "\n\n".join((
            _("Bonjour %(name)s,", name=staff.full_name),
            _("Vous êtes invité ou invitée à rejoindre l'équipe de %(site)s sur le portail.",
              site=site_name),
            _("Pour choisir votre mot de passe, ouvrez ce lien :") + "\n" + link,
            _("Vous pouvez aussi écrire ce code sur la page « Invitation » du portail : "
              "%(code)s", code=group(code, 5)),
            _("Ce lien ne sert qu'une fois. Il expire dans 7 jours."),
        )) + "\n"
    at = now()
    db.session.add(OutboxMessage(channel=MessageChannel.EMAIL, recipient=staff.email,
                                 subject=subject[:200], body=body, topic=INVITATION_TOPIC,
                                 beneficiary_id=None,
                                 dedupe_key=f"{INVITATION_TOPIC}:{invitation.id}",
                                 created_at=at, send_after=at, attempts=0, last_error=""))


# --- accepting ---------------------------------------------------------------------------------


def find_invitation(secret: str) -> StaffInvitation:
    """The invitation behind a link's token or a typed code; refused in plain French when it is
    unknown, used, revoked or expired (``NotAllowed``, never a crash)."""
    secret = (secret or "").strip()
    if not secret or len(secret) > 128:
        raise _unknown_invitation()
    invitation = db.session.scalar(db.select(StaffInvitation).where(
        (StaffInvitation.token_hash == _hash(secret))
        | (StaffInvitation.code_hash == _hash(normalise_code(secret)))))
    if invitation is None:
        raise _unknown_invitation()
    if invitation.used_at is not None:
        raise NotAllowed("invitation_used",
                         _("Cette invitation a déjà servi. Connectez-vous avec votre adresse "
                           "e-mail et votre mot de passe."))
    if invitation.revoked_at is not None:
        raise NotAllowed("invitation_revoked",
                         _("Cette invitation a été remplacée par une plus récente. Utilisez le "
                           "dernier lien reçu, ou demandez-en un nouveau."))
    if invitation.expires_at <= now():
        raise NotAllowed("invitation_expired",
                         _("Cette invitation a expiré. Demandez une nouvelle invitation à "
                           "l'administrateur de votre lieu."))
    if not invitation.staff.is_active:
        raise _unknown_invitation()
    return invitation


def _unknown_invitation() -> NotAllowed:
    return NotAllowed("invitation_unknown",
                      _("Ce lien ou ce code d'invitation n'est pas reconnu. Vérifiez-le, ou "
                        "demandez une nouvelle invitation."))


def accept(secret: str, new_password: str, confirmation: str, *, ip: str = "") -> StaffMember:
    """Choose a password with an invitation, which can then never be used again."""
    invitation = find_invitation(secret)
    staff = invitation.staff
    refuse_all(new_password_problems(staff, new_password, confirmation))
    at = now()
    claimed = db.session.execute(
        update(StaffInvitation)
        .where(StaffInvitation.id == invitation.id, StaffInvitation.used_at.is_(None),
               StaffInvitation.revoked_at.is_(None))
        .values(used_at=at),
        execution_options={"synchronize_session": False}).rowcount
    if not claimed:  # used or replaced meanwhile
        db.session.rollback()
        raise NotAllowed("invitation_used", _("Cette invitation a déjà servi."))
    staff.password_hash = passwords.hash_password(new_password)
    staff.password_changed_at = at
    staff.last_login_at = at
    login_sessions.revoke_all(staff, "password_changed")
    record(Actor.of(staff, ip), "team.invitation_accepted", object_type="staff",
           object_id=staff.id, site_id=invitation.site_id, invitation=invitation.id)
    db.session.commit()
    return staff


# --- roles -------------------------------------------------------------------------------------


def _held(staff: StaffMember, site_id: int) -> StaffSiteRole:
    held = next((r for r in staff.roles if r.site_id == site_id), None)
    if held is None:
        raise _not_found()
    return held


def _admins_at(site_id: int) -> int:
    return db.session.scalar(
        db.select(func.count()).select_from(StaffSiteRole).join(StaffSiteRole.staff)
        .where(StaffSiteRole.site_id == site_id, StaffSiteRole.role == StaffRole.ADMIN,
               StaffMember.is_active.is_(True))) or 0


def _refuse_own_role(actor_staff: StaffMember, target: StaffMember) -> None:
    if actor_staff.id == target.id and not actor_staff.is_network_admin:
        raise NotAllowed("own_role", _("Vous ne pouvez pas changer votre propre rôle. "
                                       "Demandez-le à un autre administrateur."))


def _refuse_last_admin(held: StaffSiteRole, new_role: StaffRole | None) -> None:
    if held.role is StaffRole.ADMIN and new_role is not StaffRole.ADMIN \
            and held.staff.is_active and _admins_at(held.site_id) <= 1:
        raise Conflict("last_admin", _("C'est le dernier administrateur de ce lieu. Nommez "
                                       "d'abord un autre administrateur."))


def change_role(target: StaffMember, site_id: int, new_role: str, *, actor: Actor) -> bool:
    """Change the role held at a site; False when nothing changes."""
    staff = staff_access.require_actor(actor, Action.MANAGE_TEAM, site_id)
    held = _held(target, site_id)
    role = _role(new_role)
    if role is None:
        raise ValidationFailed("role_required", _("Choisissez le rôle."), field="role")
    if role is held.role:
        return False
    _refuse_own_role(staff, target)
    _refuse_last_admin(held, role)
    previous = held.role
    held.role = role
    record(actor, "team.role_changed", object_type="staff", object_id=target.id,
           site_id=site_id, previous=previous.value, role=role.value)
    db.session.commit()
    return True


def remove_role(target: StaffMember, site_id: int, *, actor: Actor) -> None:
    """Take away the role held at a site (the account stays, for its other sites)."""
    staff = staff_access.require_actor(actor, Action.MANAGE_TEAM, site_id)
    held = _held(target, site_id)
    _refuse_own_role(staff, target)
    _refuse_last_admin(held, None)
    previous = held.role
    target.roles.remove(held)
    record(actor, "team.role_removed", object_type="staff", object_id=target.id,
           site_id=site_id, previous=previous.value)
    db.session.commit()


# --- disabling ---------------------------------------------------------------------------------


def may_set_active(viewer: StaffMember, target: StaffMember) -> bool:
    try:
        _check_may_set_active(viewer, target)
    except (NotAllowed, NotFound):
        return False
    return True


def _check_may_set_active(staff: StaffMember, target: StaffMember) -> None:
    if staff.id == target.id:
        raise NotAllowed("own_account", _("Vous ne pouvez pas désactiver votre propre compte."))
    if target.is_network_admin and not staff.is_network_admin:
        raise NotAllowed("network_admin_required", _("Réservé à l'administration du réseau."))
    sites = managed_sites(staff)
    if sites is None:
        return
    if not any(r.site_id in sites for r in target.roles):
        raise _not_found()
    if not all(r.site_id in sites for r in target.roles):
        raise NotAllowed("other_sites",
                         _("Cette personne travaille aussi dans un lieu que vous ne gérez pas. "
                           "Retirez plutôt son rôle dans votre lieu."))


def set_active(target: StaffMember, active: bool, *, actor: Actor) -> bool:
    """Disable (every login session ends at once) or re-enable an account; False if unchanged."""
    staff = staff_access.staff_of(actor)
    _check_may_set_active(staff, target)
    if target.is_active is active:
        return False
    target.is_active = active
    ended = 0 if active else login_sessions.revoke_all(target, "disabled")
    action = "account.enabled" if active else "account.disabled"
    for site_id in sorted(r.site_id for r in target.roles) or [None]:
        record(actor, action, object_type="staff", object_id=target.id, site_id=site_id,
               **({"sessions_ended": ended} if ended else {}))
    db.session.commit()
    return True


# --- one's own login sessions ------------------------------------------------------------------


def open_sessions(staff: StaffMember) -> list[LoginSession]:
    """The login sessions of an account still open (not ended, not expired), latest first."""
    at = now()
    rows = db.session.scalars(
        db.select(LoginSession)
        .where(LoginSession.staff_id == staff.id, LoginSession.revoked_at.is_(None),
               LoginSession.expires_at > at)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc()).limit(50))
    return [row for row in rows
            if at - row.last_seen_at < timedelta(seconds=row.idle_timeout_seconds)]


def end_session(staff: StaffMember, session_id: int, *, actor: Actor,
                current: LoginSession | None) -> None:
    """End one of one's own other login sessions; anyone else's is a 404."""
    row = db.session.get(LoginSession, session_id)
    if row is None or row.staff_id != staff.id or row.revoked_at is not None:
        raise _not_found()
    if current is not None and row.id == current.id:
        raise ValidationFailed("current_session",
                               _("Pour fermer cette session-ci, utilisez « Se déconnecter »."))
    row.revoked_at = now()
    row.revoked_reason = "ended_by_owner"
    record(actor, "account.session_ended", object_type="staff", object_id=staff.id,
           login_session=row.id)
    db.session.commit()


def end_other_sessions(staff: StaffMember, *, actor: Actor,
                       current: LoginSession | None) -> int:
    ended = login_sessions.revoke_all(staff, "ended_by_owner", keep=current)
    if ended:
        record(actor, "account.other_sessions_ended", object_type="staff", object_id=staff.id,
               count=ended)
    db.session.commit()
    return ended


_DEVICES = (("iphone", "iPhone"), ("ipad", "iPad"), ("android", "Android"),
            ("windows", "Windows"), ("cros", "Chromebook"), ("mac os", "Mac"),
            ("linux", "Linux"))
_BROWSERS = (("edg/", "Edge"), ("opr/", "Opera"), ("firefox/", "Firefox"),
             ("chrome/", "Chrome"), ("chromium/", "Chromium"), ("safari/", "Safari"))


def device_in_words(user_agent: str) -> str:
    """"Firefox sur Windows" from a user agent; a plain "Appareil inconnu" otherwise."""
    lowered = (user_agent or "").lower()
    system = next((name for key, name in _DEVICES if key in lowered), "")
    browser = next((name for key, name in _BROWSERS if key in lowered), "")
    if browser and system:
        return _("%(browser)s sur %(system)s", browser=browser, system=system)
    return browser or system or _("Appareil inconnu")
