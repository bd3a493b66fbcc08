"""A stolen or planted session cookie gives nothing: login sessions end at logout, at a password
change or reset, when the account is disabled or anonymised, after inactivity and after 12 hours,
for staff and beneficiaries alike; an account is locked after five failed logins; a cookie
planted before login is never the one used after it (docs/security.md#login-sessions)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal import clock
from portal.extensions import db
from portal.models import LoginSession
from portal.models.people import Beneficiary, StaffMember
from portal.models.vocab import StaffRole
from portal.services import accounts, personal_data, registration, team, throttle
from portal.services.audit import Actor
from portal.sessions import TOKEN_KEY
from tests.conftest import PASSWORD, csrf_from, login, post_form

NEW_PASSWORD = "une autre phrase bien à moi"


@dataclass
class Scene:
    app: Flask
    factory: Any
    admin: StaffMember

    def person(self, kind: str) -> StaffMember | Beneficiary:
        site = self.admin.roles[0].site
        if kind == "staff":
            return self.factory.staff(site)
        return self.factory.beneficiary(site)


@pytest.fixture
def scene(app, factory) -> Scene:
    site = factory.site(idle_timeout_minutes=20)
    return Scene(app, factory, factory.staff(site, StaffRole.ADMIN))


HOME = {"staff": "/equipe/", "beneficiary": "/mon-espace/"}


def kind_of(principal: StaffMember | Beneficiary) -> str:
    return "staff" if isinstance(principal, StaffMember) else "beneficiary"


def signed_in(app: Flask, principal: StaffMember | Beneficiary) -> FlaskClient:
    client = app.test_client()
    identifier = principal.email if isinstance(principal, StaffMember) else principal.login_id
    assert login(client, identifier).status_code == 303
    return client


def cookie_of(app: Flask, client: FlaskClient) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def token_in(app: Flask, cookie: str) -> str | None:
    """The login token the signed cookie carries (what the server looks up)."""
    return app.session_interface.get_signing_serializer(app).loads(cookie).get(TOKEN_KEY)


def replayed(app: Flask, cookie: str, principal: StaffMember | Beneficiary) -> int:
    """The status of the person's home page opened by another browser holding ``cookie``."""
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return thief.get(HOME[kind_of(principal)]).status_code


def admin_actor(scene: Scene) -> Actor:
    return Actor.of(scene.admin, "127.0.0.1")


# --- 1. replay of a captured cookie -----------------------------------------------------------


