"""The beneficiary space: my workshops, find a workshop, book, cancel, documents, profile."""

from __future__ import annotations

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

from portal.access import own_booking_or_404, own_document_or_404, require_beneficiary
from portal.extensions import db
from portal.forms import EmptyForm, attach_errors
from portal.htmx import is_htmx, render_page_or_partial
from portal.models.catalogue import Course, WorkshopSession
from portal.models.people import Site
from portal.models.vocab import Language, Level, Theme
from portal.services import beneficiaries as profile_service
from portal.services import bookings, calendar, catalogue, documents
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from portal.sessions import client_ip

bp = Blueprint("me", __name__, url_prefix="/mon-espace")
NEW_FEED_KEY = "new_feed_url"
bp.before_request(require_beneficiary)


def _me() -> Any:
    return current_user._get_current_object()


def _actor() -> Actor:
    return Actor.of(_me(), client_ip())


# --- my workshops ----------------------------------------------------------------------------


def _my_bookings_context() -> dict[str, Any]:
    person = _me()
    upcoming, past = bookings.bookings_of(person)
    return {
        "person": person,
        "upcoming": upcoming,
        "past": past,
        "ranks": bookings.waitlist_ranks(upcoming),
        "certificates": documents.certificates_by_session(person),
        "can_cancel": {b.id: bookings.can_cancel(b) for b in upcoming},
        "cancel_form": EmptyForm(),
    }


@bp.route("/")
def home() -> Response:
    return render_page_or_partial("me/home.html", "me/_my_bookings.html",
                                  **_my_bookings_context())


@bp.route("/reservations/<int:booking_id>/annuler", methods=["POST"])
def cancel(booking_id: int) -> Any:
    booking = own_booking_or_404(booking_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    title = booking.session.workshop.title
    try:
        bookings.cancel(booking, actor=_actor())
    except ServiceError as error:
        return _answer(error.message, "error", status=error.status,
                       back=request.form.get("back"))
    return _answer(_("C'est annulé : « %(title)s ». Votre place est libérée.", title=title),
                   "success", back=request.form.get("back"), session=booking.session)


# --- find a workshop ----------------------------------------------------------------------


@bp.route("/ateliers")
def find() -> Response:
    person = _me()
    filters = catalogue.read_filters(request.args)
    results = catalogue.search(filters, home_site_id=person.home_site_id)
    sites = db.session.scalars(db.select(Site).filter_by(is_active=True).order_by(Site.name)).all()
    return render_page_or_partial(
        "me/find.html", "me/_session_results.html",
        filters=filters, results=results, sites=sites, themes=list(Theme), levels=list(Level),
        weeks=catalogue.week_choices(chosen=filters.week), person=person,
    )


@bp.route("/seances/<int:session_id>")
def session_detail(session_id: int) -> str:
    session = db.session.get(WorkshopSession, session_id) or abort(404)
    return render_template("me/session.html", **_panel_context(session))


def _panel_context(session: WorkshopSession, **extra: Any) -> dict[str, Any]:
    person = _me()
    booking = bookings.booking_for(session, person)
    upcoming, _past = bookings.bookings_of(person)
    return {
        "session": session,
        "booking": booking,
        "rank": bookings.waitlist_ranks([booking]).get(booking.id) if booking else None,
        "can_cancel": bookings.can_cancel(booking) if booking else False,
        "deadline": bookings.cancellation_deadline(session),
        "form": EmptyForm(),
        "upcoming": [b for b in upcoming if b.status in bookings.ACTIVE],
        **extra,
    }


@bp.route("/seances/<int:session_id>/reserver", methods=["POST"])
def book(session_id: int) -> Any:
    session = db.session.get(WorkshopSession, session_id) or abort(404)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    waitlist = request.form.get("liste_attente") == "1"
    try:
        outcome = bookings.book(session, _me(), actor=_actor(), waitlist=waitlist)
    except ServiceError as error:
        return _answer(error.message, "error", status=error.status, session=session,
                       error_code=error.code)
    if outcome.waitlisted:
        message = _("Vous êtes sur la liste d'attente. Nous vous prévenons si une place "
                    "se libère.")
    else:
        message = _("C'est fait ! Vous êtes inscrit à « %(title)s ».",
                    title=session.workshop.title)
    return _answer(message, "success", session=session)


@bp.route("/parcours/<int:course_id>")
def course_detail(course_id: int) -> str:
    course = db.session.get(Course, course_id) or abort(404)
    person = _me()
    sessions = catalogue.course_sessions(course)
    booked = {b.session_id for b in bookings.bookings_of(person)[0]
              if b.status in bookings.ACTIVE}
    return render_template("me/course.html", course=course, sessions=sessions,
                           booked_ids=booked, form=EmptyForm())


@bp.route("/parcours/<int:course_id>/reserver", methods=["POST"])
def book_course(course_id: int) -> Any:
    course = db.session.get(Course, course_id) or abort(404)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        placed = bookings.book_course(course, _me(), actor=_actor())
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("me.course_detail", course_id=course.id), 303)
    flash(ngettext("C'est fait ! Vous êtes inscrit à la séance du parcours.",
                   "C'est fait ! Vous êtes inscrit aux %(num)d séances du parcours.",
                   len(placed)), "success")
    return redirect(url_for("me.home"), 303)


