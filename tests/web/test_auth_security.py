"""docs/security.md#authentication: passwords, throttling, identical answers, sessions,
cookies, production configuration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import Parameters, Type, extract_parameters

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent
from portal.services import accounts, passwords
from portal.services.audit import Actor
from portal.services.errors import AuthenticationFailed, ValidationFailed
from tests.conftest import PASSWORD, login, post_form

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


def exhaust_the_address(app, factory, limit=8):
    """Failures on several accounts from one address (the tests' client: 127.0.0.1)."""
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = f"{limit} per hour"
    for _ in range(limit // 2):
        person = factory.beneficiary()
        for _ in range(2):
            assert login(app.test_client(), person.login_id, "mauvais mot de passe"
                         ).status_code == 401


def test_a_correct_login_works_when_the_address_is_exhausted(app, factory):
    """A whole room leaves through one address: others' failures never refuse a right password."""
    exhaust_the_address(app, factory)
    beneficiary, staff = factory.beneficiary(), factory.staff()
    assert login(app.test_client(), beneficiary.login_id, PASSWORD).status_code == 303
    assert login(app.test_client(), staff.email, PASSWORD).status_code == 303
    first_timer = factory.beneficiary(password_hash=None)
    code = accounts.issue_first_login_code(first_timer, validity=timedelta(days=7),
                                           actor=Actor.system())
    assert login(app.test_client(), first_timer.login_id, code).headers["Location"] == (
        "/premiere-connexion")


def test_an_exhausted_address_refuses_further_failures(app, factory):
    exhaust_the_address(app, factory)
    person = factory.beneficiary()
    refused = login(app.test_client(), person.login_id, "mauvais mot de passe")
    assert refused.status_code == 429
    assert "depuis ce lieu" in refused.get_data(as_text=True)
    last = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.action == "login.failed" and last.details.get("address_limited") is True
    # Those failures still count for the account: its own limit applies as before.
    for _ in range(4):
        login(app.test_client(), person.login_id, "mauvais mot de passe")
    blocked = login(app.test_client(), person.login_id, PASSWORD)
    assert blocked.status_code == 429 and "pour ce compte" in blocked.get_data(as_text=True)


def test_many_login_requests_from_one_address_never_refuse_another_account(app, factory):
    """The request limit on the login form counts per account and address, not per address."""
    client = app.test_client()
    for n in range(31):  # more than the form's 30 per minute, over many identifiers
        assert login(client, f"INCONNU{n}", "mauvais mot de passe").status_code == 401
    assert login(client, factory.beneficiary().login_id, PASSWORD).status_code == 303


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


@pytest.fixture
def verifications(monkeypatch):
    """Counts the argon2 verifications actually run (and the hashes they ran against)."""
    from argon2 import PasswordHasher

    verified: list[str] = []
    real = PasswordHasher.verify

    def counting(self, hash, password):
        verified.append(hash)
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return verified


def failed_login_paths(factory, frozen_now):
    """Every way a login can fail (but a blocked account), each as a function to call."""
    plain = factory.beneficiary()
    with_code = factory.beneficiary()  # a password, and a new card not used yet
    accounts.issue_first_login_code(with_code, validity=timedelta(days=7), actor=Actor.system())
    card_only = factory.beneficiary(password_hash=None)
    accounts.issue_first_login_code(card_only, validity=timedelta(days=7), actor=Actor.system())
    expired = factory.beneficiary(password_hash=None)
    expired_code = accounts.issue_first_login_code(expired, validity=timedelta(days=-1),
                                                   actor=Actor.system())
    disabled = factory.beneficiary(is_active=False)
    staff, disabled_staff = factory.staff(), factory.staff(is_active=False)
    wrong = "pas le bon mot de passe"

    def attempt(identifier, password):
        return lambda: accounts.authenticate(identifier, password, ip="203.0.113.7")

    return {
        "unknown beneficiary": attempt("ZZZZZZ", wrong),
        "unknown staff": attempt("personne@example.org", wrong),
        "wrong password": attempt(plain.login_id, wrong),
        "wrong password, card code pending": attempt(with_code.login_id, wrong),
        "wrong code, no password yet": attempt(card_only.login_id, wrong),
        "expired code": attempt(expired.login_id, expired_code),
        "disabled account, right password": attempt(disabled.login_id, PASSWORD),
        "staff, wrong password": attempt(staff.email, wrong),
        "disabled staff, right password": attempt(disabled_staff.email, PASSWORD),
    }


def test_every_failed_login_costs_the_same_work(app, factory, frozen_now, verifications):
    """No path can be told from another by its time: same number of argon2 verifications,
    against hashes of the same cost."""
    work = {}
    for name, attempt in failed_login_paths(factory, frozen_now).items():
        verifications.clear()
        with pytest.raises(AuthenticationFailed) as failure:
            attempt()
        assert failure.value.code == "invalid_credentials", name
        work[name] = [extract_parameters(h) for h in verifications]
    expected = [extract_parameters(passwords.HASHER.hash("x"))] * 2
    assert work == dict.fromkeys(work, expected)


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


# --- 7. server-side sessions (replay, timeouts, lock-out, fixation: test_session_replay.py) ---


def test_keep_alive_extends_the_idle_deadline(app, client, factory, login_as, frozen_now):
    person = factory.beneficiary(factory.site(idle_timeout_minutes=20))
    login_as(person)
    clock.freeze(frozen_now + timedelta(minutes=18))
    assert post_form(client, "/session/prolonger", {}, page="/mon-espace/").status_code == 303
    clock.freeze(frozen_now + timedelta(minutes=30))
    assert client.get("/mon-espace/").status_code == 200


# --- 8. cookies ----------------------------------------------------------------------------


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
    app = create_app({"SECRET_KEY": "s" * 40, "SQLALCHEMY_DATABASE_URI": database_url,
                      "PUBLIC_URL": "https://portail.example.fr"})
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