def log_out(scene: Scene, device: FlaskClient, person: Any) -> None:
    page = device.get(HOME[kind_of(person)]).get_data(as_text=True)
    response = device.post("/deconnexion", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303 and "Clear-Site-Data" in response.headers


def change_own_password(scene: Scene, device: FlaskClient, person: Any) -> None:
    response = post_form(device, "/mot-de-passe", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirmation": NEW_PASSWORD})
    assert response.status_code == 303


def reset_by_staff(scene: Scene, device: FlaskClient, person: Any) -> None:
    assert registration.reset_access(person, actor=admin_actor(scene)) == 2


def disable(scene: Scene, device: FlaskClient, person: Any) -> None:
    if isinstance(person, StaffMember):
        assert team.set_active(person, False, actor=admin_actor(scene))
    else:
        accounts.set_active(person, False, actor=admin_actor(scene))


def anonymise(scene: Scene, device: FlaskClient, person: Any) -> None:
    assert personal_data.anonymise(person, admin_actor(scene), "demande")


#: (event, kinds it applies to, does the acting device's other session survive?,
#:  does the device that acted keep a (new) session?)
#: A staff member's password is never reset by someone else (there is no such screen): an
#: administrator disables the account instead.
REPLAY_CASES: list[tuple[str, tuple[str, ...], Callable[..., None], bool, bool]] = [
    ("logout", ("staff", "beneficiary"), log_out, True, False),
    ("own password change", ("staff", "beneficiary"), change_own_password, False, True),
    ("access reset by the staff", ("beneficiary",), reset_by_staff, False, False),
    ("account disabled", ("staff", "beneficiary"), disable, False, False),
    ("record anonymised", ("beneficiary",), anonymise, False, False),
]


def test_a_captured_cookie_is_refused_once_the_session_ends(scene):
    """Each event, for each kind of account: the cookie copied before it is refused afterwards.
    The device that changed its own password goes on with a NEW session (a new token: a copy
    of its old cookie is refused); logging out ends that browser's session only."""
    app = scene.app
    for event, kinds, act, other_survives, actor_goes_on in REPLAY_CASES:
        for kind in kinds:
            person = scene.person(kind)
            device, other_device = signed_in(app, person), signed_in(app, person)
            stolen, stolen_other = cookie_of(app, device), cookie_of(app, other_device)
            assert replayed(app, stolen, person) == 200, (event, kind)  # the copy works before
            act(scene, device, person)
            label = f"{event} ({kind})"
            assert replayed(app, stolen, person) == 302, label
            assert replayed(app, stolen_other, person) == (200 if other_survives else 302), label
            assert (device.get(HOME[kind]).status_code == 200) is actor_goes_on, label
            if actor_goes_on:
                assert token_in(app, cookie_of(app, device)) != token_in(app, stolen), label


# --- 2. idle timeout and absolute lifetime ----------------------------------------------------


def test_idle_timeouts_and_absolute_lifetime_for_staff_and_beneficiaries(scene, frozen_now):
    """Staff: 4 hours without activity; a beneficiary: their site's setting (20 minutes here),
    or the portal's default of 20 minutes without a site; everybody: 12 hours at most even when
    active. An htmx request after the end gets 401 and an HX-Redirect to the login page."""
    app, factory = scene.app, scene.factory
    idle_cases = [
        (scene.person("staff"), timedelta(hours=4)),
        (scene.person("beneficiary"), timedelta(minutes=20)),
        (factory.beneficiary(), app.config["BENEFICIARY_IDLE_TIMEOUT"]),
        (factory.beneficiary(factory.site(idle_timeout_minutes=45)), timedelta(minutes=45)),
    ]
    for person, idle in idle_cases:
        clock.freeze(frozen_now)
        device = signed_in(app, person)
        home = HOME[kind_of(person)]
        page = device.get(home).get_data(as_text=True)
        assert f'data-idle-seconds="{int(idle.total_seconds())}"' in page, home
        clock.freeze(frozen_now + idle - timedelta(minutes=1))
        assert device.get(home).status_code == 200  # active: the deadline moves on
        clock.freeze(frozen_now + 2 * idle - timedelta(minutes=2))
        assert device.get(home).status_code == 200
        stolen = cookie_of(app, device)
        clock.freeze(frozen_now + 3 * idle)
        htmx = device.get(home, headers={"HX-Request": "true"})
        assert htmx.status_code == 401
        assert htmx.headers["HX-Redirect"] == "/connexion?fin=session"
        assert "Votre session est terminée" in device.get(htmx.headers["HX-Redirect"]).get_data(
            as_text=True)
        assert replayed(app, stolen, person) == 302
        later = device.get(home)
        assert later.status_code == 302 and later.headers["Location"].startswith("/connexion")

    for kind in ("staff", "beneficiary"):
        clock.freeze(frozen_now)
        person = scene.person(kind)
        device = signed_in(app, person)
        for minutes in range(15, 12 * 60, 15):  # active every quarter of an hour
            clock.freeze(frozen_now + timedelta(minutes=minutes))
            assert device.get(HOME[kind]).status_code == 200, minutes
        clock.freeze(frozen_now + timedelta(hours=12, minutes=1))
        assert device.get(HOME[kind]).status_code == 302, kind
    reasons = {row.revoked_reason for row in db.session.scalars(db.select(LoginSession))}
    assert {"idle", "expired"} <= reasons


# --- 3. lock-out per account ------------------------------------------------------------------


def test_five_failures_lock_the_account_until_the_window_has_passed(scene):
    """After five failed logins the right password is refused (429) for that account only, for
    staff and beneficiaries; the lock ends by itself when the window has passed (2 seconds here
    instead of 15 minutes: the same counting, the same code)."""
    app = scene.app
    for kind in ("staff", "beneficiary"):
        person, bystander = scene.person(kind), scene.person(kind)
        identifier = person.email if kind == "staff" else person.login_id
        attacker = app.test_client()
        for _ in range(5):
            assert login(attacker, identifier, "mauvais mot de passe").status_code == 401
        blocked = login(app.test_client(), identifier)  # the owner, from another browser
        assert blocked.status_code == 429, kind
        assert "pour ce compte" in blocked.get_data(as_text=True)
        assert signed_in(app, bystander).get(HOME[kind]).status_code == 200

    window = 2
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = f"5 per {window} seconds"
    person = scene.person("beneficiary")
    failures = throttle.login_throttle()
    started = time.monotonic()
    for _ in range(5):  # what a failed login records, without its deliberate slowness
        failures.record_failure(accounts.account_key(person.login_id), "203.0.113.9")
    db.session.commit()  # failures are rows now: the login below must see them
    still_blocked = login(app.test_client(), person.login_id).status_code
    if time.monotonic() - started < window:
        assert still_blocked == 429
    time.sleep(max(0.0, started + window + 0.2 - time.monotonic()))
    assert login(app.test_client(), person.login_id).status_code == 303


# --- 4. fixation ------------------------------------------------------------------------------


def test_a_cookie_planted_before_login_gives_nothing_after_it(scene):
    """An attacker opens the login page, keeps the cookie it gave and plants it in the victim's
    browser; the victim logs in: the browser gets a new cookie with a new login token, and the
    attacker's copy still opens nothing."""
    app = scene.app
    for kind in ("staff", "beneficiary"):
        victim = scene.person(kind)
        attacker = app.test_client()
        attacker.get("/connexion")
        planted = cookie_of(app, attacker)
        assert token_in(app, planted) is None
        browser = app.test_client()
        browser.set_cookie(app.config["SESSION_COOKIE_NAME"], planted)
        identifier = victim.email if kind == "staff" else victim.login_id
        assert login(browser, identifier).status_code == 303
        after = cookie_of(app, browser)
        assert after != planted and token_in(app, after) is not None
        assert browser.get(HOME[kind]).status_code == 200
        assert attacker.get(HOME[kind]).status_code == 302, kind
        assert replayed(app, planted, victim) == 302, kind


def test_each_login_gets_a_new_token_and_only_its_hash_is_stored(scene):
    app = scene.app
    for kind in ("staff", "beneficiary"):
        person = scene.person(kind)
        first, second = signed_in(app, person), signed_in(app, person)
        tokens = {token_in(app, cookie_of(app, first)), token_in(app, cookie_of(app, second))}
        assert len(tokens) == 2 and None not in tokens
        column = LoginSession.staff_id if kind == "staff" else LoginSession.beneficiary_id
        hashes = set(db.session.scalars(db.select(LoginSession.token_hash)
                                        .where(column == person.id)))
        assert len(hashes) == 2 and not hashes & tokens
        assert all(len(h) == 64 for h in hashes)


def test_every_role_of_a_staff_member_comes_with_their_login(client: FlaskClient,
                                                             factory: Any, login_as: Any) -> None:
    """The login reads the session, the person and their roles in one statement (a row per
    role): a member with roles at three sites has the three on every request, and one
    removed is gone from the next request."""
    from portal.models.people import StaffSiteRole

    sites = [factory.site(name=f"Lieu {name}") for name in ("Cerise", "Abricot", "Banane")]
    member = factory.staff(sites[0], StaffRole.ADMIN)
    for site, role in zip(sites[1:], (StaffRole.ANIMATEUR, StaffRole.RECEPTION), strict=True):
        db.session.add(StaffSiteRole(staff_id=member.id, site_id=site.id, role=role))
    db.session.commit()
    login_as(member)
    for _ in range(2):
        page = client.get("/equipe/compte/").get_data(as_text=True)
        shown = [name for name in ("Abricot", "Banane", "Cerise") if f"Lieu {name}" in page]
        assert shown == ["Abricot", "Banane", "Cerise"]
        assert page.index("Lieu Abricot") < page.index("Lieu Banane") < page.index("Lieu Cerise")
    db.session.delete(db.session.scalars(db.select(StaffSiteRole).filter_by(
        staff_id=member.id, site_id=sites[1].id)).one())
    db.session.commit()
    page = client.get("/equipe/compte/").get_data(as_text=True)
    assert "Lieu Abricot" not in page and "Lieu Banane" in page and "Lieu Cerise" in page
