"""Closing a session (confirmation, then the documents to print) and reopening it (admins)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from portal.access import staff_session_or_404
from portal.downloads import pdf_response
from portal.forms import EmptyForm
from portal.htmx import answer, hx_redirect
from portal.models.vocab import SessionStatus
from portal.services import closing, staff_access
from portal.services.errors import ServiceError
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor, verify_url


@bp.route("/seances/<int:session_id>/cloture", methods=["GET", "POST"])
def close(session_id: int) -> Any:
    action = Action.CLOSE_SESSION if request.method == "POST" else Action.SEE_SESSIONS
    session = staff_session_or_404(session_id, action)
    form = EmptyForm()
    if request.method == "POST":
        try:
            done = closing.close_session(session, actor=staff_actor(), verify_url=verify_url())
        except ServiceError as error:
            flash(error.message, "error")
            return hx_redirect(url_for("staff.close", session_id=session.id))
        flash(_summary(done), "error" if done.documents_failed else "success")
        return hx_redirect(url_for("staff.close", session_id=session.id))
    context: dict[str, Any] = {
        "session": session, "form": form,
        "actions": staff_access.allowed_actions(current_staff(), session.site_id)}
    if session.status is SessionStatus.CLOSED:
        context.update(sheet=closing.final_attendance_sheet(session),
                       certificates=closing.certificates_for_printing(session),
                       documents_pending=closing.documents_pending(session))
    else:
        context["preview"] = closing.preview(session)
    return render_template("staff/close.html", **context)


def _summary(done: closing.Closing) -> str:
    if done.documents_failed:
        return _("Séance clôturée, mais les documents n'ont pas tous été édités. Cliquez sur "
                 "« Éditer les documents manquants ».")
    parts = [_("Séance clôturée.") if done.newly_closed else _("La séance était déjà clôturée.")]
    if done.marked_absent:
        parts.append(ngettext("%(num)d absence notée.", "%(num)d absences notées.",
                              done.marked_absent))
    if done.new_certificates:
        parts.append(ngettext("%(num)d attestation délivrée.", "%(num)d attestations délivrées.",
                              done.new_certificates))
    if done.course_certificates:
        parts.append(ngettext("%(num)d attestation de fin de parcours.",
                              "%(num)d attestations de fin de parcours.",
                              len(done.course_certificates)))
    return " ".join(parts)


@bp.route("/seances/<int:session_id>/attestations.pdf")
def session_certificates_pdf(session_id: int) -> Response:
    """Every current attestation of the session (and the end-of-course ones of its closing)."""
    session = staff_session_or_404(session_id, Action.SEE_DOCUMENTS)
    merged = closing.merged_certificates(session)
    if merged is None:
        abort(404)
    return pdf_response(merged, f"attestations-seance-{session.id}.pdf")


@bp.route("/seances/<int:session_id>/reouvrir", methods=["GET", "POST"])
def reopen(session_id: int) -> Any:
    session = staff_session_or_404(session_id, Action.REOPEN_SESSION)
    form = EmptyForm()
    if request.method == "GET":
        return render_template("staff/reopen.html", session=session, form=form, error=None,
                               reason="")
    reason = request.form.get("reason", "")[:1000]
    try:
        closing.reopen_session(session, reason, actor=staff_actor())
    except ServiceError as failure:
        return answer("staff/reopen.html", "staff/reopen.html", refused=True, session=session,
                      form=form, error=failure.message,
                      error_field=failure.details.get("field"), reason=reason)
    flash(_("Séance rouverte : corrigez les présences, puis clôturez-la de nouveau."), "success")
    return hx_redirect(url_for("staff.checkin_page", session_id=session.id))
