"""French counts: 0 and 1 take the singular ("0 place libre"), as French writes them.

French is written in the sources; gettext learns French plural rules only from a French
catalogue (``portal/translations/fr``, written by ``scripts/update-translations``).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

ROOT = Path(__file__).resolve().parents[1]


def test_zero_and_one_take_the_singular_in_french(app):
    with app.test_request_context(), force_locale("fr"):
        words = [ngettext("%(num)d place libre", "%(num)d places libres", n) for n in (0, 1, 2)]
    assert words == ["0 place libre", "1 place libre", "2 places libres"]


def test_zero_takes_the_plural_in_english(app):
    with app.test_request_context(), force_locale("en"):
        assert ngettext("%(num)d place libre", "%(num)d places libres", 0) == "0 seats left"


def test_the_french_catalogue_holds_every_plural_entry_of_the_sources():
    with (ROOT / "portal/translations/messages.pot").open("rb") as handle:
        template = read_po(handle)
    with (ROOT / "portal/translations/fr/LC_MESSAGES/messages.po").open("rb") as handle:
        french = read_po(handle)
    plural = {m.id for m in template if isinstance(m.id, tuple)}
    assert plural and {m.id for m in french if m.id} == plural, (
        "run scripts/update-translations")
    assert french.plural_forms == "nplurals=2; plural=(n > 1);"