def _answer(message: str, category: str, *, status: int = 200, session: Any = None,
            back: str | None = None, error_code: str | None = None) -> Any:
    """htmx: the changed fragments (out-of-band) and the message; otherwise redirect."""
    if not is_htmx():
        flash(message, category)
        if session is not None and back != "mes-ateliers":
            return redirect(url_for("me.session_detail", session_id=session.id), 303)
        return redirect(url_for("me.home"), 303)
    if request.headers.get("HX-Target") == "my-bookings":
        body = render_template("me/_my_bookings.html", **_my_bookings_context())
    else:
        db.session.refresh(session)
        context = _panel_context(session, error_code=error_code)
        body = (render_template("me/_booking_panel.html", **context)
                + render_template("me/_seats_left.html", session=session, oob=True)
                + render_template("me/_my_upcoming.html", upcoming=context["upcoming"],
                                  oob=True))
    body += render_template("_flash_oob.html", message=message, category=category)
    response = make_response(body, 200 if status < 400 else status)
    response.headers["HX-Trigger"] = "booking-changed"
    return response


# --- calendar -----------------------------------------------------------------------------


@bp.route("/reservations/<int:booking_id>.ics")
def booking_ics(booking_id: int) -> Response:
    booking = own_booking_or_404(booking_id)
    body = calendar.calendar([booking], name=booking.session.workshop.title)
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="atelier-{booking.code}.ics"'
    return response


# --- documents ------------------------------------------------------------------------------


@bp.route("/documents")
def my_documents() -> str:
    return render_template("me/documents.html", documents=documents.documents_of(_me()))


@bp.route("/documents/<int:document_id>.pdf")
def download_document(document_id: int) -> Response:
    document = own_document_or_404(document_id)
    response = make_response(document.pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{document.number}.pdf"'
    response.headers["Content-Length"] = str(len(document.pdf))
    return response


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
    browser_session[NEW_FEED_KEY] = url_for("calendar_feed.feed", token=token, _external=True)
    return redirect(url_for("me.profile"), 303)


@bp.route("/profil/agenda/supprimer", methods=["POST"])
def revoke_feed() -> Any:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    calendar.revoke_feed(_me(), actor=_actor())
    flash(_("Le lien d'agenda est supprimé : il ne marche plus."), "success")
    return redirect(url_for("me.profile"), 303)


# --- the personal calendar feed (public, authenticated by its token) ------------------------

feed_bp = Blueprint("calendar_feed", __name__)


@feed_bp.route("/agenda/<token>.ics")
def feed(token: str) -> Response:
    person = calendar.person_for_feed(token) or abort(404)
    body = calendar.calendar(calendar.feed_bookings(person), name=_("Mes ateliers"))
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    return response
