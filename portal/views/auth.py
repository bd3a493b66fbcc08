"""Login (one page for staff and beneficiaries), first login, password change, logout."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal import sessions
from portal.access import is_staff, safe_next
from portal.clock import now
from portal.extensions import db, limiter
from portal.forms import (
    EmptyForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    attach_errors,
)
from portal.htmx import hx_redirect, is_htmx
from portal.models.people import Beneficiary
from portal.services import accounts, login_sessions, team
from portal.services.audit import Actor, record
from portal.services.errors import ServiceError

bp = Blueprint("auth", __name__)

#: how long the card code stays accepted before the new password must be chosen.
FIRST_LOGIN_WINDOW_SECONDS = 600
PENDING_KEY = "first_login"


def _address_and_account() -> str:
    """Key of the login form's request limit: one account from one address.

    Never the address alone: a whole centre leaves through one address, and the requests of
    some must not refuse the others (failed logins are counted in services/throttle.py).
    """
    identifier = request.form.get("identifier", "")[:255]  # the form allows 254 at most
    return f"{sessions.client_ip()}|{accounts.account_key(identifier)}"


def _address_and_pending_person() -> str:
    pending = session.get(PENDING_KEY)
    person = pending.get("id") if isinstance(pending, dict) else None
    return f"{sessions.client_ip()}|{person}"


def _address_and_user() -> str:
    return f"{sessions.client_ip()}|{current_user.kind}:{current_user.id}"


def landing_url(user: Any = None) -> str:
    user = user if user is not None else current_user._get_current_object()
    return url_for("staff.today") if is_staff(user) else url_for("me.home")


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], key_func=_address_and_account)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(landing_url())
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    error: str | None = None
    status = 200
    if form.validate_on_submit():
        try:
            outcome = accounts.authenticate(form.identifier.data or "", form.password.data or "",
                                            ip=sessions.client_ip())
        except ServiceError as failure:
            error, status = failure.message, failure.status
        else:
            if outcome.must_choose_password:
                session[PENDING_KEY] = {"id": outcome.principal.id, "at": now().timestamp()}
                return redirect(url_for("auth.first_login"), 303)
            sessions.log_in(outcome.principal)
            return redirect(safe_next(form.next.data) or landing_url(outcome.principal), 303)
    elif request.method == "POST":
        status = 422
    notice = None
    if request.args.get("fin") == "inactivite":
        notice = _("Votre session a été fermée après un moment sans activité. "
                   "Reconnectez-vous pour continuer.")
    elif g.get("session_ended") or request.args.get("fin") == "session":
        notice = _("Votre session est terminée (inactivité ou déconnexion). "
                   "Reconnectez-vous pour continuer.")
    elif request.args.get("fin") == "deconnexion":
        notice = _("Déconnexion faite. À bientôt !")
    return render_template("auth/login.html", form=form, error=error, notice=notice), status


def _pending_first_login() -> Beneficiary | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if now().timestamp() - float(pending.get("at", 0)) > FIRST_LOGIN_WINDOW_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    person = db.session.get(Beneficiary, pending.get("id"))
    if person is None or not person.is_active or not person.first_login_code_hash:
        return None
    return person


@bp.route("/premiere-connexion", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], key_func=_address_and_pending_person)
def first_login() -> Any:
    person = _pending_first_login()
    if person is None:
        flash(_("Pour une première connexion, écrivez votre identifiant et le code "
                "de votre carte."), "info")
        return redirect(url_for("auth.login"))
    form = NewPasswordForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            accounts.complete_first_login(person, form.new_password.data or "",
                                          form.confirmation.data or "",
                                          actor=Actor.of(person, sessions.client_ip()))
        except ServiceError as failure:
            status = 422
            if not attach_errors(form, failure):
                error = failure.message
        else:
            sessions.log_in(person)
            flash(_("C'est fait ! Votre mot de passe est enregistré. "
                    "Gardez-le pour vous."), "success")
            return redirect(url_for("me.home"), 303)
    elif request.method == "POST":
        status = 422
    return render_template("auth/first_login.html", form=form, person=person,
                           error=error), status


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"], key_func=_address_and_user)
def change_password() -> Any:
    user = current_user._get_current_object()
    form = PasswordChangeForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            accounts.change_password(user, form.current_password.data or "",
                                     form.new_password.data or "", form.confirmation.data or "",
                                     actor=Actor.of(user, sessions.client_ip()))
        except ServiceError as failure:
            status = failure.status if failure.status != 401 else 422
            if not attach_errors(form, failure):
                error = failure.message
        else:
            # Every session ended with the change, this one included: open a new one here.
            sessions.log_in(user)
            flash(_("Votre mot de passe est changé. Vos autres connexions sont fermées."),
                  "success")
            return redirect(landing_url(user), 303)
    elif request.method == "POST":
        status = 422
    return render_template("auth/change_password.html", form=form, error=error), status


@bp.route("/deconnexion", methods=["POST"])
def logout() -> Response:
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("public.home"))  # type: ignore[return-value]
    user = current_user._get_current_object()
    record(Actor.of(user, sessions.client_ip()), "logout", object_type=user.kind,
           object_id=user.id)
    sessions.log_out()
    response = hx_redirect(url_for("auth.login", fin="deconnexion"))
    # Shared PCs: wipe what the browser kept for this site.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/session/prolonger", methods=["POST"])
def keep_alive() -> Any:
    """The "Stay logged in" button of the inactivity warning."""
    form = EmptyForm()
    row = sessions.current_login_session()
    if form.validate_on_submit() and row is not None:
        login_sessions.keep_alive(row)
    if is_htmx():
        return Response(status=204)
    return redirect(safe_next(request.form.get("next")) or landing_url(), 303)


@bp.app_context_processor
def _idle_context() -> dict[str, Any]:
    row = sessions.current_login_session()
    if row is None:
        return {"idle_seconds": None, "idle_warning_seconds": None}
    warning = int(current_app.config["IDLE_WARNING_BEFORE"].total_seconds())
    return {"idle_seconds": row.idle_timeout_seconds, "idle_warning_seconds": warning,
            "idle_minutes": row.idle_timeout_seconds // 60}


# --- a colleague's invitation (services/team.py) -------------------------------------------------


def _invitation_page(secret: str, *, action: str, via_code: bool) -> Any:
    """The password form of an invitation, or what is wrong with it in plain French."""
    try:
        invitation = team.find_invitation(secret)
    except ServiceError as failure:
        status = 404 if failure.code == "invitation_unknown" else 410
        return render_template("auth/invitation.html", problem=failure.message, form=None,
                               action=action, code=secret if via_code else "",
                               via_code=via_code), status
    form = NewPasswordForm()
    error = None
    status = 200
    if request.method == "POST" and "new_password" in request.form:
        if form.validate_on_submit():
            try:
                staff = team.accept(secret, form.new_password.data or "",
                                    form.confirmation.data or "", ip=sessions.client_ip())
            except ServiceError as failure:
                status = 422
                if not attach_errors(form, failure):
                    error = failure.message
            else:
                sessions.log_in(staff)
                flash(_("Bienvenue dans l'équipe ! Votre mot de passe est enregistré."),
                      "success")
                return redirect(url_for("staff.today"), 303)
        else:
            status = 422
    return render_template("auth/invitation.html", problem=None, form=form, error=error,
                           action=action, code=secret if via_code else "", via_code=via_code,
                           invitation=invitation), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def invitation(token: str) -> Any:
    return _invitation_page(token[:128], action=url_for("auth.invitation", token=token[:128]),
                            via_code=False)


@bp.route("/invitation", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def invitation_code() -> Any:
    """The short code of an invitation, typed: then the same password form."""
    code = request.form.get("code", "")[:40] if request.method == "POST" else ""
    if request.method == "POST" and code.strip():
        return _invitation_page(code, action=url_for("auth.invitation_code"), via_code=True)
    error = _("Écrivez le code de votre invitation.") if request.method == "POST" else None
    return render_template("auth/invitation_code.html", code=code,
                           error=error), 422 if error else 200
