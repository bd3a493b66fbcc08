"""Jinja filters for dates, times, money and counts, in the reader's language."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, format_time, ngettext

from portal.clock import local


def day(value: datetime) -> str:
    """``mardi 2 décembre 2026``"""
    return format_date(local(value).date(), "EEEE d MMMM y")


def short_day(value: datetime) -> str:
    return format_date(local(value).date(), "EEE d MMM")


def hour(value: datetime) -> str:
    return format_time(local(value).time(), "HH:mm")


def when(value: datetime) -> str:
    return format_datetime(value, "EEEE d MMMM y, HH:mm")


def euros(cents: int) -> str:
    return format_decimal(cents / 100, "#,##0.00") + "\u202f€"


def seats_left(count: int) -> str:
    if count <= 0:
        return ngettext("Complet", "Complet", 0)
    return ngettext("%(num)d place libre", "%(num)d places libres", count)


def cheques(count: int) -> str:
    if count == 0:
        return ngettext("Gratuit", "Gratuit", 0)
    return ngettext("%(num)d chèque APTIC", "%(num)d chèques APTIC", count)


def init_app(app: Flask) -> None:
    for function in (day, short_day, hour, when, euros, seats_left, cheques):
        app.jinja_env.filters[function.__name__] = function
