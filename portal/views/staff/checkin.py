"""The check-in screen: scan field, roster (polled with an ETag), marks, walk-ins, cheques.

Every action answers htmx with the result (into the ``role="status"`` region), the person's
panel and the roster (out of band); without JavaScript the same routes render the whole page.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from flask import make_response, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.access import staff_booking_or_404, staff_session_or_404
from portal.extensions import db
from portal.formatting import day, euros, hour
from portal.forms import EmptyForm, parse_id
from portal.htmx import answer, render_page_or_partial, wants_partial
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.documents import Document
from portal.models.people import Beneficiary
from portal.models.vocab import BookingStatus, SessionStatus
from portal.services import (
    bookings,
    checkin,
    people,
    registration,
    roster,
    staff_access,
    vouchers,
)
from portal.services.catalogue import as_listed
from portal.services.errors import ServiceError
from portal.services.registration import Duplicate, LikelyDuplicates, PersonInput
from portal.services.staff_access import Action
from portal.views.staff import bp, current_staff, staff_actor
from portal.views.staff.people_forms import field_errors, person_input, vocabularies

#: how often an open check-in screen asks whether the roster changed.
POLL_SECONDS = 4


@dataclass
class Result:
    """One answer shown in the status region, and what the panel below it offers."""

    tone: str
    label: str
    message: str
    code: str
    booking: Booking | None = None
    person: Beneficiary | None = None
    walk_in: bool = False
    matches: list[Beneficiary] = field(default_factory=list)
    receipt: Document | None = None
    refusals: list[vouchers.Refusal] = field(default_factory=list)
    focus: str = "scan"
    #: what was scanned, sent again with the walk-in: the card is the proof the person is here.
    presented: str = ""
    #: more to say, one line each (the person's other bookings, their state here).
    notes: list[str] = field(default_factory=list)
    #: the session is full: offer one more seat (``offer``) or ask to confirm it (``confirm``).
    extra_seat: str = ""
    #: nobody found: the short form to register the person at the door, as typed so far.
    new_person: PersonInput | None = None
    new_errors: dict[str, str] = field(default_factory=dict)
    #: people the one being registered may be (choose one, or register anyway).
    duplicates: list[Duplicate] = field(default_factory=list)


# --- messages for staff ----------------------------------------------------------------------


def _still_owed(payment: vouchers.Payment) -> str:
    if payment.price == 0:
        return _("Atelier gratuit.")
    if payment.owed == 0:
        return _("Chèques : tout est payé.")
    return ngettext("Reste à payer : %(num)d chèque.", "Reste à payer : %(num)d chèques.",
                    payment.owed)


def _marked_result(marked: checkin.Marked) -> Result:
    booking = marked.booking
    name = booking.beneficiary.display_name
    payment = vouchers.payment(booking)
    if marked.code == "already_checked_in":
        who = booking.checked_in_by.full_name if booking.checked_in_by else _("l'équipe")
        when = hour(booking.checked_in_at) if booking.checked_in_at else "?"
        return Result("warn", _("Déjà là"),
                      _("%(name)s : présence déjà notée à %(hour)s par %(who)s.", name=name,
                        hour=when, who=who) + " " + _still_owed(payment),
                      marked.code, booking, booking.beneficiary)
    if marked.code == "checked_in":
        added = (" " + _("Une place a été ajoutée : la séance compte maintenant %(num)d places.",
                         num=booking.session.capacity)) if marked.seat_added else ""
        return Result("ok", _("Présence"), _("Présence notée : %(name)s.", name=name) + added
                      + " " + _still_owed(payment), marked.code, booking, booking.beneficiary)
    if marked.code == "walk_in_added":
        added = (" " + _("Une place a été ajoutée : la séance compte maintenant %(num)d places.",
                         num=booking.session.capacity)) if marked.seat_added else ""
        return Result("info", _("Sans inscription"),
                      _("Ajout sans inscription, présence notée : %(name)s.", name=name) + added
                      + " " + _still_owed(payment), marked.code, booking, booking.beneficiary)
    messages = {
        "marked_absent": (_("Absence"), _("Absence notée : %(name)s.", name=name)),
        "marked_excused": (_("Absence excusée"), _("Absence excusée notée : %(name)s.", name=name)),
        "undone": (_("Pointage annulé"),
                   _("Ajout annulé : %(name)s ne figure plus sur la liste.", name=name)
                   if booking.status is BookingStatus.CANCELLED else
                   _("Pointage annulé : retour à l'inscription pour %(name)s.", name=name)),
    }
    label, message = messages[marked.code]
    return Result("ok", label, message, marked.code, booking, booking.beneficiary)


#: the word shown by colour for a refusal, when "Refusé" would not say enough.
def _refusal_label(code: str) -> str:
    return {"unknown_code": _("Inconnu"), "session_closed": _("Séance clôturée"),
            "session_cancelled": _("Séance annulée"),
            "session_not_today": _("Pas aujourd'hui")}.get(code, _("Refusé"))


def _refused(error: ServiceError) -> Result:
    return Result("error", _refusal_label(error.code), error.message, error.code,
                  refusals=list(getattr(error, "refusals", [])))


def _when(booking: Booking, session: WorkshopSession) -> str:
    there = booking.session
    if checkin.session_day(there).date() == checkin.session_day(session).date():
        return _("aujourd'hui à %(hour)s", hour=hour(there.starts_at))
    return _("le %(day)s à %(hour)s", day=day(there.starts_at), hour=hour(there.starts_at))


def _booked_elsewhere(booking: Booking, session: WorkshopSession) -> str:
    """One of the person's other bookings, as a line under the answer."""
    title, when = booking.session.workshop.title, _when(booking, session)
    if booking.status is BookingStatus.WAITLISTED:
        return _("Sur liste d'attente de « %(title)s » %(when)s.", title=title, when=when)
    return _("Inscription à « %(title)s » %(when)s.", title=title, when=when)


