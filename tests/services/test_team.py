"""The team (``services/team.py``): invitations (single use, expiry, replaced by a new one,
unknown tokens), roles per site (the last administrator stays, nobody changes their own role),
disabling an account (its sessions end at once), and refusals across sites."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, LoginSession, OutboxMessage, StaffMember, StaffSiteRole
from portal.models.team import StaffInvitation
from portal.models.vocab import StaffRole
from portal.services import team
from portal.services.audit import Actor
from portal.services.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.services.team import InvitationInput
from tests.conftest import login

pytestmark = pytest.mark.usefixtures("frozen")

NEW_PASSWORD = "une girafe lit le journal"


@pytest.fixture
def other_site(factory):
    return factory.site(code="LEN", name="Cyberbase de Lens")


@pytest.fixture
def admin(factory, site):
    return factory.staff(site, StaffRole.ADMIN, full_name="Alice Admin")


@pytest.fixture
def admin_actor(admin):
    return Actor.of(admin)


def invite(site, actor, email="nouvelle@example.org", role="reception", **kwargs):
    return team.invite(InvitationInput(email=email, full_name="Nina Nouvelle", site=str(site.id),
                                       role=role), actor=actor, **kwargs)


def actions(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == name)))


# --- invitations ---------------------------------------------------------------------------


def test_an_invitation_creates_the_account_without_password_and_keeps_only_hashes(
        site, admin_actor):
    issued = invite(site, admin_actor, link_for=lambda token: f"https://portail.test/i/{token}")
    staff = db.session.get(StaffMember, issued.staff.id)
    assert staff.password_hash is None and staff.role_at(site.id) is StaffRole.RECEPTION
    row = db.session.scalar(db.select(StaffInvitation))
    assert issued.token not in (row.token_hash, row.code_hash)
    assert row.expires_at == clock.now() + timedelta(days=7)
    message = db.session.scalar(db.select(OutboxMessage))
    assert message.beneficiary_id is None and message.recipient == "nouvelle@example.org"
    assert issued.token in message.body
    event = actions("team.invited")[0]
    assert event.site_id == site.id and issued.token not in str(event.details)


def test_the_invitation_e_mail_is_in_the_colleague_s_language_not_the_screen_s(
        site, admin_actor):
    with force_locale("en"):
        invite(site, admin_actor, link_for=lambda token: f"https://portail.test/i/{token}")
    message = db.session.scalar(db.select(OutboxMessage))
    assert message.subject.startswith("Invitation à rejoindre l'équipe")
    assert "Ce lien ne sert qu'une fois" in message.body


def test_the_invitation_is_accepted_once_with_the_link_or_the_code(site, admin_actor):
    issued = invite(site, admin_actor)
    staff = team.accept(issued.token, NEW_PASSWORD, NEW_PASSWORD)
    assert staff.password_hash and staff.last_login_at == clock.now()
    with pytest.raises(NotAllowed) as used:
        team.accept(issued.token, NEW_PASSWORD, NEW_PASSWORD)
    assert used.value.code == "invitation_used"
    with pytest.raises(NotAllowed):
        team.find_invitation(issued.code)
    assert len(actions("team.invitation_accepted")) == 1


def test_the_short_code_is_read_with_a_dash_and_in_lower_case(site, admin_actor):
    issued = invite(site, admin_actor)
    typed = f"{issued.code[:5]}-{issued.code[5:]}".lower()
    assert team.find_invitation(typed).staff_id == issued.staff.id


def test_an_invitation_expires_after_seven_days(site, admin_actor):
    issued = invite(site, admin_actor)
    clock.freeze(clock.now() + timedelta(days=7, seconds=1))
    with pytest.raises(NotAllowed) as expired:
        team.accept(issued.token, NEW_PASSWORD, NEW_PASSWORD)
    assert expired.value.code == "invitation_expired"
    assert db.session.get(StaffMember, issued.staff.id).password_hash is None


def test_a_new_invitation_revokes_the_previous_one(site, admin_actor):
    first = invite(site, admin_actor)
    second = invite(site, admin_actor)
    with pytest.raises(NotAllowed) as revoked:
        team.find_invitation(first.token)
    assert revoked.value.code == "invitation_revoked"
    assert team.find_invitation(second.token).staff_id == first.staff.id
    assert actions("team.invited")[-1].details["previous_revoked"] == 1


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "z" * 500, "../../etc"])
def test_a_wrong_token_is_refused_in_words(site, admin_actor, token):
    invite(site, admin_actor)
    with pytest.raises(NotAllowed) as unknown:
        team.find_invitation(token)
    assert unknown.value.code == "invitation_unknown"


def test_the_chosen_password_follows_the_portal_rules(site, admin_actor):
    issued = invite(site, admin_actor)
    with pytest.raises(ValidationFailed) as refused:
        team.accept(issued.token, "court", "autre")
    assert set(refused.value.details["fields"]) == {"new_password", "confirmation"}
    assert team.find_invitation(issued.token)  # still usable


def test_inviting_an_existing_account_gives_it_the_role_without_an_invitation(
        site, other_site, admin_actor, factory):
    colleague = factory.staff(other_site, StaffRole.ANIMATEUR, email="claude@example.org")
    issued = invite(site, admin_actor, email="Claude@Example.org", role="animateur")
    assert issued.token is None and issued.staff.id == colleague.id
    assert colleague.role_at(site.id) is StaffRole.ANIMATEUR
    assert db.session.scalar(db.select(StaffInvitation)) is None
    with pytest.raises(Conflict):
        invite(site, admin_actor, email="claude@example.org")


def test_an_invitation_needs_manage_team_at_the_chosen_site(site, other_site, factory):
    animateur = Actor.of(factory.staff(site, StaffRole.ANIMATEUR))
    with pytest.raises(NotAllowed):
        invite(site, animateur)
    admin_here = Actor.of(factory.staff(site, StaffRole.ADMIN))
    with pytest.raises(NotFound):
        invite(other_site, admin_here)
    with pytest.raises(ValidationFailed) as missing:
        team.invite(InvitationInput(email="pas-une-adresse", full_name="", site="", role="chef"),
                    actor=admin_here)
    assert set(missing.value.details["fields"]) == {"email", "full_name", "site", "role"}
    assert db.session.scalar(db.select(StaffInvitation)) is None


# --- roles -----------------------------------------------------------------------------------


def test_a_role_is_changed_and_removed_with_the_audit(site, admin, admin_actor, factory):
    colleague = factory.staff(site, StaffRole.RECEPTION)
    assert team.change_role(colleague, site.id, "animateur", actor=admin_actor)
    assert colleague.role_at(site.id) is StaffRole.ANIMATEUR
    assert actions("team.role_changed")[0].details == {"previous": "reception",
                                                        "role": "animateur"}
    assert not team.change_role(colleague, site.id, "animateur", actor=admin_actor)
    team.remove_role(colleague, site.id, actor=admin_actor)
    assert colleague.roles == [] and actions("team.role_removed")[0].site_id == site.id


def test_nobody_removes_the_last_admin_of_a_site(site, admin, factory):
    network = Actor.of(factory.staff(is_network_admin=True))
    with pytest.raises(Conflict) as last:
        team.change_role(admin, site.id, "reception", actor=network)
    assert last.value.code == "last_admin"
    with pytest.raises(Conflict):
        team.remove_role(admin, site.id, actor=network)
    second = factory.staff(site, StaffRole.ADMIN)
    team.remove_role(admin, site.id, actor=Actor.of(second))
    assert admin.roles == []


def test_a_site_admin_does_not_change_their_own_role(site, admin, admin_actor, factory):
    factory.staff(site, StaffRole.ADMIN)  # not the last admin: only "own role" refuses
    with pytest.raises(NotAllowed) as own:
        team.change_role(admin, site.id, "reception", actor=admin_actor)
    assert own.value.code == "own_role"
    with pytest.raises(NotAllowed):
        team.remove_role(admin, site.id, actor=admin_actor)


def test_roles_are_changed_only_where_the_actor_manages_the_team(site, other_site, factory):
    mixed = factory.staff(site, StaffRole.ADMIN)
    mixed.roles.append(StaffSiteRole(site_id=other_site.id, role=StaffRole.ANIMATEUR))
    db.session.commit()
    colleague = factory.staff(other_site, StaffRole.RECEPTION)
    with pytest.raises(NotAllowed):
        team.change_role(colleague, other_site.id, "admin", actor=Actor.of(mixed))
    stranger = factory.staff(factory.site(code="ARR"), StaffRole.RECEPTION)
    with pytest.raises(NotFound):
        team.member_for(mixed, stranger.id)
    with pytest.raises(NotAllowed):
        team.member_for(mixed, colleague.id)


# --- disabling -------------------------------------------------------------------------------


def test_disabling_ends_every_session_at_once(app, site, admin_actor, factory):
    colleague = factory.staff(site, StaffRole.RECEPTION)
    browser = app.test_client()
    assert login(browser, colleague.email).status_code == 303
    assert browser.get("/equipe/").status_code == 200
    team.set_active(colleague, False, actor=admin_actor)
    assert db.session.scalar(db.select(LoginSession).where(
        LoginSession.staff_id == colleague.id, LoginSession.revoked_at.is_(None))) is None
    next_request = browser.get("/equipe/")
    assert next_request.status_code == 302 and "/connexion" in next_request.location
    event = actions("account.disabled")[0]
    assert event.site_id == site.id and event.details == {"sessions_ended": 1}
    assert team.set_active(colleague, True, actor=admin_actor)
    assert colleague.is_active and actions("account.enabled")


def test_disabling_rules(site, other_site, admin, admin_actor, factory):
    with pytest.raises(NotAllowed):
        team.set_active(admin, False, actor=admin_actor)  # oneself
    network_admin = factory.staff(site, StaffRole.ADMIN, is_network_admin=True)
    with pytest.raises(NotAllowed):
        team.set_active(network_admin, False, actor=admin_actor)
    both = factory.staff(site, StaffRole.RECEPTION)
    both.roles.append(StaffSiteRole(site_id=other_site.id, role=StaffRole.RECEPTION))
    db.session.commit()
    with pytest.raises(NotAllowed) as elsewhere:
        team.set_active(both, False, actor=admin_actor)
    assert elsewhere.value.code == "other_sites" and both.is_active
    with pytest.raises(NotFound):
        team.set_active(factory.staff(other_site, StaffRole.RECEPTION), False,
                        actor=admin_actor)
    assert team.set_active(both, False, actor=Actor.of(network_admin))


# --- one's own sessions ----------------------------------------------------------------------


def test_ending_one_of_ones_own_sessions(app, site, admin, factory):
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        assert login(browser, admin.email).status_code == 303
    rows = team.open_sessions(admin)
    assert len(rows) == 2
    other = factory.staff(site, StaffRole.RECEPTION)
    with pytest.raises(NotFound):
        team.end_session(other, rows[0].id, actor=Actor.of(other), current=None)
    team.end_session(admin, rows[0].id, actor=Actor.of(admin), current=rows[1])
    assert [r.id for r in team.open_sessions(admin)] == [rows[1].id]
    assert team.end_other_sessions(admin, actor=Actor.of(admin), current=rows[1]) == 0


def test_a_device_is_said_in_words():
    agent = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/120.0 Safari/537.36")
    assert team.device_in_words(agent) == "Chrome sur Windows"
    assert team.device_in_words("") == "Appareil inconnu"
