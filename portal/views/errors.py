"""Error pages, htmx-aware: a full page for browsers, a message in the flash area for htmx."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from flask import Flask, Response, g, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db
from portal.htmx import is_htmx
from portal.services.errors import ServiceError

log = logging.getLogger(__name__)

#: seconds a person (or a load balancer) is asked to wait when the database is unavailable.
RETRY_AFTER_SECONDS = 5
#: SQLite messages meaning "the database cannot be reached now", not "the query is wrong".
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")
#: PostgreSQL SQLSTATE prefixes of a lost or refused connection: connection exceptions (08),
#: insufficient resources (53), operator intervention such as a shutdown (57P).
_POSTGRES_UNAVAILABLE = ("08", "53", "57P")


def database_unavailable(error: BaseException) -> bool:
    """True when ``error`` means the database cannot be reached now.

    See docs/security.md#database-unavailable.

    A lost PostgreSQL connection, a server that is stopped or shutting down, a SQLite file locked
    past the busy timeout or that cannot be opened, a pool with no free connection. Wrong SQL,
    broken constraints and the like are not: they stay 500.
    """
    if isinstance(error, sa_exc.TimeoutError):  # no connection free in the pool
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    original = getattr(error, "orig", error)
    if isinstance(original, sqlite3.OperationalError):
        return any(text in str(original).lower() for text in _SQLITE_UNAVAILABLE)
    if isinstance(original, psycopg.OperationalError):
        state = original.sqlstate
        return state is None or state.startswith(_POSTGRES_UNAVAILABLE)
    return isinstance(original, psycopg.InterfaceError)  # a connection already closed


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("La demande n'a pas pu être lue"),
              _("Quelque chose ne va pas dans ce qui a été envoyé. Revenez en arrière et "
                "réessayez.")),
        401: (_("Connexion nécessaire"), _("Connectez-vous pour voir cette page.")),
        403: (_("Accès refusé"),
              _("Votre compte ne permet pas d'ouvrir cette page.")),
        404: (_("Page introuvable"),
              _("Cette page n'existe pas ou n'existe plus. Vérifiez l'adresse.")),
        405: (_("Action impossible"), _("Cette action n'est pas possible ici.")),
        413: (_("Envoi trop gros"), _("Le fichier ou le texte envoyé est trop gros.")),
        422: (_("Vérifiez le formulaire"), _("Certaines informations ne sont pas correctes.")),
        429: (_("Trop de demandes"),
              _("Trop de demandes en peu de temps. Attendez un peu puis réessayez.")),
        500: (_("Un problème est survenu"),
              _("Désolé, le portail a rencontré un problème. Réessayez dans un instant. "
                "Si cela continue, prévenez l'accueil.")),
        503: (_("Service indisponible"),
              _("Le portail est momentanément indisponible. Réessayez dans un instant.")),
    }


def error_response(status: int, detail: str | None = None) -> Response:
    title, message = _messages().get(status, _messages()[500])
    if detail:
        message = detail
    if is_htmx():
        # Shown in the flash area whatever the request targeted (configured to swap errors).
        body = render_template("errors/_error_message.html", title=title, message=message)
        response = make_response(body, status)
        response.headers["HX-Retarget"] = "#flash-area"
        response.headers["HX-Reswap"] = "innerHTML"
        return _retry_after(response)
    try:
        body = render_template("errors/error.html", status=status, title=title,
                               message=message)
    except Exception:  # the error page itself must never fail
        log.exception("error page could not be rendered")
        body = f"<!DOCTYPE html><title>{status}</title><p>{status}</p>"
    return _retry_after(make_response(body, status))


def _unavailable(app: Flask) -> Response:
    """The 503 of a database that cannot be reached, rendered without asking it anything.

    No context processor runs (they read the account, its login session, the site settings of
    the footer) and nobody is looked up again: the language is the one chosen in the session
    cookie, or French.
    """
    g._login_user = app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    title = _("Service indisponible")
    message = _("La base de données ne répond pas pour le moment. Réessayez dans un instant, "
                "puis vérifiez que votre dernière action a bien été prise en compte.")
    context = {"status": 503, "title": title, "message": message, "config": app.config,
               "request": request}
    if is_htmx():
        body = app.jinja_env.get_template("errors/_error_message.html").render(context)
        response = make_response(body, 503)
        response.headers["HX-Retarget"] = "#flash-area"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        body = app.jinja_env.get_template("errors/unavailable.html").render(context)
        response = make_response(body, 503)
    return _retry_after(response)


def end_unit_of_work(_error: BaseException | None = None) -> None:
    """Close the request's database session even when the database has gone away.

    Runs before Flask-SQLAlchemy's own teardown: a session whose connection died cannot always
    be closed cleanly, and that must not turn the 503 already sent into a 500.
    """
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        log.warning("database session not closed cleanly: %s", _first_line(error))
        db.session.registry.clear()


def _retry_after(response: Response) -> Response:
    if response.status_code == 503:
        response.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return response


def _rollback() -> None:
    """End the failed unit of work; with the database gone, that may fail too."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the server rolls the transaction back
        try:
            db.session.close()
        except Exception:
            db.session.registry.clear()


def init_app(app: Flask) -> None:
    # Teardowns run last-registered first: this one before Flask-SQLAlchemy's.
    app.teardown_appcontext(end_unit_of_work)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Response:
        return error_response(400, _("Le formulaire a expiré. Rechargez la page et "
                                     "recommencez."))

    @app.errorhandler(ServiceError)
    def _service(error: ServiceError) -> Response:
        db.session.rollback()
        return error_response(error.status, error.message)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 429:
            return error_response(429)
        response = error_response(status)
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return _http(error)
        _rollback()
        if database_unavailable(error):
            # One line, no traceback: a restart of the database is not a bug.
            log.warning("database unavailable: %s", _first_line(error))
            return _unavailable(app)
        log.exception("unhandled error", exc_info=error)
        if app.config.get("TESTING") and app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        return error_response(InternalServerError.code)


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return f"{type(original).__name__}: {text[0] if text else ''}"