def _state_here(booking: Booking) -> str:
    """Why someone with a row at this session holds no seat in it."""
    if booking.status is BookingStatus.CANCELLED:
        return _("Inscription à cette séance annulée le %(day)s.",
                 day=day(booking.cancelled_at or booking.status_changed_at))
    if booking.status is BookingStatus.WAITLISTED:
        return _("Sur liste d'attente de cette séance.")
    if booking.status is BookingStatus.EXCUSED:
        return _("Absence excusée notée à cette séance.")
    return _("Absence notée à cette séance.")


def _without_seat(session: WorkshopSession, outcome: checkin.ScanOutcome,
                  presented: str) -> Result:
    """Someone at the door without a seat here: blue when one is free (add them), amber when
    the session is full (one more seat for those who may add it)."""
    person = outcome.person
    assert person is not None
    notes = [_booked_elsewhere(b, session) for b in outcome.others]
    if outcome.booking is not None:
        notes.insert(0, _state_here(outcome.booking))
    if outcome.code == "walk_in_possible":
        return Result(
            "info", _("Sans inscription"),
            _("Pas de place réservée à cette séance pour %(name)s.", name=person.display_name)
            + " " + ngettext("Il reste %(num)d place : vous pouvez l'ajouter.",
                             "Il reste %(num)d places : vous pouvez l'ajouter.",
                             session.seats_left),
            outcome.code, person=person, walk_in=True, focus="walk-in", presented=presented,
            notes=notes)
    may_add = staff_access.can(current_staff(), Action.ADD_SEAT, session.site_id)
    message = _("Séance complète (%(taken)d places sur %(capacity)d) : pas de place pour "
                "%(name)s.", taken=session.seats_taken, capacity=session.capacity,
                name=person.display_name)
    message += " " + (_("Pour ne renvoyer personne, vous pouvez ajouter une place.") if may_add
                      else _("Un animateur ou un administrateur du lieu peut ajouter une "
                             "place."))
    return Result("warn", _("Complet"), message, "session_full", person=person,
                  presented=presented, notes=notes, extra_seat="offer" if may_add else "",
                  focus="extra-seat" if may_add else "scan")


# --- rendering -----------------------------------------------------------------------------


