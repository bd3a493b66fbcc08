"""Refused forms in Chromium: the summary takes the focus, its links lead to the fields, each
field says what is wrong; with and without JavaScript, at 320 px."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    BENEFICIARY,
    NARROW,
    LiveServer,
    check_axe,
    check_reflow,
    submit,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("script", [True, False], ids=["js", "no-js"])
def test_an_empty_login_focuses_the_summary_whose_links_lead_to_the_fields(
        script: bool, open_page: Callable[..., Page]) -> None:
    page = open_page(viewport=NARROW, java_script_enabled=script)
    page.goto("/connexion")
    expect(page.get_by_label("Identifiant ou adresse e-mail")).to_be_focused()
    response = submit(page, "Se connecter")
    assert response.status == 422
    summary = page.get_by_role("alert").filter(has_text="Il y a 2 problèmes à corriger")
    expect(summary).to_be_focused()
    identifier = page.get_by_label("Identifiant ou adresse e-mail")
    expect(identifier).to_have_attribute("aria-invalid", "true")
    expect(identifier).to_have_accessible_description(
        "Erreur : Écrivez votre identifiant. Il est écrit sur votre carte d'accès, "
        "par exemple : K7P-M3Q.")
    expect(page.get_by_label("Mot de passe", exact=True)).to_have_accessible_description(
        "Erreur : Écrivez votre mot de passe. Première connexion ? Écrivez le code imprimé "
        "sur votre carte.")
    summary.get_by_role("link", name="Écrivez votre mot de passe.").click()
    expect(page.get_by_label("Mot de passe", exact=True)).to_be_focused()
    if script:
        check_axe(page)
        check_reflow(page)


def test_the_profile_names_every_problem_at_once(
        open_page: Callable[..., Page], storage_state: Callable[[str], Any],
        live_server: LiveServer) -> None:
    page = open_page(viewport=NARROW, storage_state=storage_state(BENEFICIARY))
    page.goto("/mon-espace/profil")
    page.get_by_label("Téléphone", exact=True).fill("pas un numéro")
    page.get_by_label("Code postal").fill("6221")
    response = submit(page, "Enregistrer")
    assert response.status == 422
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(2)
    for label in ("Téléphone", "Code postal"):
        expect(page.get_by_label(label, exact=True)).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link", name="Le code postal a 5 chiffres.").click()
    expect(page.get_by_label("Code postal")).to_be_focused()
    check_axe(page)
    check_reflow(page)
