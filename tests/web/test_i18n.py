"""English translation: a complete catalogue, kept in step with the French sources, served.

French is written in the code and templates; English comes from
``portal/translations/en/LC_MESSAGES/messages.po``. After adding or changing French strings,
run ``scripts/update-translations`` and translate the new ``msgstr ""`` entries.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

from portal import create_app
from portal.extensions import babel
from tests.conftest import base_config, post_form

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "portal" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO_EN = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
RERUN = "run scripts/update-translations, then translate the empty msgstr in " + str(
    PO_EN.relative_to(ROOT))

# %(name)s, %(num)d, %s, %d ... and the escaped percent sign %%.
_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, abort_invalid=True)


def entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def key(message: Message) -> tuple[str | None, Any]:
    return (message.context, message.id)


def label(message: Message) -> str:
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return f"{message.context}|{msgid}" if message.context else msgid


def placeholders(text: str) -> list[str]:
    """The placeholders, and a "%" for each stray percent sign (it breaks Jinja's _())."""
    found = [match.group(0) for match in _PLACEHOLDER.finditer(text)]
    return sorted(found + ["%"] * _PLACEHOLDER.sub("", text).count("%"))


def forms(message: Message) -> list[tuple[str, str]]:
    """(source, translation) pairs: English has msgstr[0] singular, msgstr[1] plural."""
    if isinstance(message.id, tuple):
        singular, plural = message.id[0], message.id[1]
        return [(singular if n == 0 else plural, text) for n, text in enumerate(message.string)]
    return [(message.id, message.string)]


@pytest.fixture(scope="module")
def catalog_en() -> Catalog:
    return read_catalog(PO_EN)


# --- (a) the English catalogue is complete and safe to format ----------------------------

def test_english_catalogue_has_no_untranslated_or_fuzzy_entry(catalog_en: Catalog) -> None:
    assert entries(catalog_en), "the English catalogue is empty"
    fuzzy = [label(m) for m in entries(catalog_en) if m.fuzzy]
    untranslated = [label(m) for m in entries(catalog_en)
                    if not all(text.strip() for _, text in forms(m))]
    assert not fuzzy, f"fuzzy entries (check the English, then remove '#, fuzzy'): {fuzzy}"
    assert not untranslated, f"untranslated entries ({RERUN}): {untranslated}"
    if any(isinstance(m.id, tuple) for m in entries(catalog_en)):
        assert catalog_en.num_plurals == 2, "English has two plural forms"


def test_every_translation_keeps_the_placeholders_of_its_source(catalog_en: Catalog) -> None:
    wrong = []
    for message in entries(catalog_en):
        for source, text in forms(message):
            if placeholders(source) != placeholders(text):
                wrong.append(f"{source!r} -> {text!r}")
                continue
            names = {m.group(1) for m in _PLACEHOLDER.finditer(source) if m.group(1)}
            if names:  # the translation must format exactly as the French does
                try:
                    text % dict.fromkeys(names, 1)
                except (ValueError, TypeError, KeyError) as error:
                    wrong.append(f"{text!r}: {error}")
    assert not wrong, "placeholders differ between French and English:\n" + "\n".join(wrong)


# --- (b) the catalogue is up to date with the sources ------------------------------------

def extract_from_sources(output: Path) -> Catalog:
    """The extraction of scripts/update-translations (babel.cfg), into ``output``."""
    done = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "--quiet", "extract",
         "-F", "babel.cfg", "--ignore-dirs=.* __pycache__", "-o", str(output), "."],
        cwd=ROOT, check=False, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, f"extraction failed:\n{done.stderr}"
    return read_catalog(output)


def test_catalogues_are_up_to_date_with_the_sources(tmp_path: Path,
                                                     catalog_en: Catalog) -> None:
    extracted = extract_from_sources(tmp_path / "messages.pot")
    in_sources = {key(m): label(m) for m in entries(extracted)}
    assert in_sources, "nothing extracted: is babel.cfg right?"
    for path, catalog in ((PO_EN, catalog_en), (POT, read_catalog(POT))):
        in_catalog = {key(m): label(m) for m in entries(catalog)}
        new = sorted(in_sources[k] for k in in_sources.keys() - in_catalog.keys())
        gone = sorted(in_catalog[k] for k in in_catalog.keys() - in_sources.keys())
        assert not new, f"French strings missing from {path.relative_to(ROOT)} ({RERUN}): {new}"
        assert not gone, (f"{path.relative_to(ROOT)} has strings no longer in the sources "
                          f"(run scripts/update-translations): {gone}")


# --- (c) the language switch serves English, then French again --------------------------

