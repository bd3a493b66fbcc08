"""Jinja filters for dates, times, money and counts, in the reader's language."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, format_time, ngettext

from portal.clock import local


def day(value: datetime) -> str:
    """``mardi 2 décembre 2026``"""
    return format_date(local(value).date(), "EEEE d MMMM y")


def short_day(value: datetime) -> str:
    return format_date(local(value).date(), "EEE d MMM")


def date_long(value: date) -> str:
    """``7 décembre``"""
    return format_date(value, "d MMMM")


def duration(minutes: int) -> str:
    """``1 h 30`` / ``45 min``"""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest}\u00a0min"
    return f"{hours}\u00a0h" + (f"\u00a0{rest:02d}" if rest else "")


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
    from portal.pdf.documents import qr_data_uri

    app.jinja_env.globals["qr_svg"] = qr_data_uri  # QR codes in document templates
    for function in (day, short_day, date_long, duration, hour, when, euros, seats_left,
                     cheques):
        app.jinja_env.filters[function.__name__] = function