def _etag(session: WorkshopSession, text: str) -> str:
    staff = current_staff()
    # Stable across processes (unlike hash()): several workers answer the same screen.
    search = zlib.crc32(text.encode())
    return f'W/"{roster.fingerprint(session)}-{staff.id}-{get_locale()}-{search:x}"'


def _roster_context(session: WorkshopSession, text: str,
                    etag: str | None = None) -> dict[str, Any]:
    listed = roster.roster(current_staff(), session, text)
    return {"roster": listed, "text": text, "etag": etag or _etag(session, text),
            "poll_seconds": POLL_SECONDS, "can_act": listed.can_check_in}


def _panel_context(session: WorkshopSession, result: Result | None,
                   booking: Booking | None) -> dict[str, Any]:
    """The person's panel: their row (payment, what may be done) and their receipts."""
    booking = booking or (result.booking if result and result.booking and
                          result.booking.session_id == session.id else None)
    staff = current_staff()
    row = roster.row(staff, booking) if booking is not None else None
    return {"panel_row": row,
            "receipts": vouchers.receipts_of(booking) if booking is not None else [],
            "programmes": vouchers.active_programmes() if row and "cheques" in row.actions
            else [],
            "actions": staff_access.allowed_actions(staff, session.site_id)}


def _page_context(session: WorkshopSession, result: Result | None = None,
                  booking: Booking | None = None, text: str = "",
                  cheque_input: str = "") -> dict[str, Any]:
    return {"session": session, "result": result, "form": EmptyForm(), **vocabularies(),
            "is_today": checkin.is_today(session), "cheque_input": cheque_input,
            **_roster_context(session, text), **_panel_context(session, result, booking)}


def _respond(session: WorkshopSession, result: Result, booking: Booking | None = None,
             cheque_input: str = "") -> Response:
    text = request.form.get("q", "")
    context = _page_context(session, result, booking, text, cheque_input)
    return answer("staff/checkin.html", "staff/_checkin_answer.html",
                  refused=result.tone == "error", **context)


def _new_person_from(session: WorkshopSession, typed: str) -> PersonInput | None:
    """What was typed, as a new person's first and last names (when it is a name and the
    staff member may register people at the session's site)."""
    if not staff_access.can(current_staff(), Action.REGISTER_PERSON, session.site_id):
        return None
    words = " ".join(typed.split())[:120]
    if not any(ch.isalpha() for ch in words):
        return PersonInput(site=str(session.site_id))
    first, _sep, last = words.partition(" ")
    return PersonInput(first_name=first[:80], last_name=last[:80], site=str(session.site_id))


# --- routes --------------------------------------------------------------------------------


@bp.route("/seances/<int:session_id>/pointage")
def checkin_page(session_id: int) -> str:
    session = staff_session_or_404(session_id, Action.SEE_SESSIONS, options=as_listed())
    booking_id = parse_id(request.args.get("b"))
    booking = db.session.get(Booking, booking_id) if booking_id else None
    if booking is not None and booking.session_id != session.id:
        booking = None
    context = _page_context(session, None, booking, request.args.get("q", "")[:80])
    # Opened for a person (?b=, the roster's links without JavaScript): the page is anchored
    # at their panel, so the scan field does not take the focus (and the scroll) from it.
    return render_template("staff/checkin.html", opened_person=booking is not None, **context)


@bp.route("/seances/<int:session_id>/pointage/liste")
def roster_fragment(session_id: int) -> Response:
    """The roster alone, for polling: 304 when nothing changed since the ETag sent."""
    session = staff_session_or_404(session_id, Action.SEE_SESSIONS, options=as_listed())
    text = request.args.get("q", "")[:80]
    etag = _etag(session, text)
    if request.if_none_match.contains_weak(etag.removeprefix("W/").strip('"')):
        response = make_response("", 304)
        response.vary.add("HX-Request")
    else:
        context = ({**_roster_context(session, text, etag), "session": session}
                   if wants_partial() else _page_context(session, text=text))
        response = render_page_or_partial("staff/checkin.html", "staff/_roster.html", **context)
    response.headers["ETag"] = etag
    return response