@pytest.fixture(scope="module")
def compiled_translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed catalogues compiled afresh, so a missing or stale .mo cannot mislead the
    test. French too: it carries the French plural rule (0 and 1 take the singular)."""
    directory = tmp_path_factory.mktemp("translations")
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        target = directory / po.relative_to(TRANSLATIONS).with_suffix(".mo")
        target.parent.mkdir(parents=True)
        with target.open("wb") as handle:
            write_mo(handle, read_catalog(po), use_fuzzy=False)
    return directory


@pytest.fixture
def app_config(database_url: str, compiled_translations: Path) -> dict[str, Any]:
    return {**base_config(database_url),
            "BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations)}


@pytest.fixture(autouse=True)
def fresh_translations_cache(app: Flask) -> Iterator[None]:
    # Flask-Babel keeps loaded catalogues in one process-wide cache keyed by locale only:
    # empty it so each test of this module reads its own compiled catalogues, and leaves
    # nothing behind for the tests that follow (a French catalogue without its plural rule).
    babel.domain_instance.cache.clear()
    yield
    babel.domain_instance.cache.clear()


def test_application_reads_catalogues_from_portal_translations(database_url: str) -> None:
    application = create_app(base_config(database_url))
    directories = [Path(d) for d in application.extensions["babel"].translation_directories]
    assert directories == [TRANSLATIONS]


def english(catalog: Catalog, msgid: str) -> str:
    message = catalog.get(msgid)
    assert message is not None and message.string, f"no English for {msgid!r}"
    return message.string


def test_language_switch_serves_english_then_french(client: Any, factory: Any,
                                                    catalog_en: Catalog) -> None:
    factory.session(factory.site(), factory.workshop(price_cheques=1), capacity=8)

    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Prochains ateliers" in page and "8 places libres" in page

    response = post_form(client, "/langue", {"lang": "en", "next": "/"}, page="/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert english(catalog_en, "Prochains ateliers") in page
    assert english(catalog_en, "Langue :") in page
    seats = catalog_en.get(("%(num)d place libre", "%(num)d places libres")).string[1]
    cheque = catalog_en.get(("%(num)d chèque APTIC", "%(num)d chèques APTIC")).string[0]
    assert seats % {"num": 8} in page, "plural form of ngettext"
    assert cheque % {"num": 1} in page, "singular form of ngettext"
    assert "Prochains ateliers" not in page

    response = post_form(client, "/langue", {"lang": "fr", "next": "/"}, page="/")
    assert response.status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Prochains ateliers" in page and "8 places libres" in page
    assert english(catalog_en, "Prochains ateliers") not in page


def test_a_logged_in_person_s_language_change_is_kept_and_audited(client: Any, factory: Any,
                                                                   login_as: Any) -> None:
    from portal.extensions import db
    from portal.models.audit import AuditEvent
    from portal.models.vocab import Language

    person = factory.beneficiary()
    login_as(person)
    post_form(client, "/langue", {"lang": "en", "next": "/"}, page="/mon-espace/")
    post_form(client, "/langue", {"lang": "en", "next": "/"}, page="/mon-espace/")  # no change
    db.session.expire_all()
    assert db.session.get(type(person), person.id).preferred_language is Language.EN
    events = db.session.scalars(db.select(AuditEvent).filter_by(
        action="account.language_changed")).all()
    assert [(e.object_id, e.details) for e in events] == [
        (str(person.id), {"previous": "fr", "language": "en"})]


def test_a_request_s_catalogue_follows_a_forced_language_and_back(app: Flask,
                                                                  catalog_en: Catalog) -> None:
    """Templates and filters read the request's catalogue once (portal/i18n.py): a document
    or an e-mail written in another language inside the request (``force_locale``) is in
    that language, and the page around it in the reader's again afterwards."""
    from flask import render_template_string, session
    from flask_babel import force_locale

    from portal import formatting
    from portal.models.vocab import BookingStatus, StaffRole

    page = ('{{ _("Langue :") }} {{ 2|seats_left }} {{ status.label }} {{ role.label }} '
            '{{ current_locale() }}')
    shown = {"status": BookingStatus.PRESENT, "role": StaffRole.RECEPTION}
    seats = catalog_en.get(("%(num)d place libre", "%(num)d places libres")).string[1]
    reception = catalog_en.get("Accueil", context="rôle").string
    in_english = (f"{english(catalog_en, 'Langue :')} {seats % {'num': 2}} "
                  f"{english(catalog_en, 'Présent')} {reception} en")
    in_french = "Langue : 2 places libres Présent Accueil fr"
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert render_template_string(page, **shown) == in_english
        with force_locale("fr"):
            assert render_template_string(page, **shown) == in_french
            assert formatting.cheques(1) == "1 chèque APTIC"
        assert render_template_string(page, **shown) == in_english
    with app.app_context(), app.test_request_context("/"):  # the next request chooses again
        assert render_template_string(page, **shown) == in_french
