"""Dates, times, money and counts as people read them, in an explicit language.

Every function takes the language it writes in (``locale``). Pages use them as Jinja filters
with the reader's language (``locale=None``); documents pass their own (``"fr"``), whatever
the language of the screen that issued them: a printed document is never rewritten, so a
French attestation must not say "Tuesday 1 December" because its issuer reads English.
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from flask import Flask
from num2words import CONVERTER_CLASSES, num2words

from portal.clock import local
from portal.i18n import locale as current_locale
from portal.i18n import ngettext

#: the language documents are written in (their snapshot's ``lang``).
DOCUMENT_LANG = "fr"


def reader_locale() -> str:
    """The language of the person reading the page (French outside a request)."""
    return str(current_locale() or DOCUMENT_LANG)


#: languages parsed once (a page formats dozens of dates and counts).
_PARSED: dict[str, Locale] = {}


def _language(locale: str | None) -> Locale:
    """``locale``, or the reader's language, as a parsed ``babel.Locale``."""
    if locale is None:
        chosen = current_locale()
        if chosen is not None:
            return chosen
        locale = DOCUMENT_LANG
    parsed = _PARSED.get(locale)
    if parsed is None:
        parsed = _PARSED[locale] = Locale.parse(locale)
    return parsed


def _date(value: date, pattern: str, locale: str | None) -> str:
    """``format_date`` with the French ordinal of the first day: « 1er décembre »."""
    return _formatted_date(value, pattern, _language(locale))


@lru_cache(maxsize=4096)
def _formatted_date(value: date, pattern: str, language: Locale) -> str:
    """The same days come back on every page (this week's sessions): written once each."""
    if value.day == 1 and language.language == "fr":
        pattern = pattern.replace("d ", "d'er' ", 1)
    return format_date(value, pattern, locale=language)


def day(value: datetime, locale: str | None = None) -> str:
    """``mardi 1er décembre 2026`` / ``Tuesday 1 December 2026``"""
    return _date(local(value).date(), "EEEE d MMMM y", locale)


def day_without_year(value: datetime, locale: str | None = None) -> str:
    """``mardi 1er décembre`` (messages about the coming days)"""
    return _date(local(value).date(), "EEEE d MMMM", locale)


def long_date(value: date, locale: str | None = None) -> str:
    """``lundi 7 décembre 2026`` for a calendar day"""
    return _date(value, "EEEE d MMMM y", locale)


def short_day(value: datetime, locale: str | None = None) -> str:
    """``mar. 1er déc.``"""
    return _date(local(value).date(), "EEE d MMM", locale)


def date_long(value: date, locale: str | None = None) -> str:
    """``7 décembre``"""
    return _date(value, "d MMMM", locale)


def full_date(value: date, locale: str | None = None) -> str:
    """``1er décembre 2026``"""
    return _date(value, "d MMMM y", locale)


def month_year(value: date, locale: str | None = None) -> str:
    """``novembre 2026``"""
    return _formatted_date(value, "MMMM y", _language(locale))


def short_month(value: date, locale: str | None = None) -> str:
    """``nov.``"""
    return _formatted_date(value, "MMM", _language(locale))


def short_month_year(value: date, locale: str | None = None) -> str:
    """``nov. 2026`` (under a narrow chart column)"""
    return _formatted_date(value, "MMM y", _language(locale))


def duration(minutes: int) -> str:
    """``1 h 30`` / ``45 min``"""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest}\u00a0min"
    return f"{hours}\u00a0h" + (f"\u00a0{rest:02d}" if rest else "")


def hour(value: datetime, locale: str | None = None) -> str:
    """``14:00``"""
    return _formatted_time(local(value).time(), _language(locale))


@lru_cache(maxsize=1024)
def _formatted_time(value: time, language: Locale) -> str:
    return format_time(value, "HH:mm", locale=language)


def when(value: datetime, locale: str | None = None) -> str:
    """``mardi 1er décembre 2026, 14:00``"""
    return f"{day(value, locale)}, {hour(value, locale)}"


def euros(cents: int, locale: str | None = None) -> str:
    """``1 234,50 €`` (a narrow no-break space before the sign)."""
    return format_decimal(cents / 100, "#,##0.00", locale=_language(locale)) + "\u202f€"


def count(number: int, one: str, other: str, locale: str | None = None) -> str:
    """A count with the noun the language asks for: ``0 chèque``, ``1 chèque``,
    ``2 chèques`` in French (0 and 1 are singular there), ``0 cheques`` in English.

    ``one`` and ``other`` hold ``%(num)s``, replaced by the number written in the language.
    """
    language = _language(locale)
    form = one if language.plural_form(number) == "one" else other
    return form % {"num": format_decimal(number, locale=language)}


#: how a language joins euros and cents in words.
_AND_CENTS = {"fr": " et "}


def amount_in_words(cents: int, locale: str | None = None) -> str:
    """``vingt euros``, ``vingt et un euros et cinquante centimes`` (receipts), with the
    words of the num2words library."""
    language = _language(locale).language
    (euro, many_euros), (cent, many_cents) = CONVERTER_CLASSES[language].CURRENCY_FORMS["EUR"]
    whole, rest = divmod(int(cents), 100)
    words = f"{num2words(whole, lang=language)} {_noun(whole, euro, many_euros, language)}"
    if rest:
        words += (_AND_CENTS.get(language, ", ") + num2words(rest, lang=language) + " "
                  + _noun(rest, cent, many_cents, language))
    return words


def _noun(number: int, one: str, other: str, language: str) -> str:
    return one if Locale.parse(language).plural_form(number) == "one" else other


def upper_first(text: str) -> str:
    """Upper-case the first letter only: ``Tuesday 1 December``, never ``Tuesday 1 december``
    (``str.capitalize`` lowers every other letter)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def seats_left(number: int) -> str:
    if number <= 0:
        return ngettext("Complet", "Complet", 0)
    return ngettext("%(num)d place libre", "%(num)d places libres", number)


def cheques(number: int) -> str:
    if number == 0:
        return ngettext("Gratuit", "Gratuit", 0)
    return ngettext("%(num)d chèque APTIC", "%(num)d chèques APTIC", number)


def init_app(app: Flask) -> None:
    from portal.pdf.documents import qr_data_uri

    app.jinja_env.globals["qr_svg"] = qr_data_uri  # QR codes in document templates
    for function in (day, short_day, date_long, long_date, full_date, month_year, duration,
                     hour, when, euros, seats_left, cheques, upper_first):
        app.jinja_env.filters[function.__name__] = function
    # Jinja's own ``capitalize`` lowers the rest of the text ("Tuesday 1 december"): every
    # template's ``|capitalize`` upper-cases the first letter and leaves the rest alone.
    app.jinja_env.filters["capitalize"] = upper_first