@bp.route("/seances/<int:session_id>/pointage/personne/<int:booking_id>")
def person_panel(session_id: int, booking_id: int) -> Response:
    session = staff_session_or_404(session_id, Action.SEE_SESSIONS, options=as_listed())
    booking = staff_booking_or_404(booking_id, Action.SEE_SESSIONS, session=session)
    if wants_partial():
        context = {"session": session, "form": EmptyForm(), "result": None,
                   **_panel_context(session, None, booking)}
    else:  # without JavaScript, the link opens the page at the panel
        context = {**_page_context(session, None, booking, request.args.get("q", "")[:80]),
                   "opened_person": True}
    return render_page_or_partial("staff/checkin.html", "staff/_person_panel.html", **context)


@bp.route("/seances/<int:session_id>/pointage/scan", methods=["POST"])
def scan(session_id: int) -> Response:
    session = staff_session_or_404(session_id, Action.CHECK_IN, options=as_listed())
    raw = request.form.get("code", "")
    try:
        outcome = checkin.scan(session, raw, actor=staff_actor())
    except ServiceError as error:
        result = _refused(error)
        if error.code == "unknown_code":
            result.new_person = _new_person_from(session, raw)
        return _respond(session, result)
    if outcome.code in ("walk_in_possible", "session_full"):
        return _respond(session, _without_seat(session, outcome, raw.strip()[:120]))
    if outcome.code == "choose_person":
        return _respond(session, Result(
            "info", _("Choisir"),
            ngettext("%(num)d personne trouvée : choisissez-la ci-dessous.",
                     "%(num)d personnes trouvées : choisissez ci-dessous.", len(outcome.matches)),
            outcome.code, matches=outcome.matches, focus="matches"))
    assert outcome.booking is not None
    return _respond(session, _marked_result(checkin.Marked(outcome.code, outcome.booking)))


_MARKS = {"present": checkin.check_in, "absent": checkin.mark_absent,
          "excused": checkin.mark_excused, "undo": checkin.undo}


@bp.route("/seances/<int:session_id>/pointage/<int:booking_id>", methods=["POST"])
def mark(session_id: int, booking_id: int) -> Response:
    session = staff_session_or_404(session_id, Action.CHECK_IN, options=as_listed())
    booking = staff_booking_or_404(booking_id, Action.CHECK_IN, session=session)
    action = _MARKS.get(request.form.get("action", ""))
    if action is None:
        return _respond(session, Result("error", _("Refusé"), _("Choisissez une action."),
                                        "action_unknown"), booking)
    try:
        marked = action(booking, actor=staff_actor())
    except ServiceError as error:
        result = _refused(error)
    else:
        result = _marked_result(marked)
    # Keyboard users stay on the row they acted on (a scan still lands in the scan field).
    result.focus = f"name-{booking.id}"
    return _respond(session, result, booking)


@bp.route("/seances/<int:session_id>/pointage/ajout", methods=["POST"])
def walk_in(session_id: int) -> Response:
    session = staff_session_or_404(session_id, Action.CHECK_IN, options=as_listed())
    person_id = parse_id(request.form.get("person_id"))
    person = db.session.get(Beneficiary, person_id) if person_id else None
    presented = request.form.get("presented", "")[:120]
    try:
        if person is None:
            raise people.unknown_person()
        marked = checkin.add_walk_in(session, person, actor=staff_actor(), presented=presented,
                                     extra_seat=request.form.get("extra_seat") == "1",
                                     confirmed=request.form.get("confirmed") == "1")
    except checkin.SeatToConfirm as question:
        return _respond(session, Result(
            "warn", _("Confirmer"), question.message, question.code, person=person,
            presented=presented, extra_seat="confirm", focus="extra-seat-confirm"))
    except ServiceError as error:
        if error.code == "session_full" and person is not None:
            db.session.refresh(session)
            full = checkin.ScanOutcome("session_full", person=person,
                                       booking=bookings.booking_for(session, person))
            return _respond(session, _without_seat(session, full, presented))
        return _respond(session, _refused(error))
    return _respond(session, _marked_result(marked), marked.booking)


