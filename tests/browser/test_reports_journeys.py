"""The dashboard in Chromium: an animateur opens "Rapports", chooses the month of the seeded
past session, reads a key figure and the data table of a chart (SVG drawn by the server);
the network administrator switches to the whole network, then to the network view and the
exports of the same period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.clock import today_local
from tests.browser.conftest import (
    NETWORK_ADMIN,
    STAFF,
    LiveServer,
    assert_no_browser_problems,
    check_axe,
)

pytestmark = pytest.mark.browser


def _past_month() -> str:
    """The month of the seeded past session (12 days ago), where Nadia was present."""
    return (today_local() - timedelta(days=12)).strftime("%Y-%m")


def test_an_animateur_reads_the_figures_of_a_month(open_page: Callable[..., Page],
                                                     storage_state,
                                                     live_server: LiveServer) -> None:
    page = open_page(storage_state=storage_state(STAFF))
    page.goto("/equipe/")
    page.get_by_role("link", name="Rapports", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapports d'activité")
    page.get_by_label("Période", exact=True).select_option("mois")
    page.get_by_label("Mois", exact=True).fill(_past_month())
    page.get_by_role("button", name="Afficher les chiffres").click()
    expect(page.locator(".lead")).to_contain_text("Cyberbase de Méricourt")
    held = page.locator(".key-figure", has_text="séances tenues").locator("dd")
    assert int(held.inner_text()) >= 1
    collective = page.locator(".key-figure", has_text="accompagnements collectifs")
    assert int(collective.locator("dd").inner_text()) >= 1
    chart = page.get_by_role("figure", name="Accompagnements par mois")
    expect(chart.get_by_role("img", name="Accompagnements par mois")).to_be_visible()
    table = chart.get_by_role("table", name="Données : Accompagnements par mois")
    expect(table.get_by_role("columnheader")).to_have_text(["Mois", "Accompagnements"])
    assert int(table.locator("tbody td").first.inner_text()) >= 1
    expect(page.get_by_role("heading", name="Comment ces chiffres sont comptés")).to_be_visible()
    check_axe(page)
    assert_no_browser_problems(page)


def test_the_network_administrator_switches_to_the_whole_network(
        open_page: Callable[..., Page], storage_state, live_server: LiveServer) -> None:
    page = open_page(storage_state=storage_state(NETWORK_ADMIN))
    page.goto("/equipe/rapports?site=" + "reseau")
    page.get_by_label("Lieu", exact=True).select_option(label="Cyberbase de Méricourt")
    page.get_by_role("button", name="Afficher les chiffres").click()
    expect(page.locator(".lead")).to_contain_text("Cyberbase de Méricourt")
    page.get_by_label("Lieu", exact=True).select_option(label="Tout le réseau")
    page.get_by_role("button", name="Afficher les chiffres").click()
    expect(page.locator(".lead")).to_contain_text("Tout le réseau")
    expect(page.get_by_role("link", name="Télécharger le rapport (PDF)")).to_be_visible()
    # From the figures to the network's day and week, then to the exports of the same period.
    page.get_by_role("link", name="Vue du réseau : aujourd'hui et la semaine").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vue du réseau")
    expect(page.get_by_role("link", name="Rapports", exact=True)).to_have_attribute(
        "aria-current", "page")
    page.go_back()
    page.get_by_role("link", name="Exports pour un tableur (CSV, XLSX)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")
    expect(page.get_by_label("Lieu", exact=True)).to_have_value("reseau")
    assert_no_browser_problems(page)
