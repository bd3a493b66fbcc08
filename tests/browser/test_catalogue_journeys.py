"""The catalogue in Chromium: an animateur creates a workshop whose description has two
paragraphs and a list, watches the preview follow the typing, saves it, finds it in the list,
edits it and archives it; the same with the keyboard alone for the preview button."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import STAFF, LiveServer, assert_no_browser_problems, check_axe, submit

pytestmark = pytest.mark.browser

DESCRIPTION = ("Venez découvrir votre tablette.\n\nNous verrons ensemble :\n- l'écran "
               "d'accueil\n- les réglages")


def test_an_animateur_creates_previews_edits_and_archives_a_workshop(
        open_page: Callable[..., Page], storage_state, live_server: LiveServer) -> None:
    page = open_page(storage_state=storage_state(STAFF))
    page.goto("/equipe/")
    page.get_by_role("link", name="Catalogue", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue des ateliers")
    page.get_by_role("link", name="Créer un atelier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un atelier")

    page.get_by_label("Titre").fill("Ma tablette au quotidien")
    page.get_by_label("Description").fill(DESCRIPTION)
    preview = page.locator("#preview-body")
    # the live preview: paragraphs and a list, as the beneficiary will see them
    expect(preview.locator("p")).to_have_text(["Venez découvrir votre tablette.",
                                               "Nous verrons ensemble :"])
    expect(preview.locator("li")).to_have_text(["l'écran d'accueil", "les réglages"])
    expect(preview.get_by_role("heading", level=3)).to_have_text("Ma tablette au quotidien")
    page.get_by_label("Prendre en main du matériel").check()
    page.get_by_label("Durée (minutes)").fill("90")
    page.get_by_label("Prix en chèques APTIC").fill("2")
    page.get_by_label("Objectifs (un par ligne)").fill("Allumer sa tablette")
    expect(preview.locator("li")).to_have_text(["l'écran d'accueil", "les réglages",
                                                "Allumer sa tablette"])
    check_axe(page)
    response = submit(page, "Enregistrer l'atelier")
    assert response.status == 200 and page.url.endswith("/equipe/catalogue")
    expect(page.locator(".flash-success")).to_contain_text("Ma tablette au quotidien")
    row = page.get_by_role("row").filter(has_text="Ma tablette au quotidien")
    expect(row).to_contain_text("1 h 30")

    row.get_by_role("link", name=re.compile("^Modifier")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ma tablette au quotidien")
    page.get_by_label("Titre").fill("Ma tablette, pas à pas")
    expect(page.locator("#preview-body h3")).to_have_text("Ma tablette, pas à pas")
    submit(page, "Enregistrer l'atelier")
    expect(page.locator(".flash-success")).to_contain_text("Ma tablette, pas à pas")

    row = page.get_by_role("row").filter(has_text="Ma tablette, pas à pas")
    with page.expect_navigation():
        row.get_by_role("button", name=re.compile("^Archiver")).click()
    expect(page.locator(".flash-success")).to_contain_text("est archivé")
    expect(page.get_by_role("row").filter(has_text="Ma tablette, pas à pas")).to_have_count(0)
    page.get_by_label("Afficher", exact=True).select_option("archives")
    submit(page, "Chercher")
    expect(page.get_by_role("row").filter(has_text="Ma tablette, pas à pas")).to_have_count(1)
    assert_no_browser_problems(page)


def test_the_preview_button_works_without_javascript_and_with_the_keyboard(
        open_page: Callable[..., Page], storage_state, live_server: LiveServer) -> None:
    page = open_page(storage_state=storage_state(STAFF), java_script_enabled=False)
    page.goto("/equipe/catalogue/ateliers/nouveau")
    page.get_by_label("Titre").fill("Sans JavaScript")
    page.get_by_label("Description").fill(DESCRIPTION)
    page.get_by_role("button", name="Aperçu", exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    preview = page.locator("#preview-body")
    expect(preview.locator("li")).to_have_text(["l'écran d'accueil", "les réglages"])
    expect(page.get_by_label("Titre")).to_have_value("Sans JavaScript")
    # a refused save keeps what was typed and names the problem
    response = submit(page, "Enregistrer l'atelier")
    assert response.status == 422
    expect(page.locator("#error-summary")).to_contain_text("Choisissez au moins un thème")
    expect(page.get_by_label("Description")).to_have_value(DESCRIPTION)