@bp.route("/seances/<int:session_id>/pointage/<int:booking_id>/cheques", methods=["POST"])
def take_cheques(session_id: int, booking_id: int) -> Response:
    session = staff_session_or_404(session_id, Action.TAKE_CHEQUES, options=as_listed())
    booking = staff_booking_or_404(booking_id, Action.TAKE_CHEQUES, session=session)
    raw = request.form.get("numbers", "")[:2000]
    programme = parse_id(request.form.get("programme_id"))
    name = booking.beneficiary.display_name
    try:
        done = vouchers.redeem_cheques(booking, raw, actor=staff_actor(),
                                       programme_id=programme)
    except ServiceError as error:
        result = _refused(error)
        result.focus = "cheques"
        return _respond(session, result, booking, cheque_input=raw)
    message = ngettext("%(num)d chèque pris pour %(name)s", "%(num)d chèques pris pour %(name)s",
                       len(done.cheques), name=name)
    message += f" ({euros(sum(c.value_cents for c in done.cheques))})."
    if done.receipt is not None:
        message += " " + _("Reçu n° %(number)s prêt à imprimer.", number=done.receipt.number)
    else:
        message += " " + _("Le reçu n'a pas pu être édité : cliquez sur « Éditer le reçu ».")
    result = Result("ok", _("Chèques pris"), message, "cheques_redeemed", booking,
                    booking.beneficiary, receipt=done.receipt,
                    focus="receipt" if done.receipt else "cheques")
    return _respond(session, result, booking)


@bp.route("/seances/<int:session_id>/pointage/<int:booking_id>/recu", methods=["POST"])
def issue_receipt(session_id: int, booking_id: int) -> Response:
    session = staff_session_or_404(session_id, Action.TAKE_CHEQUES, options=as_listed())
    booking = staff_booking_or_404(booking_id, Action.TAKE_CHEQUES, session=session)
    try:
        document = vouchers.issue_missing_receipt(booking, actor=staff_actor())
    except ServiceError as error:
        return _respond(session, _refused(error), booking)
    return _respond(session, Result("ok", _("Reçu"),
                                    _("Reçu n° %(number)s prêt à imprimer.",
                                      number=document.number),
                                    "receipt_issued", booking, booking.beneficiary,
                                    receipt=document, focus="receipt"), booking)


def poll_url(session: WorkshopSession, text: str) -> str:
    return url_for("staff.roster_fragment", session_id=session.id, q=text or None)


@bp.app_template_global("checkin_state")
def checkin_state(session: WorkshopSession) -> str:
    """A one-line state for the screen's header."""
    if session.status is SessionStatus.CLOSED:
        return _("Clôturée")
    if session.status is SessionStatus.CANCELLED:
        return _("Annulée")
    if session.reopened_at is not None:
        return _("Rouverte pour correction")
    return _("Pointage ouvert") if checkin.is_today(session) else _("Pas aujourd'hui")


bp.add_app_template_global(poll_url, "roster_poll_url")


@bp.route("/seances/<int:session_id>/pointage/nouvelle-personne", methods=["POST"])
def walk_in_new(session_id: int) -> Response:
    """Someone the centre has never met, at the door: registered (the desk's service, with
    its duplicate check) and added as a walk-in, in one step."""
    session = staff_session_or_404(session_id, Action.REGISTER_PERSON, options=as_listed())
    data = person_input()
    data.site = str(session.site_id)
    try:
        person = registration.register(data, actor=staff_actor(),
                                       not_a_duplicate=request.form.get("confirmed") == "1")
    except LikelyDuplicates as found:
        return _respond(session, Result(
            "warn", _("Déjà venu(e) ?"), found.message, found.code, new_person=data,
            duplicates=found.found, focus="duplicates-title"))
    except ServiceError as error:
        errors, message = field_errors(error)
        return _respond(session, Result(
            "error", _("Refusé"), message or _("Corrigez ce qui est indiqué."), error.code,
            new_person=data, new_errors=errors, focus=next(iter(errors), "scan")))
    try:
        marked = checkin.add_walk_in(session, person, actor=staff_actor())
    except ServiceError as error:
        if error.code == "session_full":
            full = checkin.ScanOutcome("session_full", person=person, booking=None)
            return _respond(session, _without_seat(session, full, ""))
        return _respond(session, _refused(error))
    return _respond(session, _marked_result(marked), marked.booking)
