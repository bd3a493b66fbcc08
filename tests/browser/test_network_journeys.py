"""The network view in Chromium: the network administrator (reseau@example.org) opens it,
reads the sites without activity, and follows a site's link to that site's week; the same
page at 320 px without JavaScript keeps its tables in their own scrolling regions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    NARROW,
    NETWORK_ADMIN,
    assert_no_browser_problems,
    check_axe,
    check_reflow,
)

pytestmark = pytest.mark.browser


def test_the_network_admin_opens_the_network_view_and_follows_a_site(
        open_page: Callable[..., Page], storage_state) -> None:
    page = open_page(storage_state=storage_state(NETWORK_ADMIN))
    page.goto("/equipe/reseau")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vue du réseau")
    for heading in ("Aujourd'hui", "Cette semaine", "Lieux sans activité depuis 30 jours",
                    "Chèques pris par lieu et par mois"):
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
    silent = page.get_by_role("region", name="Lieux sans activité depuis 30 jours")
    row = silent.get_by_role("row").filter(has_text="Espace numérique d'Avion")
    expect(row).to_contain_text("jamais")
    cheques = page.get_by_role("region", name="Chèques pris par lieu et par mois")
    expect(cheques.get_by_role("rowheader")).to_have_count(3)  # two sites and the network
    check_axe(page)
    row.get_by_role("link", name="Espace numérique d'Avion").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Programme de la semaine")
    expect(page.get_by_label("Lieu")).to_have_value(page.url.split("site=")[1].split("&")[0])
    assert_no_browser_problems(page)


def test_the_network_view_reads_at_320_px_without_javascript(
        open_page: Callable[..., Page], storage_state) -> None:
    page = open_page(viewport=NARROW, storage_state=storage_state(NETWORK_ADMIN),
                     java_script_enabled=False)
    page.goto("/equipe/reseau")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vue du réseau")
    week = page.get_by_role("region", name="Cette semaine", exact=False)
    expect(week.get_by_role("rowheader", name="Cyberbase de Méricourt")).to_be_visible()
    check_reflow(page)
    assert_no_browser_problems(page)
