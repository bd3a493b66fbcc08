"""Languages: French is the default and complete, English second.

Pages call ``gettext`` dozens of times; flask-babel resolves its request state (``g``, the
locale, the domain, the catalogue) about six times per call. :func:`translations` finds the
catalogue once per request and language and reuses it while the language stays the same
(``force_locale`` changes it: the catalogue follows), so templates and filters translate with
one attribute lookup (docs/architecture.md#speed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from markupsafe import Markup, escape

from portal.extensions import babel

#: flask-babel keeps its request state in ``g._flask_babel``; ours is kept next to it.
_CACHE = "portal_translations"


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


def _state() -> Any:
    """flask-babel's state of the current context, or None before its first lookup."""
    try:
        return g.__dict__.get("_flask_babel")  # g is a proxy: one resolution
    except RuntimeError:  # outside an application context
        return None


def translations() -> NullTranslations:
    """The catalogue of the current language (as ``flask_babel.get_translations``)."""
    state = _state()
    if state is not None:
        cached = state.__dict__.get(_CACHE)
        if cached is not None and cached[0] is state.__dict__.get("babel_locale"):
            return cached[1]
    found = get_translations()
    state = _state()
    if state is not None:  # get_translations() chose the locale: remember both
        setattr(state, _CACHE, (state.__dict__.get("babel_locale"), found))
    return found


def locale() -> Locale | None:
    """The current language (as ``flask_babel.get_locale``), without its repeated lookups."""
    state = _state()
    chosen = state.__dict__.get("babel_locale") if state is not None else None
    return chosen if chosen is not None else get_locale()


def gettext(string: str, **variables: Any) -> str:
    """``flask_babel.gettext`` through the request's catalogue."""
    text = translations().ugettext(string)
    return text if not variables else text % variables


def pgettext(context: str, string: str, **variables: Any) -> str:
    """``flask_babel.pgettext`` through the request's catalogue."""
    text = translations().upgettext(context, string)
    return text if not variables else text % variables


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """``flask_babel.ngettext`` through the request's catalogue (``%(num)d`` available)."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def _in_french() -> bool:
    chosen = locale()
    return chosen is None or str(chosen) == "fr"


def french_text(text: Any) -> Markup:
    """``text`` (escaped), in a ``<span lang="fr">`` when the page is not in French."""
    return escape(text) if _in_french() else Markup('<span lang="fr">%s</span>') % text


def french_attribute() -> Markup:
    """`` lang="fr"`` for an element whose whole content is French, when the page is not."""
    return Markup("") if _in_french() else Markup(' lang="fr"')


def init_app(app: Flask) -> None:
    folder = Path(app.root_path) / "translations"
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(folder))
    # The same callables flask-babel installs, through the request's catalogue.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals["current_locale"] = lambda: str(locale() or "fr")
    app.jinja_env.globals["french_text"] = french_text  # templates/_macros/lang.html
    app.jinja_env.globals["french_attribute"] = french_attribute
