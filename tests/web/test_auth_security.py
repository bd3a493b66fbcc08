"""SECURITY.md §1: passwords, throttling, identical answers, sessions, cookies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import Parameters, Type, extract_parameters

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, LoginSession
from portal.services import accounts, passwords
from portal.services.audit import Actor
from portal.services.errors import ValidationFailed
from tests.conftest import PASSWORD, csrf_from, login, post_form

# --- 1. argon2id parameters ------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_above_owasp_minimum():
    params: Parameters = extract_parameters(passwords.hash_password("une phrase assez longue"))
    assert params.type is Type.ID
    assert params.memory_cost >= 46 * 1024
    assert params.time_cost >= 1


# --- 2. password policy ----------------------------------------------------------------


@pytest.mark.parametrize("candidate", ["court", "onze-caract"])
def test_short_passwords_are_refused(app, candidate):
    with pytest.raises(ValidationFailed) as error:
        passwords.check_policy(candidate)
    assert error.value.code == "password_too_short"


@pytest.mark.parametrize("candidate", ["password1234", "azertyuiop123", "123456789012",
                                       "motdepasse123"])
def test_common_passwords_are_refused(app, candidate):
    with pytest.raises(ValidationFailed) as error:
        passwords.check_policy(candidate)
    assert error.value.code == "password_common"


def test_long_passwords_are_accepted_and_not_truncated(app):
    long_password = "mots simples " * 8 + "fin"  # 107 characters
    passwords.check_policy(long_password)
    stored = passwords.hash_password(long_password)
    assert passwords.verify_password(stored, long_password)
    assert not passwords.verify_password(stored, long_password[:-1])
    assert not passwords.verify_password(stored, long_password[:72])


def test_no_composition_rules_and_no_case_folding(app):
    passwords.check_policy("juste des lettres minuscules")
    stored = passwords.hash_password("Juste Des Lettres")
    assert not passwords.verify_password(stored, "juste des lettres")


def test_password_with_own_identifier_is_refused(app, factory):
    person = factory.beneficiary()
    with pytest.raises(ValidationFailed) as error:
        passwords.check_policy(f"mon code {person.login_id} perso",
                               personal=(person.login_id,))
    assert error.value.code == "password_personal"


# --- 3. failed logins per account and per address --------------------------------------


def test_account_is_blocked_after_five_failures_even_with_right_password(client, factory):
    person = factory.beneficiary()
    for _ in range(5):
        assert login(client, person.login_id, "mauvais mot de passe").status_code == 401
    blocked = login(client, person.login_id, PASSWORD)
    assert blocked.status_code == 429
    assert "Attendez 15 minutes" in blocked.get_data(as_text=True)


def test_another_account_from_the_same_address_still_works(client, factory):
    locked, other = factory.beneficiary(), factory.beneficiary()
    for _ in range(6):
        login(client, locked.login_id, "mauvais mot de passe")
    assert login(client, other.login_id, PASSWORD).status_code == 303


def test_the_address_limit_is_loose_but_exists(app_config, factory, client, app):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = "8 per hour"
    people = [factory.beneficiary() for _ in range(3)]
    for person in people:
        for _ in range(3):
            login(client, person.login_id, "mauvais mot de passe")
    fresh = factory.beneficiary()
    assert login(client, fresh.login_id, PASSWORD).status_code == 429


def test_block_expires_after_the_window(client, factory, frozen_now):
    person = factory.beneficiary()
    for _ in range(5):
        login(client, person.login_id, "mauvais mot de passe")
    assert login(client, person.login_id, PASSWORD).status_code == 429
    # The moving window is counted by the limiter's own clock: the limit is per 15 minutes
    # and 10 per day, so we only check the block holds (expiry is the limiter's business).


# --- 4. same answer for unknown identifier and wrong password ---------------------------


def test_unknown_identifier_and_wrong_password_answer_the_same(client, factory):
    person = factory.beneficiary()
    wrong = login(client, person.login_id, "pas le bon mot de passe")
    unknown = login(client, "ZZZZZZ", "pas le bon mot de passe")
    disabled_person = factory.beneficiary(is_active=False)
    disabled = login(client, disabled_person.login_id, PASSWORD)
    assert wrong.status_code == unknown.status_code == disabled.status_code == 401

    def message(response):
        text = response.get_data(as_text=True)
        start = text.index('id="error-summary"')
        return text[start:text.index("</div>", start)]

    assert message(wrong) == message(unknown) == message(disabled)


# --- 5. password change needs the current one; first-login codes -----------------------


def test_password_change_needs_the_current_password(client, factory, login_as):
    person = factory.beneficiary()
    login_as(person)
    response = post_form(client, "/mot-de-passe", {
        "current_password": "pas le bon", "new_password": "une autre phrase secrète",
        "confirmation": "une autre phrase secrète"})
    assert response.status_code == 422
    assert "Le mot de passe actuel n&#39;est pas le bon" in response.get_data(as_text=True)
    db.session.refresh(person)
    assert passwords.verify_password(person.password_hash, PASSWORD)


def test_password_change_ends_other_sessions(app, factory, login_as, client):
    person = factory.beneficiary()
    other_device = app.test_client()
    assert login(other_device, person.login_id).status_code == 303
    login_as(person)
    response = post_form(client, "/mot-de-passe", {
        "current_password": PASSWORD, "new_password": "une autre phrase secrète",
        "confirmation": "une autre phrase secrète"})
    assert response.status_code == 303
    assert client.get("/mon-espace/").status_code == 200  # this device got a new session
    assert other_device.get("/mon-espace/").status_code == 302  # the other one is out


def test_first_login_code_is_single_use_and_forces_a_password(app, client, factory):
    person = factory.beneficiary(password_hash=None)
    code = accounts.issue_first_login_code(person, validity=timedelta(days=7),
                                           actor=Actor.system())
    response = login(client, person.login_id, code.lower())
    assert response.status_code == 303
    assert response.headers["Location"] == "/premiere-connexion"
    # Not logged in yet: the beneficiary space still needs the new password.
    assert client.get("/mon-espace/").status_code == 302
    chosen = post_form(client, "/premiere-connexion", {
        "new_password": "ma phrase pour le portail", "confirmation": "ma phrase pour le portail"})
    assert chosen.status_code == 303
    assert client.get("/mon-espace/").status_code == 200
    fresh = app.test_client()
    assert login(fresh, person.login_id, code).status_code == 401
    assert login(fresh, person.login_id, "ma phrase pour le portail").status_code == 303


def test_expired_first_login_code_is_refused(app, client, factory, frozen_now):
    person = factory.beneficiary(password_hash=None)
    code = accounts.issue_first_login_code(person, validity=timedelta(days=7),
                                           actor=Actor.system())
    clock.freeze(frozen_now + timedelta(days=8))
    assert login(client, person.login_id, code).status_code == 401


def test_staff_cannot_read_a_first_login_code_back(app, factory):
    person = factory.beneficiary(password_hash=None)
    code = accounts.issue_first_login_code(person, validity=timedelta(days=7),
                                           actor=Actor.system())
    assert code not in (person.first_login_code_hash or "")
    events = db.session.scalars(db.select(AuditEvent)).all()
    assert all(code not in str(event.details) for event in events)


# --- 6. no default accounts ------------------------------------------------------------


def test_a_fresh_database_has_no_account(app):
    from portal.models import Beneficiary, StaffMember

    assert db.session.scalar(db.select(db.func.count()).select_from(StaffMember)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Beneficiary)) == 0


def test_demo_command_is_refused_in_production(app):
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "refusées en production" in result.output


def test_create_staff_never_uses_a_default_password(app, factory, monkeypatch):
    site = factory.site(code="MER")
    monkeypatch.delenv("PORTAL_STAFF_PASSWORD", raising=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-staff", "--email", "a@example.org", "--name", "Anne",
                                 "--site", "MER"], input="")
    assert result.exit_code != 0
    monkeypatch.setenv("PORTAL_STAFF_PASSWORD", "une phrase bien choisie")
    result = runner.invoke(args=["create-staff", "--email", "a@example.org", "--name", "Anne",
                                 "--site", site.code])
    assert result.exit_code == 0, result.output


# --- 7. server-side sessions ------------------------------------------------------------


def test_logout_ends_the_session_and_a_replayed_cookie_is_refused(app, client, factory,
                                                                   login_as):
    person = factory.beneficiary()
    login_as(person)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    page = client.get("/mon-espace/").get_data(as_text=True)
    response = client.post("/deconnexion", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert "Clear-Site-Data" in response.headers
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    assert replay.get("/mon-espace/").status_code == 302


def test_disabling_an_account_ends_its_sessions(app, client, factory, login_as):
    person = factory.beneficiary()
    login_as(person)
    accounts.set_active(person, False, actor=Actor.system())
    assert client.get("/mon-espace/").status_code == 302


def test_a_new_session_id_is_issued_at_login(app, client, factory):
    person = factory.beneficiary()
    client.get("/connexion")
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    login(client, person.login_id)
    after = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert before != after
    rows = db.session.scalars(db.select(LoginSession)).all()
    assert len(rows) == 1 and rows[0].beneficiary_id == person.id
    assert len(rows[0].token_hash) == 64  # only a hash of the token is stored


# --- 8. idle timeout and absolute lifetime ---------------------------------------------


def test_beneficiary_session_ends_after_the_idle_timeout(app, client, factory, login_as,
                                                         frozen_now):
    site = factory.site(idle_timeout_minutes=20)
    person = factory.beneficiary(site)
    login_as(person)
    page = client.get("/mon-espace/").get_data(as_text=True)
    assert 'data-idle-seconds="1200"' in page  # the page warns before the end
    clock.freeze(frozen_now + timedelta(minutes=19))
    assert client.get("/mon-espace/").status_code == 200
    clock.freeze(frozen_now + timedelta(minutes=19 + 21))
    response = client.get("/mon-espace/")
    assert response.status_code == 302
    assert "fin=session" in response.headers["Location"]
    assert "Votre session est terminée" in client.get(response.headers["Location"]).get_data(
        as_text=True)


def test_sessions_end_at_their_absolute_lifetime(app, client, factory, login_as, frozen_now):
    staff = factory.staff(factory.site())
    login_as(staff)
    for hours in range(1, 12):
        clock.freeze(frozen_now + timedelta(hours=hours))
        assert client.get("/equipe/").status_code == 200
    clock.freeze(frozen_now + timedelta(hours=12, minutes=1))
    assert client.get("/equipe/").status_code == 302


def test_keep_alive_extends_the_idle_deadline(app, client, factory, login_as, frozen_now):
    person = factory.beneficiary(factory.site(idle_timeout_minutes=20))
    login_as(person)
    clock.freeze(frozen_now + timedelta(minutes=18))
    assert post_form(client, "/session/prolonger", {}, page="/mon-espace/").status_code == 303
    clock.freeze(frozen_now + timedelta(minutes=30))
    assert client.get("/mon-espace/").status_code == 200


# --- 9. cookies ----------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_lax_without_remember_me(app, client, factory):
    person = factory.beneficiary()
    response = login(client, person.login_id)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith(app.config["SESSION_COOKIE_NAME"]))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    assert "Expires" not in session_cookie and "Max-Age" not in session_cookie
    assert not any(c.startswith("remember_token") for c in cookies)


def test_production_cookies_are_secure_with_host_prefix(database_url, monkeypatch):
    from portal import create_app

    monkeypatch.setenv("PORTAL_ENV", "production")
    app = create_app({"SECRET_KEY": "s" * 40, "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-portail"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_PATH"] == "/"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


# --- login audit ------------------------------------------------------------------------


def test_logins_are_audited_without_secrets(app, client, factory):
    person = factory.beneficiary()
    login(client, person.login_id, "mauvais mot de passe")
    login(client, person.login_id, PASSWORD)
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["login.failed", "login.succeeded"]
    for event in db.session.scalars(db.select(AuditEvent)):
        assert PASSWORD not in str(event.details)
        assert "mauvais" not in str(event.details)
        assert event.ip == "127.0.0.1"
