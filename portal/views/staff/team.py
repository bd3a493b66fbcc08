"""Staff: the team — who works where, inviting a colleague, roles, disabling an account.
Rules: ``services/team.py``."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, request, url_for
from flask_babel import gettext as _

from portal.forms import parse_id
from portal.htmx import answer, hx_redirect, render_page_or_partial
from portal.models.vocab import StaffRole
from portal.public_urls import public_url
from portal.services import staff_access, team
from portal.services.errors import ServiceError, ValidationFailed
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor

_FORM_MAX = 300


def _field(name: str) -> str:
    return request.form.get(name, "")[:_FORM_MAX]


def _raise_access(error: ServiceError) -> None:
    """403 and 404 are error pages; other refusals are shown on the screen."""
    if error.status == 404 or error.code in ("role_required", "staff_only"):
        raise error


@bp.route("/equipe")
def team_list() -> Response:
    staff = current_staff()
    return render_page_or_partial(
        "staff/team/list.html", "staff/team/list.html", members=team.listing(staff),
        may_invite=team.may_manage_someone(staff), network=staff.is_network_admin)


def _invite_form(data: team.InvitationInput, *, errors: dict[str, str] | None = None,
                 refused: bool = False, message: str = "") -> Response:
    return answer("staff/team/invite.html", "staff/team/invite.html", refused=refused,
                  data=data, errors=errors or {}, message=message, roles=list(StaffRole),
                  sites=staff_access.sites_for(current_staff(), Action.MANAGE_TEAM))


@bp.route("/equipe/inviter", methods=["GET", "POST"])
def team_invite() -> Response:
    staff = current_staff()
    if request.method == "GET":
        sites = staff_access.sites_for(staff, Action.MANAGE_TEAM)
        return _invite_form(team.InvitationInput(
            site=str(sites[0].id) if len(sites) == 1 else "", role=StaffRole.RECEPTION.value))
    data = team.InvitationInput(email=_field("email"), full_name=_field("full_name"),
                                site=_field("site"), role=_field("role"))
    try:
        issued = team.invite(data, actor=staff_actor(),
                             link_for=lambda token: public_url("auth.invitation", token=token))
    except ServiceError as error:
        _raise_access(error)
        fields = dict(error.details.get("fields") or {})
        if not fields and error.details.get("field"):
            fields[error.details["field"]] = error.message
        return _invite_form(data, errors=fields, refused=True,
                            message="" if fields else error.message)
    if issued.token is None:
        flash(_("%(name)s a maintenant un rôle dans ce lieu. Son compte existait déjà : "
                "son mot de passe ne change pas.", name=issued.staff.full_name), "success")
        return hx_redirect(url_for("staff.team_member", staff_id=issued.staff.id))
    # Shown once, never stored: only the hashes are kept.
    return answer("staff/team/invited.html", "staff/team/invited.html", issued=issued,
                  link=public_url("auth.invitation", token=issued.token),
                  code_url=public_url("auth.invitation_code"))


def _member_page(member: team.Member, *, refused: bool = False, message: str = "") -> Response:
    staff = current_staff()
    return answer("staff/team/member.html", "staff/team/member.html", refused=refused,
                  member=member, message=message, roles=list(StaffRole),
                  may_set_active=team.may_set_active(staff, member.staff),
                  is_self=member.staff.id == staff.id)


@bp.route("/equipe/<int:staff_id>")
def team_member(staff_id: int) -> Response:
    return _member_page(team.member_for(current_staff(), staff_id))


def _act(staff_id: int, action: Any, done: str, then: str | None = None) -> Response:
    member = team.member_for(current_staff(), staff_id)
    try:
        changed = action(member.staff)
    except ServiceError as error:
        _raise_access(error)
        return _member_page(team.member_for(current_staff(), staff_id), refused=True,
                            message=error.message)
    flash(done if changed is not False else _("Rien n'a changé."),
          "success" if changed is not False else "info")
    return hx_redirect(then or url_for("staff.team_member", staff_id=staff_id))


def _site() -> int:
    site_id = parse_id(request.form.get("site"))
    if site_id is None:
        raise ValidationFailed("site_required", _("Choisissez le lieu."), field="site")
    return site_id


@bp.route("/equipe/<int:staff_id>/role", methods=["POST"])
def team_role(staff_id: int) -> Response:
    return _act(staff_id, lambda target: team.change_role(target, _site(), _field("role"),
                                                          actor=staff_actor()),
                _("Le rôle est changé."))


@bp.route("/equipe/<int:staff_id>/retirer", methods=["POST"])
def team_role_remove(staff_id: int) -> Response:
    return _act(staff_id, lambda target: team.remove_role(target, _site(), actor=staff_actor()),
                _("Le rôle dans ce lieu est retiré."), url_for("staff.team_list"))


@bp.route("/equipe/<int:staff_id>/desactiver", methods=["POST"])
def team_disable(staff_id: int) -> Response:
    return _act(staff_id, lambda target: team.set_active(target, False, actor=staff_actor()),
                _("Le compte est désactivé. Ses sessions ouvertes sont fermées."))


@bp.route("/equipe/<int:staff_id>/reactiver", methods=["POST"])
def team_enable(staff_id: int) -> Response:
    return _act(staff_id, lambda target: team.set_active(target, True, actor=staff_actor()),
                _("Le compte est réactivé."))
