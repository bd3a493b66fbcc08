"""Error pages, htmx-aware: a full page for browsers, a message in the flash area for htmx."""

from __future__ import annotations

import logging

from flask import Flask, Response, make_response, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db
from portal.htmx import is_htmx
from portal.services.errors import ServiceError

log = logging.getLogger(__name__)


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
        return response
    try:
        body = render_template("errors/error.html", status=status, title=title, message=message)
    except Exception:  # the error page itself must never fail
        log.exception("error page could not be rendered")
        body = f"<!DOCTYPE html><title>{status}</title><p>{status}</p>"
    return make_response(body, status)


def init_app(app: Flask) -> None:
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
        db.session.rollback()
        log.exception("unhandled error", exc_info=error)
        if app.config.get("TESTING") and app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        return error_response(InternalServerError.code)
