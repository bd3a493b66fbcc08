"""The team's screens: the team list, inviting a colleague (a refused form is shown again with
what was typed, 422), the link shown once, the public invitation page (a password chosen, logged
in; expired, used or unknown said in words, never a 500; the code form rate-limited), roles and
disabling from a colleague's page, my account's sessions, the audit trail viewer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, LoginSession, StaffMember
from portal.models.team import StaffInvitation
from portal.models.vocab import StaffRole
from tests.conftest import csrf_from, login

NEW_PASSWORD = "une girafe lit le journal"


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


@pytest.fixture
def admin(factory, site):
    return factory.staff(site, StaffRole.ADMIN, full_name="Alice Admin")


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    client.token = csrf_from(client.get("/equipe/compte/").get_data(as_text=True))
    return client


def invite_form(site, **changes):
    values = {"email": "nina@example.org", "full_name": "Nina Nouvelle", "site": str(site.id),
              "role": "reception"}
    values.update(changes)
    return values


def invite(client, site, **changes):
    return client.post("/equipe/equipe/inviter",
                       data={**invite_form(site, **changes), "csrf_token": client.token})


def handed_over(page: str) -> tuple[str, str]:
    """The link's path and the code shown once on the "invitation ready" page."""
    link = re.search(r'class="invitation-link" href="https?://[^/"]+(/invitation/[^"]+)"', page)
    code = re.search(r'class="invitation-code">([^<]+)<', page)
    assert link and code, page
    return link.group(1), code.group(1)


def test_the_team_list_shows_roles_state_and_pending_invitations(app, admin, site, factory):
    factory.staff(site, StaffRole.RECEPTION, full_name="Bruno Accueil")
    factory.staff(factory.site(code="LEN"), StaffRole.RECEPTION, full_name="Lina Ailleurs")
    client = signed_in(app, admin)
    invite(client, site)
    page = client.get("/equipe/equipe").get_data(as_text=True)
    assert "Bruno Accueil" in page and "Nina Nouvelle" in page
    assert "Invitation en attente" in page and "Lina Ailleurs" not in page


