"""Languages: French is the default and complete, English second."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, has_request_context, session
from flask_babel import get_locale
from flask_login import current_user

from portal.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # commands and services outside a request speak French
        return languages[0]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    preferred = getattr(current_user, "preferred_language", None)
    if preferred is not None and preferred.value in languages:
        return preferred.value
    # French first for everyone: the browser's language is not asked, the switch is explicit.
    return languages[0]


def init_app(app: Flask) -> None:
    translations = Path(app.root_path) / "translations"
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(translations))
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "fr")
