"""Dates, money and counts in the language asked for: French ordinals, English capitals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import flask
import pytest

from portal.formatting import count, date_long, day, euros, full_date, short_day, upper_first

#: Tuesday 1 December 2026, 14:00 in Paris.
FIRST = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


def test_french_writes_the_first_of_the_month_as_an_ordinal():
    assert day(FIRST, "fr") == "mardi 1er décembre 2026"
    assert full_date(FIRST.date(), "fr") == "1er décembre 2026"
    assert date_long(date(2026, 12, 1), "fr") == "1er décembre"
    assert short_day(FIRST, "fr") == "mar. 1er déc."
    assert day(datetime(2026, 12, 2, 13, tzinfo=UTC), "fr") == "mercredi 2 décembre 2026"
    assert date_long(date(2026, 12, 11), "fr") == "11 décembre"
    assert day(FIRST, "en") == "Tuesday 1 December 2026"
    assert full_date(FIRST.date(), "en") == "1 December 2026"


def test_the_day_is_the_centre_s_day():
    """23:30 UTC on 30 November is already 1 December in Paris."""
    assert day(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "fr") == "mardi 1er décembre 2026"


@pytest.mark.parametrize(("lang", "expected"), [("fr", "Mardi 1er décembre 2026"),
                                                 ("en", "Tuesday 1 December 2026")])
def test_pages_capitalise_the_first_letter_only(app, lang, expected):
    with app.test_request_context("/"):
        flask.session["lang"] = lang
        rendered = flask.render_template_string("{{ value|day|capitalize }}", value=FIRST)
    assert rendered == expected


def test_upper_first_leaves_the_rest_alone():
    assert upper_first("tuesday 1 December") == "Tuesday 1 December"
    assert upper_first("éditer le PDF") == "Éditer le PDF"
    assert upper_first("") == ""


def test_counts_take_the_plural_of_their_language():
    one, other = "%(num)s chèque", "%(num)s chèques"
    assert [count(n, one, other, "fr") for n in (0, 1, 2)] == [
        "0 chèque", "1 chèque", "2 chèques"]
    assert count(1500, one, other, "fr") == "1\u202f500 chèques"
    assert [count(n, "%(num)s cheque", "%(num)s cheques", "en") for n in (0, 1, 2)] == [
        "0 cheques", "1 cheque", "2 cheques"]


def test_amounts_in_the_language_asked_for(app):
    assert euros(123450, "fr") == "1\u202f234,50\u202f€"
    assert euros(123450, "en") == "1,234.50\u202f€"
    with app.test_request_context("/"):
        flask.session["lang"] = "en"
        assert euros(2000) == "20.00\u202f€"  # a page: the reader's language
        assert euros(2000, "fr") == "20,00\u202f€"  # a document: its own
