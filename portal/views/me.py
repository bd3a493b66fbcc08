"""The beneficiary space: my workshops, find a workshop, book, cancel, documents, profile."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField, TelField

from portal import paging
from portal.access import own_booking_or_404, own_document_or_404, require_beneficiary
from portal.downloads import file_response, pdf_response
from portal.extensions import db
from portal.forms import EmptyForm, attach_errors, parse_id
from portal.htmx import answer, hx_redirect, is_htmx, render_page_or_partial, wants_partial
from portal.models.catalogue import Course, WorkshopSession
from portal.models.people import Site
from portal.models.vocab import BookingStatus, Language, Level, Theme, label_for
from portal.public_urls import public_url
from portal.services import beneficiaries as profile_service
from portal.services import bookings, calendar, catalogue, documents
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from portal.sessions import client_ip

bp = Blueprint("me", __name__, url_prefix="/mon-espace")
NEW_FEED_KEY = "new_feed_url"
bp.before_request(require_beneficiary)
# "Retraitée" for a woman, "À la retraite" when the gender is not given (vocab.label_for).
bp.add_app_template_filter(label_for, "label_for")


def _me() -> Any:
    return current_user._get_current_object()


def _actor() -> Actor:
    return Actor.of(_me(), client_ip())


# --- answers told where the person acted -----------------------------------------------------

NOTICE_KEY = "notice"
MY_WORKSHOPS = "mes-ateliers"  # the ``back`` of the forms of My workshops


@dataclass(frozen=True)
class Notice:
    """A confirmation or a refusal, shown next to the action that caused it (the booking
    panel of a session, a row of My workshops) and given the focus."""

    text: str
    kind: str  # "success" or "error"
    where: str  # MY_WORKSHOPS, or "seance-<id>" for the booking panel of a session
    booking_id: int | None = None


def _session_place(session: WorkshopSession) -> str:
    return f"seance-{session.id}"


def _keep_notice(notice: Notice) -> None:
    """For the page after the redirect (without JavaScript): shown there once."""
    browser_session[NOTICE_KEY] = asdict(notice)


def _take_notice(where: str) -> Notice | None:
    kept = browser_session.get(NOTICE_KEY)
    if not isinstance(kept, dict) or kept.get("where") != where:
        return None
    browser_session.pop(NOTICE_KEY)
    try:
        return Notice(**kept)
    except TypeError:  # written by an older version of the portal
        return None


# --- my workshops ----------------------------------------------------------------------------


def _my_bookings_context(*, notice: Notice | None = None, confirming: int | None = None,
                         keep: int | None = None) -> dict[str, Any]:
    """``confirming``: the booking whose cancellation is asked about (the question replaces
    its buttons); ``keep``: the booking kept after the question (its button gets the focus)."""
    person = _me()
    mine = bookings.my_workshops(person, paging.asked_page(request.args))
    upcoming, past = mine.upcoming, mine.past
    can_cancel = {b.id: bookings.can_cancel(b) for b in upcoming}
    asked = next((b for b in upcoming if b.id == confirming and can_cancel[b.id]), None)
    return {
        "person": person,
        "upcoming": upcoming,
        "past": past,
        "past_pages": mine.past_pages,
        "page_args": paging.other_args(request.args),
        "ranks": bookings.waitlist_ranks(upcoming),
        "certificates": documents.certificates_by_session(person,
                                                          [b.session_id for b in past]),
        "can_cancel": can_cancel,
        "notice": notice,
        "confirming": asked.id if asked else None,
        "outlook": bookings.cancellation_outlook(asked) if asked else None,
        "keep": keep if keep in can_cancel and not asked else None,
    }


@bp.route("/")
def home() -> Response:
    context = _my_bookings_context(notice=_take_notice(MY_WORKSHOPS),
                                   confirming=parse_id(request.args.get("annuler")),
                                   keep=parse_id(request.args.get("garder")))
    return render_page_or_partial("me/home.html", "me/_my_bookings.html", **context)


@bp.route("/reservations/<int:booking_id>/annuler", methods=["POST"])
def cancel(booking_id: int) -> Any:
    booking = own_booking_or_404(booking_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    session = booking.session
    title, waitlisted = session.workshop.title, booking.status is BookingStatus.WAITLISTED
    where = MY_WORKSHOPS if request.form.get("back") == MY_WORKSHOPS else _session_place(session)
    try:
        bookings.cancel(booking, actor=_actor())
    except ServiceError as error:
        notice, refused = Notice(error.message, "error", where, booking.id), True
    else:
        text = (_("Vous avez quitté la liste d'attente de « %(title)s ».", title=title)
                if waitlisted else
                _("C'est annulé : « %(title)s ». Votre place est libérée.", title=title))
        notice, refused = Notice(text, "success", where, booking.id), False
    if where == MY_WORKSHOPS:
        return _list_answer(notice, refused=refused)
    return _panel_answer(session, notice, refused=refused)


def _list_answer(notice: Notice, *, refused: bool) -> Response:
    """My workshops with the notice in the row of the booking (see ``portal.htmx.answer``)."""
    if not refused and not is_htmx():
        _keep_notice(notice)
        return redirect(url_for("me.home"), 303)  # type: ignore[return-value]
    return answer("me/home.html", "me/_my_bookings.html", refused=refused,
                  **_my_bookings_context(notice=notice))


# --- find a workshop ----------------------------------------------------------------------


@bp.route("/ateliers")
def find() -> Response:
    person = _me()
    filters = catalogue.read_filters(request.args)
    found = catalogue.search_page(filters, home_site_id=person.home_site_id,
                                  page=paging.asked_page(request.args))
    context = {"filters": filters, "results": found.items, "pages": found.pages,
               "page_args": paging.other_args(request.args), "person": person}
    if not wants_partial():  # the whole page: the filters' lists too
        context.update(sites=_site_choices(), themes=list(Theme), levels=list(Level),
                       weeks=catalogue.week_choices(chosen=filters.week))
    return render_page_or_partial("me/find.html", "me/_session_results.html", **context)


def _site_choices() -> list[Any]:
    """The active sites as the place filter lists them: rows of their ``id`` and ``name``."""
    return list(db.session.execute(
        db.select(Site.id, Site.name).filter_by(is_active=True).order_by(Site.name)))


# --- a session: its booking panel -----------------------------------------------------------


@bp.route("/seances/<int:session_id>")
def session_detail(session_id: int) -> Response:
    session = db.session.get(WorkshopSession, session_id) or abort(404)
    context = _panel_context(session, notice=_take_notice(_session_place(session)),
                             confirming=parse_id(request.args.get("annuler")),
                             keep=parse_id(request.args.get("garder")))
    return render_page_or_partial("me/session.html", "me/_booking_panel.html", **context)


def _panel_context(session: WorkshopSession, *, notice: Notice | None = None,
                   confirming: int | None = None, keep: int | None = None,
                   error_code: str | None = None) -> dict[str, Any]:
    person = _me()
    booking = bookings.booking_for(session, person)
    can_cancel = bookings.can_cancel(booking) if booking else False
    asked = booking is not None and booking.id == confirming and can_cancel
    upcoming = bookings.upcoming_of(person)
    return {
        "session": session,
        "booking": booking,
        "rank": bookings.waitlist_ranks([booking]).get(booking.id) if booking else None,
        "can_cancel": can_cancel,
        "deadline": bookings.cancellation_deadline(session),
        "upcoming": [b for b in upcoming if b.status in bookings.ACTIVE],
        "notice": notice,
        "confirming": booking.id if asked and booking else None,
        "outlook": bookings.cancellation_outlook(booking) if asked and booking else None,
        "keep": booking is not None and booking.id == keep and can_cancel and not asked,
        "error_code": error_code,
    }


def _panel_answer(session: WorkshopSession, notice: Notice, *, refused: bool,
                  error_code: str | None = None) -> Response:
    """The booking panel with the notice (and, for htmx, the seats and My upcoming workshops
    out of band); without JavaScript, a refusal re-renders the page (422) and a success
    redirects to it (Post/Redirect/Get), where the notice is shown once."""
    if not refused and not is_htmx():
        _keep_notice(notice)
        return redirect(url_for("me.session_detail", session_id=session.id),  # type: ignore[return-value]
                        303)
    db.session.refresh(session)  # its seats changed
    response = answer("me/session.html", "me/_booking_answer.html", refused=refused,
                      **_panel_context(session, notice=notice, error_code=error_code))
    if not refused:
        response.headers["HX-Trigger"] = "booking-changed"
    return response


@bp.route("/seances/<int:session_id>/reserver", methods=["POST"])
def book(session_id: int) -> Response:
    session = db.session.get(WorkshopSession, session_id) or abort(404)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    waitlist = request.form.get("liste_attente") == "1"
    where = _session_place(session)
    try:
        outcome = bookings.book(session, _me(), actor=_actor(), waitlist=waitlist)
    except ServiceError as error:
        return _panel_answer(session, Notice(error.message, "error", where), refused=True,
                             error_code=error.code)
    if outcome.waitlisted:
        text = _("Vous êtes sur la liste d'attente. Nous vous prévenons si une place "
                 "se libère.")
    else:
        text = _("C'est fait ! Votre place est réservée pour « %(title)s ».",
                 title=session.workshop.title)
    return _panel_answer(session, Notice(text, "success", where, outcome.booking.id),
                         refused=False)


# --- a course -------------------------------------------------------------------------------


def _course_place(course: Course) -> str:
    return f"parcours-{course.id}"


def _course_context(course: Course, notice: Notice | None = None) -> dict[str, Any]:
    person = _me()
    outlook = bookings.course_outlook(course, person)
    booked = {b.session_id for b in bookings.upcoming_of(person)
              if b.status in bookings.ACTIVE}
    return {"course": course, "sessions": catalogue.course_sessions(course),
            "booked_ids": booked, "outlook": outlook, "notice": notice,
            "incomplete": (bookings.incomplete_reason(outlook)
                           if not outlook.can_complete and not outlook.full else None)}


@bp.route("/parcours/<int:course_id>")
def course_detail(course_id: int) -> str:
    course = db.session.get(Course, course_id) or abort(404)
    return render_template("me/course.html",
                           **_course_context(course, _take_notice(_course_place(course))))


@bp.route("/parcours/<int:course_id>/reserver", methods=["POST"])
def book_course(course_id: int) -> Response:
    course = db.session.get(Course, course_id) or abort(404)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    where = _course_place(course)
    try:
        placed = bookings.book_course(course, _me(), actor=_actor(),
                                      accept_incomplete=request.form.get("incomplet") == "1")
    except ServiceError as error:
        return answer("me/course.html", "me/course.html", refused=True,
                      **_course_context(course, Notice(error.message, "error", where)))
    _keep_notice(Notice(ngettext(
        "C'est fait ! Votre place est réservée à la séance du parcours.",
        "C'est fait ! Vos places sont réservées aux %(num)d séances du parcours.",
        len(placed)), "success", where))
    return hx_redirect(url_for("me.course_detail", course_id=course.id))


# --- calendar -----------------------------------------------------------------------------


@bp.route("/reservations/<int:booking_id>.ics")
def booking_ics(booking_id: int) -> Response:
    booking = own_booking_or_404(booking_id)
    body = calendar.calendar([booking], name=booking.session.workshop.title)
    return file_response(body, "text/calendar; charset=utf-8", f"atelier-{booking.code}.ics")


# --- documents ------------------------------------------------------------------------------


@bp.route("/documents")
def my_documents() -> str:
    return render_template("me/documents.html", documents=documents.documents_of(_me()))


@bp.route("/documents/<int:document_id>.pdf")
def download_document(document_id: int) -> Response:
    document = own_document_or_404(document_id)
    if document.is_pending:  # not printed yet: not the person's document so far
        abort(404)
    return pdf_response(document.pdf, f"{document.number}.pdf")


# --- profile ----------------------------------------------------------------------------------


class ProfileForm(FlaskForm):
    """The contact details a person may change; the service checks every value (all the
    problems of a submission at once), so the fields carry no validators of their own."""

    phone = TelField(_l("Téléphone"), description=_l("Pour recevoir les rappels par SMS."))
    has_no_phone = BooleanField(_l("Je n'ai pas de téléphone"))
    email = EmailField(_l("Adresse e-mail"), description=_l("Facultatif."))
    commune = StringField(_l("Commune"))
    postcode = StringField(_l("Code postal"), description=_l("5 chiffres, par exemple : 62680."))
    language = SelectField(_l("Langue du portail et des messages"), validate_choice=False,
                           choices=[SelectChoice(lang.value, lang.label) for lang in Language])


@bp.route("/profil", methods=["GET", "POST"])
def profile() -> Any:
    person = _me()
    form = ProfileForm(obj=None if request.method == "POST" else person)
    if request.method == "GET":
        form.language.data = person.preferred_language.value
    error = None
    if form.validate_on_submit():
        try:
            profile_service.update_contact(
                person, phone=form.phone.data or "", has_no_phone=bool(form.has_no_phone.data),
                email=form.email.data or "", commune=form.commune.data or "",
                postcode=form.postcode.data or "", language=form.language.data or "",
                actor=_actor())
        except ServiceError as failure:
            if not attach_errors(form, failure):
                error = failure.message
        else:
            flash(_("Vos informations sont enregistrées."), "success")
            return redirect(url_for("me.profile"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("me/profile.html", person=person, form=form, error=error,
                           feed_form=EmptyForm(),
                           new_feed_url=browser_session.pop(NEW_FEED_KEY, None)), status


@bp.route("/profil/agenda", methods=["POST"])
def create_feed() -> Any:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    token = calendar.create_feed_token(_me(), actor=_actor())
    # Shown once on the profile page after the redirect (Post/Redirect/Get), then forgotten.
    browser_session[NEW_FEED_KEY] = public_url("calendar_feed.feed", token=token)
    return redirect(url_for("me.profile"), 303)


@bp.route("/profil/agenda/supprimer", methods=["POST"])
def revoke_feed() -> Any:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    calendar.revoke_feed(_me(), actor=_actor())
    flash(_("Le lien d'agenda est supprimé : il ne marche plus."), "success")
    return redirect(url_for("me.profile"), 303)


@bp.route("/profil/mes-donnees.pdf", methods=["POST"], defaults={"form": "pdf"})
@bp.route("/profil/mes-donnees.json", methods=["POST"], defaults={"form": "json"})
def my_data(form: str) -> Any:
    """Everything the portal holds on the person (their own only), as PDF or JSON; audited."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    from portal.services import personal_data
    from portal.views.staff.personal_data import export_response

    person = _me()
    data = personal_data.export(person, actor=_actor(), form=form)
    return export_response(person, form, data)


# --- the personal calendar feed (public, authenticated by its token) ------------------------

feed_bp = Blueprint("calendar_feed", __name__)


@feed_bp.route("/agenda/<token>.ics")
def feed(token: str) -> Response:
    person = calendar.person_for_feed(token) or abort(404)
    body = calendar.calendar(calendar.feed_bookings(person), name=_("Mes ateliers"))
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    return response
