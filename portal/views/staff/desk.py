"""The desk: find a person, see their bookings, book or cancel on their behalf."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.access import staff_booking_or_404, staff_person_or_404
from portal.extensions import db
from portal.forms import EmptyForm, parse_id
from portal.htmx import hx_redirect, render_page_or_partial
from portal.models.catalogue import Course, WorkshopSession
from portal.models.people import Beneficiary
from portal.services import accompaniments, desk, merging, people, registration
from portal.services.errors import ServiceError
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor


def _for_staff(error: ServiceError, person: Beneficiary) -> str:
    """Service messages speak to the beneficiary; at the desk they are told to staff."""
    name = person.first_name
    messages = {
        "already_booked": _("%(name)s a déjà une place à cette séance.", name=name),
        "already_waitlisted": _("%(name)s est déjà sur la liste d'attente.", name=name),
        "session_full": _("La séance est complète. Cochez « liste d'attente » pour y mettre "
                          "%(name)s.", name=name),
        "too_many_bookings": _("%(name)s a déjà le nombre maximum d'ateliers à venir.",
                               name=name),
        "course_cannot_be_completed": _(
            "%(name)s ne pourra plus avoir l'attestation de fin de parcours : des séances "
            "sont passées ou complètes. Cochez « Inscrire quand même » pour l'inscrire aux "
            "séances qui restent.", name=name),
    }
    return messages.get(error.code, error.message)


@bp.route("/beneficiaires")
def people_search() -> Any:
    text = request.args.get("q", "")
    staff = current_staff()
    return render_page_or_partial("staff/people.html", "staff/_people_results.html",
                                  text=text, results=people.search(staff, text),
                                  may_register=bool(registration.site_choices(staff)))


@bp.route("/beneficiaires/<int:person_id>")
def person(person_id: int) -> Any:
    person = staff_person_or_404(person_id)
    if person.merged_into_id is not None:  # a merged record leads to the one kept
        return redirect(url_for("staff.person", person_id=merging.kept_record(person).id))
    return render_template("staff/person.html", file=desk.person_file(current_staff(), person),
                           person=person, form=EmptyForm(),
                           help_history=accompaniments.history(current_staff(), person))


@bp.route("/beneficiaires/<int:person_id>/reserver", methods=["POST"])
def book_for(person_id: int) -> Any:
    person = staff_person_or_404(person_id)
    raw = request.form.get("session_id", "")
    session_id = parse_id(raw)
    session = db.session.get(WorkshopSession, session_id) if session_id else None
    if session is None:
        flash(_("Choisissez une séance dans la liste."), "error")
        return hx_redirect(url_for("staff.person", person_id=person.id))
    try:
        outcome = desk.book_for(person, session, actor=staff_actor(),
                                waitlist=request.form.get("liste_attente") == "1")
    except ServiceError as error:
        flash(_for_staff(error, person), "error")
    else:
        flash(_("%(name)s est sur la liste d'attente de « %(title)s ».", name=person.first_name,
                title=session.workshop.title) if outcome.waitlisted else
              _("Inscription faite pour %(name)s : « %(title)s ».", name=person.first_name,
                title=session.workshop.title), "success")
    return hx_redirect(url_for("staff.person", person_id=person.id))


@bp.route("/beneficiaires/<int:person_id>/parcours", methods=["POST"])
def book_course_for(person_id: int) -> Any:
    person = staff_person_or_404(person_id)
    raw = request.form.get("course_id", "")
    course_id = parse_id(raw)
    course = db.session.get(Course, course_id) if course_id else None
    if course is None:
        flash(_("Choisissez un parcours dans la liste."), "error")
        return hx_redirect(url_for("staff.person", person_id=person.id))
    try:
        placed = desk.book_course_for(person, course, actor=staff_actor(),
                                      accept_incomplete=request.form.get("incomplet") == "1")
    except ServiceError as error:
        flash(_for_staff(error, person), "error")
    else:
        flash(ngettext("Inscription faite pour %(name)s : %(num)d séance du parcours.",
                       "Inscription faite pour %(name)s : les %(num)d séances du parcours.",
                       len(placed),
                       name=person.first_name), "success")
    return hx_redirect(url_for("staff.person", person_id=person.id))


@bp.route("/reservations/<int:booking_id>/annuler", methods=["POST"])
def cancel_for(booking_id: int) -> Any:
    booking = staff_booking_or_404(booking_id, Action.BOOK_FOR)
    person = staff_person_or_404(booking.beneficiary_id)
    try:
        promoted = desk.cancel_for(booking, actor=staff_actor())
    except ServiceError as error:
        flash(error.message, "error")
    else:
        message = _("Inscription annulée.")
        if promoted:
            message += " " + _("%(name)s, en liste d'attente, a reçu la place.",
                               name=promoted[0].beneficiary.first_name)
        flash(message, "success")
    return hx_redirect(url_for("staff.person", person_id=person.id))
