"""Public pages: home, accessibility statement, personal-data notice, language, health."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal import paging
from portal.access import safe_next
from portal.extensions import db, limiter
from portal.forms import EmptyForm
from portal.models.people import Site
from portal.services import accessibility as accessibility_service
from portal.services import accounts, catalogue, documents, login_sessions, personal_data, throttle
from portal.services.audit import Actor
from portal.services.codes import normalise_code
from portal.services.errors import ServiceError
from portal.sessions import client_ip

bp = Blueprint("public", __name__)


@bp.route("/")
def home() -> str:
    sites, pages = catalogue.sites_page(paging.asked_page(request.args))
    upcoming = catalogue.upcoming_sessions(limit=8)
    return render_template("public/home.html", sites=sites, site_pages=pages,
                           page_args=paging.other_args(request.args), upcoming=upcoming)


@bp.route("/accessibilite")
def accessibility() -> str:
    sites = db.session.scalars(db.select(Site).filter_by(is_active=True).order_by(Site.name)).all()
    return render_template("public/accessibility.html", sites=sites,
                           statement=accessibility_service.statement())


@bp.app_context_processor
def _accessibility_compliance() -> dict[str, Any]:
    """The state of compliance every page's footer links to (RGAA)."""
    return {"accessibility_compliance": accessibility_service.statement().compliance}


@bp.route("/donnees-personnelles")
def privacy() -> str:
    sites = db.session.scalars(db.select(Site).filter_by(is_active=True).order_by(Site.name)).all()
    return render_template("public/privacy.html", sites=sites,
                           retention_months=personal_data.retention_months_shown(),
                           retention_by_site=personal_data.retention_by_site(),
                           sessions_kept_days=login_sessions.KEEP_ENDED_DAYS)


@bp.route("/langue", methods=["POST"])
def set_language() -> Any:
    form = EmptyForm()
    language = request.form.get("lang", "")
    destination = safe_next(request.form.get("next")) or "/"
    if not form.validate_on_submit():
        abort(400)
    if language not in current_app.config["LANGUAGES"]:
        flash(_("Cette langue n'est pas proposée."), "error")
        return redirect(destination, 303)
    session["lang"] = language
    if current_user.is_authenticated:
        with contextlib.suppress(ServiceError):
            accounts.set_language(current_user, language,
                                  actor=Actor.of(current_user, client_ip()))
    return redirect(destination, 303)


@bp.route("/verifier")
@limiter.limit("30 per minute")
def verify_form() -> Any:
    """Typing the code printed on a document."""
    code = (request.args.get("code") or "").strip()
    if code:
        normalised = normalise_code(code)
        if normalised and len(normalised) <= 40 and normalised.isalnum():
            return redirect(url_for("public.verify", code=normalised), 303)
    return render_template("public/verify.html", result=None, code=code,
                           asked=bool(code)), 200 if not code else 404


@bp.route("/v/<code>")
@limiter.limit("30 per minute")
def verify(code: str) -> Any:
    """The public verification page of a certificate: valid, revoked or unknown."""
    document = documents.find_by_code(code) if len(code) <= 40 else None
    if document is None:
        return render_template("public/verify.html", result=None, code=code[:40],
                               asked=True), 404
    return render_template("public/verify.html", result=documents.verification_view(document),
                           code=code, asked=True)


@bp.route("/healthz")
@limiter.exempt
def healthz() -> Any:
    """For load balancers: 200 when the database answers, 503 otherwise. Shared rate-limit
    counters (Redis) down only make it "degraded", still 200: every node would be taken out
    at once otherwise, and logins work without them (docs/security.md#login-throttling)."""
    rate_limits = throttle.storage_state()
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        response = jsonify(status="error", database="unavailable", rate_limits=rate_limits)
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    status = "degraded" if rate_limits == "unavailable" else "ok"
    return jsonify(status=status, database="ok", rate_limits=rate_limits)
