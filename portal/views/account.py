"""A staff member's own account: their roles, their password, their open login sessions.

Not a site's screen (no role at a site is needed): its own blueprint under ``/equipe/compte``,
for every staff member, acting only on their own account. Rules: ``services/team.py``.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, url_for
from flask_babel import gettext as _

from portal import sessions
from portal.access import current_staff, require_staff
from portal.forms import EmptyForm
from portal.htmx import hx_redirect, render_page_or_partial
from portal.services import team
from portal.services.audit import Actor

bp = Blueprint("account", __name__, url_prefix="/equipe/compte")
bp.before_request(require_staff)


def _actor() -> Actor:
    return Actor.of(current_staff(), sessions.client_ip())


@bp.route("/")
def home() -> Response:
    staff = current_staff()
    current = sessions.current_login_session()
    return render_page_or_partial(
        "staff/account.html", "staff/account.html", staff=staff,
        roles=sorted(staff.roles, key=lambda r: r.site.name),
        login_sessions=team.open_sessions(staff), current_id=current.id if current else None,
        device=team.device_in_words, form=EmptyForm())


@bp.route("/sessions/<int:session_id>/fin", methods=["POST"])
def end_session(session_id: int) -> Response:
    team.end_session(current_staff(), session_id, actor=_actor(),
                     current=sessions.current_login_session())
    flash(_("Cette session est fermée."), "success")
    return hx_redirect(url_for("account.home"))


@bp.route("/sessions/fin-des-autres", methods=["POST"])
def end_others() -> Response:
    ended = team.end_other_sessions(current_staff(), actor=_actor(),
                                    current=sessions.current_login_session())
    flash(_("Vos autres sessions sont fermées.") if ended
          else _("Vous n'aviez pas d'autre session ouverte."), "success" if ended else "info")
    return hx_redirect(url_for("account.home"))
