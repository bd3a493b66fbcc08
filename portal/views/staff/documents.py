"""Staff: documents of their sites, certificates for a person or a whole session, revoking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from portal.access import roles_required
from portal.clock import PARIS, now
from portal.extensions import db
from portal.forms import EmptyForm, parse_id
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.documents import Document
from portal.models.people import Beneficiary, Site
from portal.models.vocab import StaffRole
from portal.public_urls import public_address
from portal.services import documents, people
from portal.services.errors import ServiceError
from portal.views.staff import bp, current_staff, staff_actor, verify_url


def _in_my_sites(site_id: int) -> bool:
    sites = people.visible_site_ids(current_staff())
    return sites is None or site_id in sites


def pdf_response(data: bytes, filename: str, *, inline: bool = False) -> Response:
    """A PDF to save, or with ``inline`` to open in the browser's viewer and print at once."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Content-Length"] = str(len(data))
    return response


@bp.route("/documents")
def documents_list() -> str:
    staff = current_staff()
    site_ids = people.visible_site_ids(staff)
    query = db.select(Site).filter_by(is_active=True).order_by(Site.name)
    if site_ids is not None:
        query = query.where(Site.id.in_(site_ids or [-1]))
    last_month = (now().astimezone(PARIS).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return render_template("staff/documents.html", form=EmptyForm(),
                           sites=db.session.scalars(query).all(), last_month=last_month,
                           documents=documents.documents_of_sites(site_ids))


@bp.route("/documents/<int:document_id>.pdf")
def document_download(document_id: int) -> Any:
    document = db.session.get(Document, document_id)
    if document is None or not _in_my_sites(document.site_id):
        abort(404)
    if document.is_pending:  # numbered, its render failed: issuing it again completes it
        flash(_("Le document n° %(number)s est en préparation : éditez-le de nouveau pour le "
                "terminer.", number=document.number), "error")
        return redirect(url_for("staff.documents_list"), 303)
    return pdf_response(document.pdf, f"{document.number}.pdf",
                        inline=request.args.get("voir") == "1")


@bp.route("/documents/<int:document_id>/annuler", methods=["POST"])
@roles_required(StaffRole.ANIMATEUR, StaffRole.ADMIN)
def document_revoke(document_id: int) -> Any:
    document = db.session.get(Document, document_id)
    if document is None or not _in_my_sites(document.site_id):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        documents.revoke(document, request.form.get("reason", ""), actor=staff_actor())
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("Le document %(number)s est annulé. Il reste archivé.", number=document.number),
              "success")
    return redirect(url_for("staff.documents_list"), 303)


@bp.route("/reservations/<int:booking_id>/attestation", methods=["POST"])
def booking_certificate(booking_id: int) -> Any:
    booking = db.session.get(Booking, booking_id)
    if booking is None or not _in_my_sites(booking.session.site_id):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        document = documents.issue_certificate(booking, actor=staff_actor(),
                                               verify_url=verify_url())
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("staff.person", person_id=booking.beneficiary_id), 303)
    return pdf_response(document.pdf, f"{document.number}.pdf")


@bp.route("/seances/<int:session_id>/attestations", methods=["POST"])
def session_certificates(session_id: int) -> Any:
    session = db.session.get(WorkshopSession, session_id)
    if session is None or not _in_my_sites(session.site_id):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        issued, merged = documents.issue_session_certificates(session, actor=staff_actor(),
                                                              verify_url=verify_url())
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("staff.today"), 303)
    if merged is None:
        flash(_("Aucune nouvelle attestation : elles sont déjà toutes délivrées (%(n)d).",
                n=len(issued)), "info")
        return redirect(url_for("staff.documents_list"), 303)
    return pdf_response(merged, f"attestations-seance-{session.id}.pdf")


@bp.route("/seances/<int:session_id>/emargement", methods=["POST"])
def attendance_sheet(session_id: int) -> Any:
    session = db.session.get(WorkshopSession, session_id)
    if session is None or not _in_my_sites(session.site_id):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    document = documents.issue_attendance_sheet(session, actor=staff_actor())
    return pdf_response(document.pdf, f"{document.number}.pdf")


@bp.route("/beneficiaires/<int:person_id>/carte", methods=["POST"])
def login_card(person_id: int) -> Any:
    person = db.session.get(Beneficiary, person_id)
    staff = current_staff()
    if person is None or person.is_anonymised or not people.can_see(staff, person):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    site = person.home_site or (staff.roles[0].site if staff.roles else None)
    if site is None:
        flash(_("Indiquez d'abord le lieu habituel de la personne."), "error")
        return redirect(url_for("staff.person", person_id=person.id), 303)
    address = public_address()
    document = documents.issue_login_card(
        person, site, actor=staff_actor(), portal_address=address,
        code_validity=current_app.config["FIRST_LOGIN_CODE_VALIDITY"])
    return pdf_response(document.pdf, f"{document.number}.pdf")


@bp.route("/bordereau", methods=["POST"])
@roles_required(StaffRole.ANIMATEUR, StaffRole.ADMIN)
def deposit_slip() -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    raw_site, raw_month = request.form.get("site_id", ""), request.form.get("month", "")
    site_id = parse_id(raw_site)
    site = db.session.get(Site, site_id) if site_id else None
    if site is None or not _in_my_sites(site.id):
        abort(404)
    year, _sep, month = raw_month.partition("-")
    try:
        document = documents.issue_deposit_slip(
            site, parse_id(year) or 0, parse_id(month) or 0,
            actor=staff_actor())
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("staff.documents_list"), 303)
    return pdf_response(document.pdf, f"{document.number}.pdf")