def test_a_refused_invitation_is_shown_again_with_what_was_typed(app, admin, site):
    client = signed_in(app, admin)
    response = invite(client, site, email="pas-une-adresse", full_name="Nina Nouvelle", role="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="pas-une-adresse"' in page and 'value="Nina Nouvelle"' in page
    assert 'href="#email"' in page and 'href="#role"' in page
    assert db.session.scalar(db.select(StaffInvitation)) is None


def test_the_link_is_shown_once_and_the_colleague_chooses_a_password(app, admin, site):
    client = signed_in(app, admin)
    response = invite(client, site)
    assert response.status_code == 200
    link, _code = handed_over(response.get_data(as_text=True))
    assert "invitation-link" not in client.get("/equipe/equipe").get_data(as_text=True)

    colleague = app.test_client()
    page = colleague.get(link)
    assert page.status_code == 200 and "Nina Nouvelle" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    refused = colleague.post(link, data={"new_password": "court", "confirmation": "",
                                         "csrf_token": token})
    assert refused.status_code == 422
    done = colleague.post(link, data={"new_password": NEW_PASSWORD,
                                      "confirmation": NEW_PASSWORD, "csrf_token": token})
    assert done.status_code == 303 and done.location.endswith("/equipe/")
    assert colleague.get("/equipe/").status_code == 200
    again = app.test_client().get(link)
    assert again.status_code == 410 and "déjà servi" in again.get_data(as_text=True)
    assert login(app.test_client(), "nina@example.org", NEW_PASSWORD).status_code == 303


def test_the_short_code_is_typed_on_the_invitation_page(app, admin, site):
    client = signed_in(app, admin)
    _link, code = handed_over(invite(client, site).get_data(as_text=True))
    colleague = app.test_client()
    token = csrf_from(colleague.get("/invitation").get_data(as_text=True))
    empty = colleague.post("/invitation", data={"code": "", "csrf_token": token})
    assert empty.status_code == 422
    form = colleague.post("/invitation", data={"code": code.lower(), "csrf_token": token})
    assert form.status_code == 200 and 'name="new_password"' in form.get_data(as_text=True)
    done = colleague.post("/invitation", data={"code": code, "new_password": NEW_PASSWORD,
                                               "confirmation": NEW_PASSWORD,
                                               "csrf_token": token})
    assert done.status_code == 303


@pytest.mark.parametrize("path", ["/invitation/inconnu", "/invitation/%C2%B2",
                                  "/invitation/" + "x" * 300])
def test_an_unknown_invitation_is_said_in_words(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "pas reconnu" in response.get_data(as_text=True)


def test_an_expired_invitation_is_said_in_words(app, admin, site):
    client = signed_in(app, admin)
    link, _code = handed_over(invite(client, site).get_data(as_text=True))
    clock.freeze(clock.now() + timedelta(days=8))
    try:
        response = app.test_client().get(link)
    finally:
        clock.unfreeze()
    assert response.status_code == 410 and "a expiré" in response.get_data(as_text=True)


def test_a_new_invitation_replaces_the_link(app, admin, site):
    client = signed_in(app, admin)
    first, _ = handed_over(invite(client, site).get_data(as_text=True))
    second, _ = handed_over(invite(client, site).get_data(as_text=True))
    assert "remplacée" in app.test_client().get(first).get_data(as_text=True)
    assert app.test_client().get(second).status_code == 200


def test_the_invitation_code_form_is_rate_limited(client):
    token = csrf_from(client.get("/invitation").get_data(as_text=True))
    statuses = [client.post("/invitation", data={"code": f"ZZZZZ{n:05d}", "csrf_token": token})
                .status_code for n in range(35)]
    assert statuses.count(429) >= 3


def test_roles_and_disabling_from_the_colleagues_page(app, admin, site, factory):
    colleague = factory.staff(site, StaffRole.RECEPTION, full_name="Bruno Accueil")
    their_browser = app.test_client()
    assert login(their_browser, colleague.email).status_code == 303
    client = signed_in(app, admin)
    page = client.get(f"/equipe/equipe/{colleague.id}").get_data(as_text=True)
    assert "Désactiver le compte" in page
    changed = client.post(f"/equipe/equipe/{colleague.id}/role",
                          data={"site": str(site.id), "role": "animateur",
                                "csrf_token": client.token})
    assert changed.status_code == 303
    db.session.expire_all()
    assert db.session.get(StaffMember, colleague.id).role_at(site.id) is StaffRole.ANIMATEUR
    disabled = client.post(f"/equipe/equipe/{colleague.id}/desactiver",
                           data={"csrf_token": client.token})
    assert disabled.status_code == 303
    assert their_browser.get("/equipe/").status_code == 302  # logged out at once


def test_the_last_admin_is_refused_on_the_page(app, admin, site, factory):
    network = factory.staff(is_network_admin=True)
    client = signed_in(app, network)
    response = client.post(f"/equipe/equipe/{admin.id}/retirer",
                           data={"site": str(site.id), "csrf_token": client.token})
    assert response.status_code == 422
    assert "dernier administrateur" in response.get_data(as_text=True)
    own = signed_in(app, admin).get(f"/equipe/equipe/{admin.id}").get_data(as_text=True)
    assert "Changer le rôle" not in own and "Désactiver le compte" not in own


def test_my_account_lists_sessions_and_ends_the_others(app, admin):
    other_browser = app.test_client()
    assert login(other_browser, admin.email).status_code == 303
    client = signed_in(app, admin)
    page = client.get("/equipe/compte/").get_data(as_text=True)
    assert "cette session" in page and "Fermer cette session" in page
    assert "Administrateur" in page
    ended = client.post("/equipe/compte/sessions/fin-des-autres",
                        data={"csrf_token": client.token})
    assert ended.status_code == 303
    assert other_browser.get("/equipe/").status_code == 302
    assert client.get("/equipe/").status_code == 200
    theirs = db.session.scalar(db.select(LoginSession.id).where(
        LoginSession.staff_id != admin.id).limit(1))
    assert theirs is None or client.post(f"/equipe/compte/sessions/{theirs}/fin",
                                         data={"csrf_token": client.token}).status_code == 404


def test_the_audit_trail_is_read_and_filtered(app, admin, site, factory):
    client = signed_in(app, admin)
    invite(client, site)
    page = client.get("/equipe/journal?action=team.invited").get_data(as_text=True)
    assert "Invitation envoyée" in page and "Nina Nouvelle" in page
    assert "Alice Admin" in page
    assert client.get("/equipe/journal?du=31/12&lieu=%C2%B2&avant=x").status_code == 200
    reception = factory.staff(site, StaffRole.RECEPTION)
    assert signed_in(app, reception).get("/equipe/journal").status_code == 403
    assert db.session.scalar(db.select(AuditEvent.id).where(
        AuditEvent.action == "team.invited")) is not None
