"""Staff: documents of their sites, certificates for a person or a whole session, revoking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from portal.access import (
    staff_booking_or_404,
    staff_document_or_404,
    staff_person_or_404,
    staff_session_or_404,
    staff_site_or_404,
)
from portal.clock import PARIS, now
from portal.downloads import pdf_response
from portal.forms import EmptyForm, parse_id
from portal.htmx import answer, hx_redirect
from portal.public_urls import public_address
from portal.services import desk, documents, staff_access
from portal.services.errors import ServiceError
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor, verify_url


@bp.route("/documents")
def documents_list() -> str:
    return render_template("staff/documents.html", **_documents_context())


def _documents_context(*, errors: dict[str, str] | None = None,
                       values: dict[str, str] | None = None) -> dict[str, Any]:
    """The documents screen; ``errors`` by field id (a refused form shown again), ``values``
    what was typed."""
    staff = current_staff()
    issued = documents.documents_of_sites(staff_access.sites_where(staff, Action.SEE_DOCUMENTS))
    last_month = (now().astimezone(PARIS).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return {"form": EmptyForm(), "documents": issued, "errors": errors or {},
            "values": {"month": last_month, **(values or {})},
            "sites": staff_access.sites_for(staff, Action.DEPOSIT_SLIP),
            "actions": staff_access.actions_at(staff, (d.site_id for d in issued))}


def _refused_form(error: ServiceError, field_id: str | None,
                  values: dict[str, str]) -> Response:
    """The documents screen again (422), the refusal tied to the field it is about."""
    errors = {field_id or "": error.message}
    return answer("staff/documents.html", "staff/documents.html", refused=True,
                  **_documents_context(errors=errors, values=values))


@bp.route("/documents/<int:document_id>.pdf")
def document_download(document_id: int) -> Any:
    document = staff_document_or_404(document_id, Action.SEE_DOCUMENTS)
    if document.is_pending:  # numbered, its render failed: issuing it again completes it
        flash(_("Le document n° %(number)s est en préparation : éditez-le de nouveau pour le "
                "terminer.", number=document.number), "error")
        return hx_redirect(url_for("staff.documents_list"))
    return pdf_response(document.pdf, f"{document.number}.pdf",
                        inline=request.args.get("voir") == "1")


@bp.route("/documents/<int:document_id>/annuler", methods=["POST"])
def document_revoke(document_id: int) -> Any:
    document = staff_document_or_404(document_id, Action.REVOKE_DOCUMENT)
    reason = request.form.get("reason", "")[:1000]
    try:
        documents.revoke(document, reason, actor=staff_actor())
    except ServiceError as error:
        field = f"reason-{document.id}" if error.details.get("field") == "reason" else None
        return _refused_form(error, field, {f"reason-{document.id}": reason})
    flash(_("Le document %(number)s est annulé. Il reste archivé.", number=document.number),
          "success")
    return hx_redirect(url_for("staff.documents_list"))


@bp.route("/reservations/<int:booking_id>/attestation", methods=["POST"])
def booking_certificate(booking_id: int) -> Any:
    booking = staff_booking_or_404(booking_id, Action.ISSUE_CERTIFICATES)
    try:
        document = documents.issue_certificate(booking, actor=staff_actor(),
                                               verify_url=verify_url())
    except ServiceError as error:
        flash(error.message, "error")
        return hx_redirect(url_for("staff.person", person_id=booking.beneficiary_id))
    return pdf_response(document.pdf, f"{document.number}.pdf")


@bp.route("/seances/<int:session_id>/attestations", methods=["POST"])
def session_certificates(session_id: int) -> Any:
    session = staff_session_or_404(session_id, Action.ISSUE_CERTIFICATES)
    try:
        issued, merged = documents.issue_session_certificates(session, actor=staff_actor(),
                                                              verify_url=verify_url())
    except ServiceError as error:
        flash(error.message, "error")
        return hx_redirect(url_for("staff.today"))
    if merged is None:
        flash(_("Aucune nouvelle attestation : elles sont déjà toutes délivrées (%(n)d).",
                n=len(issued)), "info")
        return hx_redirect(url_for("staff.documents_list"))
    return pdf_response(merged, f"attestations-seance-{session.id}.pdf")


@bp.route("/seances/<int:session_id>/emargement", methods=["POST"])
def attendance_sheet(session_id: int) -> Any:
    session = staff_session_or_404(session_id, Action.PRINT_ATTENDANCE)
    document = documents.issue_attendance_sheet(session, actor=staff_actor())
    return pdf_response(document.pdf, f"{document.number}.pdf")


@bp.route("/beneficiaires/<int:person_id>/carte", methods=["POST"])
def login_card(person_id: int) -> Any:
    person = staff_person_or_404(person_id)
    site = desk.card_site(current_staff(), person)
    if site is None:
        flash(_("Indiquez d'abord le lieu habituel de la personne."), "error")
        return hx_redirect(url_for("staff.person", person_id=person.id))
    address = public_address()
    document = documents.issue_login_card(
        person, site, actor=staff_actor(), portal_address=address,
        code_validity=current_app.config["FIRST_LOGIN_CODE_VALIDITY"])
    return pdf_response(document.pdf, f"{document.number}.pdf")


@bp.route("/bordereau", methods=["POST"])
def deposit_slip() -> Any:
    raw_site, raw_month = request.form.get("site_id", ""), request.form.get("month", "")[:20]
    site = staff_site_or_404(parse_id(raw_site) or 0, Action.DEPOSIT_SLIP)
    year, _sep, month = raw_month.partition("-")
    try:
        document = documents.issue_deposit_slip(
            site, parse_id(year) or 0, parse_id(month) or 0,
            actor=staff_actor())
    except ServiceError as error:
        # A month that is not one, or without cheques, is told at the month.
        about_month = error.details.get("field") == "month" or error.code == "no_cheques"
        return _refused_form(error, "deposit-month" if about_month else None,
                             {"month": raw_month, "site_id": str(site.id)})
    return pdf_response(document.pdf, f"{document.number}.pdf")
