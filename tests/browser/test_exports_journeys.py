"""Exports in Chromium: an animateur chooses each export in turn (attendance, the activity log,
cheques, people), in CSV and in XLSX, reads how many rows the file will have, downloads it and
opens it: the file has that many rows under its header; the same without JavaScript."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from portal import clock
from tests.browser.conftest import STAFF, LiveServer, assert_no_browser_problems, submit

pytestmark = pytest.mark.browser

EXPORTS = [("Présences de la période", "csv", "Date"),
           ("Journal des accompagnements (modèle national)", "xlsx", "Date"),
           ("Chèques pris", "csv", "Numéro"),
           ("Personnes du lieu", "xlsx", "Numéro")]


def _prepare(page: Page, what: str, fmt: str) -> int:
    page.goto("/equipe/rapports/exports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")
    page.get_by_label(what, exact=True).check()
    if page.locator("select#site").count():
        page.locator("select#site").select_option(index=1)
    page.get_by_label("Type de période").select_option("annee")
    page.get_by_label(re.compile("^Année")).fill(str(clock.today_local().year))
    page.get_by_label(re.compile(f"^{fmt.upper()} ")).check()
    response = submit(page, "Préparer l'export")
    assert response is not None and response.status == 200
    status = page.get_by_role("status").filter(has_text="Le fichier aura")
    expect(status).to_be_visible()
    return int(re.search(r"(\d+) ligne", status.inner_text()).group(1))


def _rows(path: Path, fmt: str) -> list[list[object]]:
    if fmt == "csv":
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                               delimiter=";"))
    sheet = openpyxl.load_workbook(path).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _download(page: Page, fmt: str, tmp_path: Path) -> list[list[object]]:
    link = page.get_by_role("link", name=re.compile(r"^Télécharger "))
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(f".{fmt}")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    return _rows(target, fmt)


def test_an_animateur_downloads_each_export_and_opens_it(
        open_page: Callable[..., Page], storage_state, live_server: LiveServer,
        tmp_path: Path) -> None:
    page = open_page(storage_state=storage_state(STAFF), accept_downloads=True)
    for what, fmt, first_header in EXPORTS:
        announced = _prepare(page, what, fmt)
        rows = _download(page, fmt, tmp_path)
        assert rows[0][0] == first_header, what
        assert len(rows) - 1 == announced, what
    assert_no_browser_problems(page)


def test_an_export_without_javascript(open_page: Callable[..., Page], storage_state,
                                      live_server: LiveServer, tmp_path: Path) -> None:
    page = open_page(storage_state=storage_state(STAFF), java_script_enabled=False,
                     accept_downloads=True)
    announced = _prepare(page, "Présences de la période", "csv")
    rows = _download(page, "csv", tmp_path)
    assert rows[0][:4] == ["Date", "Heure", "Lieu", "Atelier"]
    assert len(rows) - 1 == announced
