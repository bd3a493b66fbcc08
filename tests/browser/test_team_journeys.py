"""The team in Chromium: an administrator invites a colleague, who opens the link, chooses a
password and lands on the staff screens; the administrator finds the invitation in the team
list and in the audit trail. Every screen of the way passes axe-core (at 320 px too) and the
W3C validator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import Site
from portal.models.vocab import StaffRole
from tests.browser.conftest import (
    NARROW,
    LiveServer,
    assert_no_browser_problems,
    check_axe,
    check_html,
    check_reflow,
    log_in,
    submit,
)
from tests.conftest import Factory

pytestmark = pytest.mark.browser

NEW_PASSWORD = "le phare veille sur la baie"


@pytest.fixture(scope="module")
def administrator(live_server: LiveServer, password_hash: str) -> str:
    """An administrator of the seeded site (the shared seed has none): their e-mail."""
    with live_server.app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(code="MER"))
        admin = Factory(password_hash).staff(site, StaffRole.ADMIN,
                                             email="aline.admin@example.org",
                                             full_name="Aline Admin")
        email = admin.email
        db.session.remove()
    return email


def test_an_admin_invites_a_colleague_who_chooses_a_password_and_is_logged_in(
        open_page: Callable[..., Page], live_server: LiveServer, administrator: str) -> None:
    seeded = live_server.accounts
    pages: dict[str, str] = {}
    admin = open_page()
    log_in(admin, administrator, seeded.password)
    admin.get_by_role("link", name="Équipe", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("L'équipe")
    expect(admin.get_by_role("row").filter(has_text=seeded.staff_name)).to_have_count(1)
    pages["equipe-admin"] = admin.content()
    admin.get_by_role("link", name="Inviter un ou une collègue").click()

    # refused first: every problem listed, what was typed kept
    admin.get_by_label("Prénom et nom").fill("Inès Nouvelle")
    admin.get_by_label("Adresse e-mail").fill("ines@")
    response = submit(admin, "Créer l'invitation")
    assert response.status == 422
    expect(admin.locator("#error-summary")).to_be_visible()
    expect(admin.get_by_label("Prénom et nom")).to_have_value("Inès Nouvelle")
    check_axe(admin)
    pages["invitation-refusee"] = admin.content()

    admin.get_by_label("Adresse e-mail").fill("ines.nouvelle@example.org")
    admin.get_by_label("Animateur").check()
    response = submit(admin, "Créer l'invitation")
    assert response.status == 200
    expect(admin.get_by_role("heading", level=1)).to_have_text("Invitation prête")
    link = admin.locator(".invitation-link").get_attribute("href")
    assert link and link.startswith(live_server.url + "/invitation/")
    check_axe(admin)
    pages["invitation-prete"] = admin.content()

    # the colleague, on another computer, at 320 px
    colleague = open_page(viewport=NARROW)
    colleague.goto(link)
    expect(colleague.get_by_role("heading", level=1)).to_have_text("Rejoindre l'équipe")
    check_axe(colleague)
    check_reflow(colleague)
    pages["invitation-mot-de-passe"] = colleague.content()
    colleague.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    colleague.get_by_label("Écrivez-le une deuxième fois").fill(NEW_PASSWORD)
    response = submit(colleague, "Enregistrer mon mot de passe")
    assert response.ok and colleague.url == live_server.url + "/equipe/"
    expect(colleague.locator(".flash-success")).to_contain_text("Bienvenue dans l'équipe")
    colleague.get_by_role("link", name="Mon compte", exact=True).click()
    expect(colleague.get_by_text("Animateur")).not_to_have_count(0)
    expect(colleague.get_by_text("cette session")).to_have_count(1)

    # the link served once
    colleague.goto(link)
    expect(colleague.get_by_role("alert")).to_contain_text("déjà servi")

    # back to the administrator: the colleague's page, the audit trail
    admin.goto("/equipe/equipe")
    admin.get_by_role("link", name="Inès Nouvelle").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Inès Nouvelle")
    check_axe(admin)
    pages["fiche-collegue"] = admin.content()
    admin.goto("/equipe/journal")
    admin.get_by_label("Action").select_option(label="Invitation acceptée")
    submit(admin, "Filtrer")
    expect(admin.locator(".journal-event")).to_have_count(1)
    expect(admin.locator(".journal-event")).to_contain_text("Inès Nouvelle")
    check_axe(admin)
    pages["journal"] = admin.content()
    check_html(pages)
    assert_no_browser_problems(admin)
    assert_no_browser_problems(colleague)
